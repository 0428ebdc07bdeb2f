"""The evaluation harness scores what it claims to score."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import pytest

from rag import Library
from rag.evaluate import _answers, _refusals, calibrate_verdicts, evaluate_qa, load_questions
from tests.fakes import ReadingGenerator


def test_answer_metrics_match_whole_words_only():
    records = [{"prediction": "The eyes were fine [1].", "answers": ["yes", "long answer"],
                "refused": False, "route": "generated", "verdict": None},
               {"prediction": "Yes, it works.", "answers": ["yes", "it works"],
                "refused": False, "route": "generated", "verdict": "yes"}]
    metrics = _answers(records)
    assert metrics["contains"] == 0.5 and metrics["yes_no_accuracy"] == 1.0


def test_verdict_accuracy_counts_missing_verdicts_as_wrong_beside_the_majority_baseline():
    def record(verdict, gold, refused=False):
        return {"prediction": "x", "answers": [gold, "long"], "refused": refused,
                "route": "refusal" if refused else "generated", "verdict": verdict}

    metrics = _answers([record("yes", "yes"), record("unclear", "maybe"), record(None, "no"),
                        record("no", "yes"), record(None, "yes", refused=True)])
    assert metrics["verdict"] == {"accuracy": 0.4, "majority_baseline": 0.6,
                                  "majority_label": "yes", "given": 0.6, "n": 5}
    assert metrics["answered"] == 0.8 and metrics["routes"] == {"generated": 4, "refusal": 1}


def test_refusal_metrics_treat_unanswerable_questions_as_positives():
    records = [{"refused": True, "answerable": False}, {"refused": False, "answerable": False},
               {"refused": True, "answerable": True}, {"refused": False, "answerable": True}]
    assert _refusals(records) == {"precision": 0.5, "recall": 0.5, "accuracy": 0.5,
                                  "unanswerable": 2}


def test_qa_report_has_the_documented_fields(library: Library, tmp_path: Path):
    (tmp_path / "soil.txt").write_text("Soil bacteria fix nitrogen for legumes in spring.")
    library.ingest([tmp_path / "soil.txt"])
    questions = tmp_path / "q.jsonl"
    questions.write_text("\n".join(json.dumps(q) for q in [
        {"id": "1", "question": "Which bacteria fix nitrogen for legumes?", "answerable": True,
         "answers": ["soil bacteria"], "evidence_article_ids": ["soil"], "evidence": []},
        {"id": "2", "question": "What did the study find about Alzheimer's disease?",
         "answerable": False, "answers": [], "evidence_article_ids": [], "evidence": []},
    ]) + "\n")
    report = evaluate_qa(library, load_questions(questions, None), 5, False, False)
    assert report["n"] == 2
    assert set(report["retrieval"]) == {"recall@1", "recall@5", "recall@10", "mrr"}
    assert report["retrieval"]["recall@1"] == 1.0
    assert {"exact_match", "f1", "contains"} <= set(report["answer"])
    assert {"precision", "recall"} <= set(report["citations"])
    assert report["refusal"]["recall"] == 1.0
    assert set(report["latency_s"]["total_s"]) == {"p50", "p95"}


def test_verdict_calibration_picks_the_bias_that_agrees_most_with_the_labels(
        library: Library, tmp_path: Path):
    (tmp_path / "soil.txt").write_text("Soil bacteria fix nitrogen for legumes in spring.")
    library.ingest([tmp_path / "soil.txt"])
    # the model says Yes by one nat every time; two of the three labels are "no"
    library.use_generator(ReadingGenerator({"Yes": -0.5, "No": -1.5, "Not clear": -4.0}, "x"))
    rows = [{"id": str(n), "question": "Do soil bacteria fix nitrogen for legumes?",
             "answerable": True, "answers": [label, ""]}
            for n, label in enumerate(["yes", "no", "no"])]
    rows.append({"id": "u", "question": "Do soil bacteria fix nitrogen for legumes?",
                 "answerable": False, "answers": ["yes", ""]})  # unanswerable: left out
    report = calibrate_verdicts(library, rows, 0.97, False)
    assert report["n"] == 3 and report["labels"] == {"yes": 1, "no": 2}
    assert report["untuned_accuracy"] == pytest.approx(1 / 3)
    # the smallest bias that turns a 1-nat lead for Yes into No
    assert report["verdict_bias"] == pytest.approx(1.0)
    assert report["accuracy"] == pytest.approx(2 / 3) == report["majority_baseline"]


class RefusesUnknownSubjects(ReadingGenerator):
    """Leans to its refusal for questions about legumes, to Yes otherwise."""

    def option_logprobs(self, messages, options):
        legumes = "legumes?" in messages[-1]["content"]
        return {"Yes": -1.0, "No": -2.0, "Not clear": -3.0, "The": -0.2 if legumes else -4.0}


def test_refusal_margin_refuses_the_most_unanswerable_questions_keeping_the_answerable(
        library: Library, tmp_path: Path):
    (tmp_path / "soil.txt").write_text("Soil bacteria fix nitrogen for legumes in spring. "
                                       "Soil bacteria fix nitrogen for clover in spring.")
    library = Library.open(replace(library.settings, fallback_threshold=1.01), library.embedder)
    library.ingest([tmp_path / "soil.txt"])
    library.use_generator(RefusesUnknownSubjects({}, "x"))
    rows = [{"id": "a", "question": "Do soil bacteria fix nitrogen for clover?",
             "answerable": True, "answers": ["yes", ""]},
            {"id": "u", "question": "Do soil bacteria fix nitrogen for legumes?",
             "answerable": False, "answers": ["yes", ""]}]
    report = calibrate_verdicts(library, rows, 0.97, False)
    # the refusal leads Yes by 0.8 for the unanswerable question, trails by 3 for the other
    assert report["verdict_refusal_margin"] == 0.75
    assert report["unanswerable_refused"] == 1.0 and report["answerable_kept"] == 1.0
    assert report["unanswerable_refused_by_gate"] == 0.0
