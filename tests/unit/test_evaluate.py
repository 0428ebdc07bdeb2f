"""The evaluation harness scores what it claims to score."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from rag import Library
from rag.core.errors import RagError
from rag.evaluation.questions import _answers, _refusals, evaluate_qa, load_questions
from rag.evaluation.verdicts import (
    CUTOFFS,
    MAJORITY_MARGIN,
    _decide,
    fit_heads,
    head_file,
    precision_cutoff,
    read_questions,
)
from rag.reading.verdict import FEATURES, VerdictHead
from tests.fakes import ReadingGenerator


def test_answer_metrics_match_whole_words_only():
    records = [{"id": "a", "prediction": "The eyes were fine [1].",
                "answers": ["yes", "long answer"], "refused": False, "route": "generated",
                "verdict": None},
               {"id": "b", "prediction": "Yes, it works.", "answers": ["yes", "it works"],
                "refused": False, "route": "generated", "verdict": "yes"}]
    metrics = _answers(records)
    assert metrics["contains"] == 0.5 and metrics["yes_no_accuracy"] == 1.0


def test_verdict_accuracy_counts_missing_verdicts_as_wrong_beside_the_majority_baseline():
    def record(n, verdict, gold, refused=False):
        return {"id": n, "prediction": "x", "answers": [gold, "long"], "refused": refused,
                "route": "refusal" if refused else "generated", "verdict": verdict}

    metrics = _answers([record(1, "yes", "yes"), record(2, "unclear", "maybe"),
                        record(3, None, "no"), record(4, "no", "yes"),
                        record(5, None, "yes", refused=True)])
    # a Yes or No given on 2 of 5 (coverage), right on 1 of those 2 (precision)
    assert metrics["verdict"] == {"accuracy": 0.4, "majority_baseline": 0.6,
                                  "majority_label": "yes", "given": 0.6, "n": 5,
                                  "yes_no_given": 0.4, "yes_no_right": 0.5,
                                  "by_question": {"1": "yes", "2": "unclear", "3": None,
                                                  "4": "no", "5": None}}
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


def test_verdict_head_is_fitted_with_folds_split_by_question_and_reported_per_corpus():
    rng = np.random.default_rng(0)
    rows = []
    for n in range(80):
        label = "no" if n % 3 == 0 else "yes"
        for corpus in ("stated", "removed"):
            x = [0.0] * len(FEATURES)
            x[FEATURES.index("contradicted")] = float(label == "no")  # the reading decides
            rows.append({"id": str(n), "corpus": corpus, "label": label,
                         "x": [*x, float(rng.normal())]})  # the model's judgement is noise
    report = fit_heads(rows)
    lexical = report["heads"]["lexical"]
    for corpus in ("stated", "removed"):
        figures = lexical["cross_validated"][corpus]
        assert figures["accuracy"] == 1.0 and figures["n"] == 80
        assert (figures["majority_label"], figures["majority_baseline"]) == ("yes", 0.6625)
    assert report["model_kept"] is False  # noise does not raise the accuracy
    kept = head_file(report)
    assert set(kept["heads"]) == {"lexical"}
    fitted = kept["heads"]["lexical"]["results"]  # no row's best finding was a conclusion
    head = VerdictHead(tuple(FEATURES), np.array(fitted["weights"]), np.array(fitted["bias"]),
                       fitted["cutoff"])
    contradicted = np.eye(len(FEATURES))[FEATURES.index("contradicted")]
    assert head.verdict(contradicted) == "no" and head.verdict(0 * contradicted) == "yes"


def test_the_model_judgement_is_kept_where_it_raises_the_accuracy_on_every_corpus():
    rows = [{"id": str(n), "corpus": corpus, "label": label, "judge": "qwen.gguf",
             "x": [0.0] * len(FEATURES) + [2.0 if label == "yes" else -2.0]}
            for n, label in enumerate(["yes", "no", "yes"] * 30)
            for corpus in ("stated", "removed")]
    report = fit_heads(rows)
    assert report["model_kept"] is True
    heads = head_file(report)["heads"]
    assert set(heads) == {"lexical", "model"}
    assert report["heads"]["model"]["cross_validated"]["stated"]["accuracy"] == 1.0
    # the model head names the model whose log-odds it weighs; the lexical head none
    assert {h["judge"] for h in heads["model"].values()} == {"qwen.gguf"}
    assert all("judge" not in h for h in heads["lexical"].values())


def test_rows_judged_by_different_models_make_no_head():
    rows = [{"id": str(n), "corpus": "stated", "label": "yes", "judge": f"model-{n % 2}",
             "x": [0.0] * (len(FEATURES) + 1)} for n in range(10)]
    with pytest.raises(RagError, match="different models"):
        fit_heads(rows)


def test_each_labelled_answerable_question_is_read_on_each_corpus_as_ask_reads_it(
        library: Library, tmp_path: Path):
    (tmp_path / "soil.txt").write_text("Soil bacteria fix nitrogen for legumes in spring. "
                                       "The bacteria did not fix nitrogen for wheat.")
    library.ingest([tmp_path / "soil.txt"])
    library.use_generator(ReadingGenerator({"Yes": -0.5, "No": -1.5}, "x"))
    rows = [{"id": "1", "question": "Do soil bacteria fix nitrogen for wheat?",
             "answerable": True, "answers": ["no", ""]},
            {"id": "2", "question": "Do soil bacteria fix nitrogen for legumes?",
             "answerable": True, "answers": ["maybe", ""]},
            {"id": "u", "question": "Do soil bacteria fix nitrogen for clover?",
             "answerable": False, "answers": ["yes", ""]}]  # unanswerable: left out
    read = read_questions({"a": library, "b": library}, rows, True, False)
    assert [(r["corpus"], r["id"], r["label"]) for r in read] == [
        ("a", "1", "no"), ("a", "2", "unclear"), ("b", "1", "no"), ("b", "2", "unclear")]
    assert all(len(r["x"]) == len(FEATURES) + 1 and r["x"][-1] == 1.0 for r in read)
    wheat = dict(zip(FEATURES, read[0]["x"], strict=False))
    assert wheat["contradicted"] == 1.0 and wheat["negation"] == 1.0


def test_disagreement_report_counts_false_alarms_on_agreeing_reports_and_finds_altered_ones():
    from rag.evaluation.disagreements import evaluate_disagreements
    from rag.reading.support import SupportScorer
    from tests.fakes import HashingEmbedder

    result = "Daily walking lowered systolic blood pressure by 9 mmHg in older adults."
    article = {"id": "a", "text": f"We studied older adults. {result}"}
    questions = [{"question": "Did daily walking lower systolic blood pressure in older adults?",
                  "answerable": True, "evidence_article_ids": ["a"],
                  "answers": ["yes", result]},
                 {"question": "Left out: its article is in neither corpus", "answerable": True,
                  "evidence_article_ids": ["missing"], "answers": ["no", "No."]}]
    report = evaluate_disagreements(SupportScorer(HashingEmbedder()), questions,
                                    {"a": article}, {"a": article}, progress=False)
    assert report["agreeing_pairs"]["n"] == 1 and report["agreeing_pairs"]["false_alarms"] == 0
    by_kind = report["altered_pairs"]["by_kind"]
    assert by_kind["number"] == {"n": 1, "found_rate": 1.0}
    assert by_kind["direction"] == {"n": 1, "found_rate": 1.0}
    assert report["altered_pairs"]["n"] == sum(k["n"] for k in by_kind.values())


def test_labelled_pairs_are_scored_per_dataset_and_source_by_balanced_accuracy():
    from rag.evaluation.pairs import evaluate_pairs, scorer_for, sentence_checker
    from tests.fakes import HashingEmbedder

    premise = ("Stem cells restored ovarian function in rats. The treated rats developed no "
               "tumours. Doctors cannot yet use the therapy in women.")
    rows = [
        {"dataset": "news", "source": "bbc", "premise": premise, "label": "supported",
         "claim": "Stem cells restored ovarian function in rats."},
        {"dataset": "news", "source": "bbc", "premise": premise, "label": "unsupported",
         "claim": "Stem cells restored ovarian function in rats. The rats were 12 weeks old."},
        {"dataset": "news", "source": "cnndm", "premise": premise, "label": "unsupported",
         "claim": "Stem cells did not restore ovarian function in rats."},
        {"dataset": "health", "premise": premise, "label": "contradicted",
         "claim": "Stem cells restored ovarian function in mice."},
        {"dataset": "health", "premise": premise, "label": "nei",
         "claim": "Marathon runners sleep longer in winter."},
    ]
    check = sentence_checker(scorer_for(HashingEmbedder(), rows), threshold=0.5)
    report = evaluate_pairs(check, rows, progress=False)
    news, bbc, health = (report["datasets"][k] for k in ("news", "news/bbc", "health"))
    assert (news["n"], bbc["n"], health["n"]) == (3, 2, 2)
    # every sentence must hold: the added age is not in the premise
    assert news["found"] == {"supported": 1, "not found": 1, "contradicted": 1}
    assert news["balanced_accuracy"] == 1.0 and news["recall"] == {"supported": 1.0,
                                                                   "unsupported": 1.0}
    assert health["recall"] == {"contradicted": 1.0, "nei": 1.0}
    assert health["balanced_accuracy"] is None  # no supported claim: not defined
    # each pair's status by its id (rows without one: by position), to compare two runs
    assert report["by_pair"] == {"0": "supported", "1": "not found", "2": "contradicted",
                                 "3": "contradicted", "4": "not found"}


def test_a_lower_cased_tokenised_summary_is_checked_sentence_by_sentence():
    from rag.evaluation.pairs import scorer_for, sentence_checker
    from tests.fakes import HashingEmbedder

    premise = ("Stem cells restored ovarian function in rats. The treated rats developed no "
               "tumours.")
    summary = ("stem cells restored ovarian function in rats . the treated rats developed "
               "tumours .")
    rows = [{"premise": premise, "claim": summary, "label": "unsupported"}]
    checks = sentence_checker(scorer_for(HashingEmbedder(), rows), threshold=0.5)(
        premise, summary)
    assert [(c.claim, c.status) for c in checks] == [
        ("stem cells restored ovarian function in rats .", "supported"),
        ("the treated rats developed tumours .", "contradicted")]


def test_the_cut_off_is_raised_to_the_precision_goal_within_the_floors():
    # 50 right Yes at confidence 0.50-0.99, 50 right No at 0.9, 20 wrong Yes at 0.55
    sure = np.linspace(0.5, 0.99, 50)
    p_yes = np.concatenate([sure, np.full(50, 0.1), np.full(20, 0.55)])
    probabilities = np.column_stack([p_yes, 1 - p_yes, np.zeros(120)])
    gold = np.array(["yes"] * 50 + ["no"] * 70)  # majority "no": 0.583
    none_contradicted = np.zeros(120, dtype=bool)

    def figures(cutoff: float) -> tuple[float, float, float]:
        said = _decide(probabilities, cutoff, none_contradicted)
        given = said != "unclear"
        return ((said[given] == gold[given]).mean(), given.mean(), (said == gold).mean())

    cutoff = precision_cutoff(probabilities, gold, none_contradicted, 0.95, 0.5)
    assert cutoff == 0.56  # the lowest above the wrong Yes
    precision, coverage, accuracy = figures(cutoff)
    assert precision >= 0.95 and coverage >= 0.5 and accuracy >= 0.583 + MAJORITY_MARGIN
    # a coverage floor the goal would break: the most precise cut-off that keeps it
    cutoff = precision_cutoff(probabilities, gold, none_contradicted, 0.95, 0.9)
    precision, coverage, accuracy = figures(cutoff)
    assert coverage >= 0.9 and precision < 0.95
    assert precision == max(figures(c)[0] for c in CUTOFFS if figures(c)[1] >= 0.9)


def test_a_head_is_refitted_from_saved_readings_without_reading_again(tmp_path: Path):
    from typer.testing import CliRunner

    from rag.cli.main import app

    readings = tmp_path / "readings.jsonl"
    rows = [{"id": str(n), "corpus": "stated", "label": label,
             "x": [float(label == "no") if f == "contradicted" else 0.0 for f in FEATURES]}
            for n, label in enumerate(["yes", "no", "yes"] * 20)]
    readings.write_text("".join(json.dumps(r) + "\n" for r in rows))
    head, out = tmp_path / "head.json", tmp_path / "fit.json"
    result = CliRunner().invoke(app, ["eval", "verdicts", "--readings", str(readings),
                                      "--head", str(head), "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert json.loads(out.read_text())["heads"]["lexical"]["cross_validated"]["stated"][
        "accuracy"] == 1.0
    assert set(json.loads(head.read_text())["heads"]) == {"lexical"}
    # without saved readings, the questions and their corpora are needed
    missing = CliRunner().invoke(app, ["eval", "verdicts", "--head", str(head)])
    assert missing.exit_code == 2 and "give --corpus and --questions" in missing.output
