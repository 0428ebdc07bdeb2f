"""The claim verifier's training data and reading windows (the model itself is trained by
'make checker' and measured by 'rag eval claims --verifier'; nothing here trains)."""

from __future__ import annotations

import json
import random
from pathlib import Path

import pytest

from rag import RagError
from rag.support import article_sentences
from rag.types import Article
from rag.verifier import checked_folder, windows
from rag.verifier_train import LABELS, in_domain_pairs, shared_pairs
from tests.conftest import SHARED

CLAIMS = SHARED / "eval" / "claims"


def test_a_window_is_a_sentence_alone_and_with_its_neighbours():
    article = Article("a", "First one here. Second one here. Third one here. Fourth here.")
    evidence = article_sentences(article)
    assert windows([1], evidence) == ["Second one here.",
                                      "First one here. Second one here. Third one here."]
    assert windows([0, 0], evidence) == ["First one here.", "First one here. Second one here."]


def test_weights_that_do_not_match_their_checksum_are_refused(tmp_path: Path):
    (tmp_path / "model.safetensors").write_bytes(b"weights")
    (tmp_path / "TRAINING.json").write_text(json.dumps({"sha256": "0" * 64}))
    with pytest.raises(RagError, match="do not match their checksum"):
        checked_folder(tmp_path)


@pytest.mark.skipif(not CLAIMS.is_dir(), reason="needs ../shared/eval/claims beside the repo")
def test_training_pairs_leave_out_the_dev_sets_and_read_two_way_labels_per_set():
    pairs = shared_pairs(CLAIMS, random.Random(0))
    premises = {p for p, _, _ in pairs}
    for dev in ("healthver_dev", "frank_valid"):  # kept for dev figures: never trained on
        rows = [json.loads(line) for line in (CLAIMS / f"{dev}.jsonl").read_text().split("\n")
                if line.strip()]
        assert not premises & {r["premise"] for r in rows[:200]}
    counts = {label: sum(y == i for _, _, y in pairs) for i, label in enumerate(LABELS)}
    assert all(counts.values()) and counts["nei"] < 2 * counts["supported"]
    scifact = [json.loads(line) for line in (CLAIMS / "scifact_rte_train.jsonl").read_text()
               .split("\n") if line.strip()]
    refuted = next(r for r in scifact if r["label"] == "unsupported")
    assert (refuted["premise"], refuted["claim"], LABELS.index("contradicted")) in pairs


def test_in_domain_pairs_skip_kept_out_abstracts(tmp_path: Path):
    def abstract(n: int) -> str:
        return (f"Patients given drug {n} had lower blood pressure than controls at 12 weeks. "
                f"Drug {n} did not increase the rate of adverse events in older adults. "
                f"Mortality was reduced by 20% in the group treated with drug {n}. "
                f"Drug {n} may improve sleep quality in patients with chronic pain.")

    corpus = tmp_path / "corpus.jsonl"
    corpus.write_text("\n".join(json.dumps({"id": f"a{n}", "text": abstract(n)})
                                for n in range(12)))
    kept = tmp_path / "claims.jsonl"
    kept.write_text(json.dumps({"article_id": "a1", "claim": "x", "label": "supported"}))
    pairs = in_domain_pairs(corpus, 2, random.Random(0), 1, kept)
    assert {y for _, _, y in pairs} == {0, 1, 2}  # supported, contradicted, not enough info
    assert not [p for p, _, _ in pairs if "drug 1 " in p.lower()]  # a1 was kept out
    altered = [(p, c) for p, c, y in pairs if y == 1]
    assert altered and all(c not in p for p, c in altered)
