"""`make checker`: train the claim verifier that ships in ``rag/weights/claim-verifier``.

A cross-encoder (sentence-transformers' ``CrossEncoder`` training API) reads (evidence
window, claim) and says supported / contradicted / not enough information. It starts from
the packaged all-MiniLM-L6-v2 (the embedder's own weights: nothing is downloaded) and learns
from the human-labelled pairs of ``../shared/eval/claims/`` that are not kept for dev figures
(SICK, Climate-FEVER, COVID-Fact, SciFact) plus in-domain pairs made from PubMedQA abstract
sentences: each sentence against itself (supported), altered one way by ``rag.alterations``
(contradicted), and against another sentence of its abstract (not enough information).
Seeded and pinned to its inputs, so the same data gives the same weights; the weights are
stored in half precision with their SHA-256 beside them (``rag.verifier`` checks it).
"""

from __future__ import annotations

import hashlib
import json
import random
import time
from pathlib import Path
from typing import Any

from rag.alterations import make_claims
from rag.text import sentence_spans

LABELS = ("supported", "contradicted", "nei")
TRAIN_SETS = ("sick_train", "sick_trial", "climatefever_evidence", "covidfact_train",
              "scifact_rte_train")
"""The shared sets trained on: everything but the news and health sets kept for dev
figures (frank, cliff, goyal21, healthver) and the other splits of the trained sources."""
CAP_PER_LABEL = {"climate-fever": 1200, "sick": 1000}
"""Pairs kept per label of a set: Climate-FEVER is two-thirds "not enough info" (capped so it
does not teach that answer), and SICK's everyday captions need not outweigh the rest; this
also keeps training within half an hour on 2 cores."""
LABEL_OF = {"supported": "supported", "contradicted": "contradicted", "nei": "nei",
            "partial": "nei", "overstated": "contradicted"}
REFUTING = ("scifact-rte", "covid-fact")
"""Two-way sets whose "unsupported" pairs are refutations (SciFact's RTE copy, COVID-Fact's
machine-altered claims): read as contradicted."""


MAX_TOKENS = 160
"""Word pieces of (window, claim) read; windows are one to three sentences."""


def _label(row: dict[str, Any]) -> str | None:
    if row["label"] == "unsupported":
        return "contradicted" if row["dataset"] in REFUTING else None
    return LABEL_OF.get(row["label"])


def shared_pairs(folder: Path, rng: random.Random) -> list[tuple[str, str, int]]:
    """(premise, claim, label index) from the training sets of ``folder``."""
    out = []
    for name in TRAIN_SETS:
        rows = [json.loads(line) for line in (folder / f"{name}.jsonl").read_text().split("\n")
                if line.strip()]
        rng.shuffle(rows)
        kept: dict[tuple[str, str], int] = {}
        for row in rows:
            label = _label(row)
            cap = CAP_PER_LABEL.get(row["dataset"])
            if label is None or (cap and kept.get((row["dataset"], label), 0) >= cap):
                continue
            kept[(row["dataset"], label)] = kept.get((row["dataset"], label), 0) + 1
            out.append((row["premise"], row["claim"], LABELS.index(label)))
    return out


def in_domain_pairs(corpus: Path, per_kind: int, rng: random.Random, seed: int,
                    kept_out: Path | None = None) -> list[tuple[str, str, int]]:
    """Pairs from abstract sentences: altered ones (contradicted), unaltered ones with the
    sentence itself, sometimes with its neighbour as a window (supported), and with another
    sentence of the same abstract (not enough information). The abstracts of ``kept_out``
    (a ``rag eval claims`` file: its rows' ``article_id``) are left out, so its figures are
    on sentences the verifier never saw."""
    held = {json.loads(line)["article_id"] for line in kept_out.read_text().split("\n")
            if line.strip()} if kept_out else set()
    articles = [a for a in (json.loads(line) for line in corpus.read_text().split("\n")
                            if line.strip()) if a["id"] not in held]
    sentences = {a["id"]: [a["text"][s:e].strip() for s, e in sentence_spans(a["text"])]
                 for a in articles}
    out = []
    for row in make_claims(articles, per_kind, 3 * per_kind, seed):
        own = sentences[row["article_id"]]
        window = row["source"]
        if rng.random() < 0.5 and row["source"] in own:
            at = own.index(row["source"])
            window = " ".join(own[max(0, at - 1): at + 2])
        if row["kind"] == "unaltered":
            out.append((window, row["claim"], 0))
            others = [s for s in own if s != row["source"] and len(s.split()) >= 6]
            if others:
                out.append((rng.choice(others), row["claim"], 2))
        else:
            out.append((window, row["claim"], 1))
    return out


def train(shared: Path, corpus: Path, base: str, out: Path, kept_out: Path | None = None,
          epochs: float = 1.0, per_kind: int = 300, seed: int = 13,
          batch: int = 32) -> dict[str, Any]:
    """Fine-tune ``base`` on the pairs; save half-precision weights and their checksum in
    ``out``; return what was trained on and how long it took."""
    import torch
    from datasets import Dataset
    from sentence_transformers.cross_encoder import (
        CrossEncoder,
        CrossEncoderTrainer,
        CrossEncoderTrainingArguments,
    )
    from sentence_transformers.cross_encoder.losses import CrossEntropyLoss

    torch.manual_seed(seed)
    rng = random.Random(seed)
    pairs = shared_pairs(shared, rng) + in_domain_pairs(corpus, per_kind, rng, seed, kept_out)
    rng.shuffle(pairs)
    data = Dataset.from_dict({"premise": [p for p, _, _ in pairs],
                              "claim": [c for _, c, _ in pairs],
                              "label": [y for _, _, y in pairs]})
    model = CrossEncoder(base, num_labels=len(LABELS), max_length=MAX_TOKENS)
    model.model.config.id2label = dict(enumerate(LABELS))
    model.model.config.label2id = {label: i for i, label in enumerate(LABELS)}
    args = CrossEncoderTrainingArguments(
        output_dir=str(out.parent / f".{out.name}-checkpoints"), num_train_epochs=epochs,
        per_device_train_batch_size=batch, learning_rate=4e-5, warmup_steps=0.1, seed=seed,
        data_seed=seed, save_strategy="no", logging_steps=50, report_to="none",
        use_cpu=True, dataloader_num_workers=0)
    began = time.time()
    CrossEncoderTrainer(model=model, args=args, train_dataset=data,
                        loss=CrossEntropyLoss(model)).train()
    model.model.half()
    model.save(str(out))
    weights = out / "model.safetensors"
    digest = hashlib.sha256(weights.read_bytes()).hexdigest()
    counts = {label: sum(y == i for _, _, y in pairs) for i, label in enumerate(LABELS)}
    card = {"base": base, "pairs": len(pairs), "labels": counts, "epochs": epochs,
            "seed": seed, "sets": list(TRAIN_SETS), "in_domain_per_kind": per_kind,
            "in_domain_kept_out": str(kept_out) if kept_out else None,
            "train_minutes": round((time.time() - began) / 60, 1),
            "sha256": digest, "date": time.strftime("%Y-%m-%d")}
    (out / "TRAINING.json").write_text(json.dumps(card, indent=2) + "\n")
    return card
