"""`make checker`: train a claim verifier into ``rag/reading/weights/claim-verifier``.

A cross-encoder (sentence-transformers' ``CrossEncoder`` training API) reads (evidence
window, claim) and says supported / contradicted / not enough information. It starts from
the packaged all-MiniLM-L6-v2 (the embedder's own weights: nothing is downloaded) and learns
from the human-labelled pairs of ``../shared/eval/claims/`` that are not kept for dev figures
(SICK, Climate-FEVER, COVID-Fact, SciFact, half of HealthVer). An earlier recipe also trained
on altered PubMedQA sentences (each against itself: supported; altered: contradicted); it
taught that only a verbatim copy is supported and read plain paraphrases as contradicted, so
it was dropped (the rules catch those alterations exactly). Seeded and pinned to its inputs,
so the same data gives the same weights; the weights are stored in half precision with their
SHA-256 beside them (``rag.reading.verifier`` checks it).
"""

from __future__ import annotations

import hashlib
import json
import random
import time
from pathlib import Path
from typing import Any

LABELS = ("supported", "contradicted", "nei")
TRAIN_SETS = ("sick_train", "sick_trial", "sick_test", "climatefever_evidence",
              "covidfact_train", "covidfact_dev", "covidfact_test", "scifact_rte_train",
              "scifact_rte_dev", "healthver_dev")
"""The shared sets trained on: every set but those of news summaries (frank, cliff, goyal21,
kept whole for dev figures) and WiCE (web pages of ~1,000 words, for which no window is
labelled); of healthver_dev only the half ``trained_half`` picks, the other half giving its
dev figures."""
CAP_PER_LABEL = {"climate-fever": 1200, "sick": 1000, "covid-fact": 1000}
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


def trained_half(row: dict[str, Any]) -> bool:
    """Whether a HealthVer pair is in the fixed half trained on: split by the question the
    claim answers (its claims and passages share words), by a hash, so it never moves."""
    key = row.get("question") or row["claim"]
    return hashlib.sha256(key.encode()).digest()[0] % 2 == 0


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
            if row["dataset"] == "healthver" and not trained_half(row):
                continue
            label = _label(row)
            cap = CAP_PER_LABEL.get(row["dataset"])
            if label is None or (cap and kept.get((row["dataset"], label), 0) >= cap):
                continue
            kept[(row["dataset"], label)] = kept.get((row["dataset"], label), 0) + 1
            out.append((row["premise"], row["claim"], LABELS.index(label)))
    return out


def train(shared: Path, base: str, out: Path, epochs: float = 1.0, seed: int = 13,
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
    pairs = shared_pairs(shared, rng)
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
            "seed": seed, "sets": list(TRAIN_SETS), "caps_per_label": CAP_PER_LABEL,
            "train_minutes": round((time.time() - began) / 60, 1),
            "sha256": digest, "date": time.strftime("%Y-%m-%d")}
    (out / "TRAINING.json").write_text(json.dumps(card, indent=2) + "\n")
    return card
