"""The claim verifier's training data, reading windows and calibration (the model itself is
trained by 'make checker' and measured by 'rag eval calibrate-checker'; nothing here
trains)."""

from __future__ import annotations

import json
import random
from pathlib import Path

import pytest

from rag import RagError
from rag.core.types import Article
from rag.evaluation.verifier_train import LABELS, shared_pairs, trained_half
from rag.reading.support import article_sentences
from rag.reading.verifier import checked_folder, windows
from tests.conftest import SHARED

CLAIMS = SHARED / "eval" / "claims"


def test_a_window_is_a_sentence_alone_and_with_its_neighbours():
    article = Article("a", "First one here. Second one here. Third one here. Fourth here.")
    evidence = article_sentences(article)
    assert [w.text for w in windows([1], evidence)] == [
        "Second one here.", "First one here. Second one here. Third one here."]
    assert [w.members for w in windows([1], evidence)] == [(1,), (0, 1, 2)]
    assert [w.text for w in windows([0, 0], evidence)] == [
        "First one here.", "First one here. Second one here."]


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
                if line.strip() and not (dev == "healthver_dev" and trained_half(
                    json.loads(line)))]
        assert len(rows) > 600 and not {c for _, c, _ in pairs} & {r["claim"] for r in rows}
    frank = (CLAIMS / "frank_valid.jsonl").read_text().split("\n")
    assert not premises & {json.loads(line)["premise"] for line in frank if line.strip()}
    counts = {label: sum(y == i for _, _, y in pairs) for i, label in enumerate(LABELS)}
    assert all(counts.values()) and counts["nei"] < 2 * counts["supported"]
    scifact = [json.loads(line) for line in (CLAIMS / "scifact_rte_train.jsonl").read_text()
               .split("\n") if line.strip()]
    refuted = next(r for r in scifact if r["label"] == "unsupported")
    assert (refuted["premise"], refuted["claim"], LABELS.index("contradicted")) in pairs


def test_calibration_takes_the_verifier_where_it_reads_better_and_keeps_alterations_flagged():
    from rag.evaluation.calibrate_verifier import calibrate
    from rag.evaluation.pairs import scorer_for
    from tests.fakes import HashingEmbedder, ScriptedVerifier

    premise = "The drug lowered blood pressure in older adults. Side effects were mild."
    said = "The drug lowered blood pressure in older adults."
    unsaid = "The drug lowered blood pressure in older adults every single day."
    rows = [{"dataset": "frank", "premise": premise, "claim": said, "label": "supported"},
            {"dataset": "frank", "premise": premise, "claim": unsaid, "label": "unsupported"},
            {"dataset": "alterations/unaltered", "premise": premise, "claim": said,
             "label": "supported"}]
    # the rules pass both; the verifier supports only what is said
    verifier = ScriptedVerifier({said: (0.9, 0.05, 0.05), unsaid: (0.01, 0.04, 0.95)})
    report = calibrate(rows, scorer_for(HashingEmbedder(), rows), verifier, 0.45, False)
    assert report["rules"]["frank"]["balanced_accuracy"] == 0.5
    assert report["with_verifier"]["frank"]["balanced_accuracy"] == 1.0
    assert 0.01 < report["thresholds"]["doubts_below"] <= 0.9  # doubts the unsaid only
    # an unaltered sentence the verifier would doubt forbids doubting: the rules stay
    doubted = ScriptedVerifier({said: (0.001, 0.05, 0.949), unsaid: (0.01, 0.04, 0.95)})
    report = calibrate(rows, scorer_for(HashingEmbedder(), rows), doubted, 0.45, False)
    assert report["with_verifier"]["alterations/unaltered"]["found"] == {"supported": 1}
    assert report["with_verifier"]["frank"]["balanced_accuracy"] == 0.5


def test_of_equally_good_thresholds_calibration_takes_the_one_that_tells_contradictions():
    from rag.evaluation.calibrate_verifier import calibrate
    from rag.evaluation.pairs import part_of, scorer_for
    from tests.fakes import HashingEmbedder, ScriptedVerifier

    premise = "The drug lowered blood pressure in older adults. Side effects were mild."
    denied = "The drug raised nothing and harmed the older adults badly."
    unrelated = "Vitamin pills cure the common cold in children."
    rows = [{"dataset": "healthver", "question": "held-out question", "premise": premise,
             "claim": claim, "label": label}
            for claim, label in ((denied, "contradicted"), (unrelated, "nei"))]
    assert {part_of(r) for r in rows} == {"healthver/held-out half"}
    # neither is supported by the rules or the reader, so every point scores alike on
    # supported vs not; only the reader's contradiction of the denied claim tells them apart
    reader = ScriptedVerifier({denied: (0.02, 0.85, 0.13), unrelated: (0.05, 0.55, 0.4)})
    report = calibrate(rows, scorer_for(HashingEmbedder(), rows), reader, 0.45, False)
    assert 0.55 < report["thresholds"]["contradicts_at"] <= 0.85
    called = report["with_verifier"]["healthver/held-out half"]["called_contradicted"]
    assert called == {"contradicted": 1.0, "nei": 0.0}


def test_a_second_draw_of_a_sample_reads_other_pairs_and_keeps_small_sets_whole():
    from rag.evaluation.pairs import sampled

    rows = [{"dataset": "frank", "source": "bbc", "claim": f"b{i}"} for i in range(100)]
    rows += [{"dataset": "seed", "claim": f"s{i}"} for i in range(5)]
    first, second = sampled(rows, 10), sampled(rows, 10, draw=1)
    news = [{r["claim"] for r in draw if r["dataset"] == "frank"} for draw in (first, second)]
    assert [len(claims) for claims in news] == [10, 10]
    assert not news[0] & news[1]
    seed = [{r["claim"] for r in draw if r["dataset"] == "seed"} for draw in (first, second)]
    assert seed == [{f"s{i}" for i in range(5)}] * 2
    assert sampled(rows, 10) == first  # a draw is the same every time
