"""The evaluation harness scores what it claims to score."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from rag import Library
from rag.errors import RagError
from rag.evaluate import _answers, _refusals, evaluate_qa, load_questions
from rag.evaluate_verdicts import fit_heads, head_file, read_questions
from rag.verdict import FEATURES, VerdictHead
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
    from rag.evaluate_disagreements import evaluate_disagreements
    from rag.support import SupportScorer
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
    from rag.evaluate_pairs import evaluate_pairs, scorer_for, sentence_checker
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
