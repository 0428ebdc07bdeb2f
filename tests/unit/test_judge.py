"""The packaged model as a claim judge, with a scripted model in its place (the real one reads
the fixed reader pairs in tests/integration/test_judge.py)."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pytest

from rag import RagError
from rag.core.settings import Settings
from rag.core.types import Article
from rag.reading.check import judge
from rag.reading.judge import ModelJudge, configured_reader
from rag.reading.support import article_sentences
from rag.reading.verifier import calibrated, read_claim
from tests.fakes import ReadingGenerator, ScriptedGenerator

SURE = {"supports_at": 0.5, "doubts_below": 0.2, "contradicts_at": 0.5}


def judge_of(logprobs: dict[str, float], tmp_path: Path,
             thresholds: dict[str, float] = SURE) -> tuple[ModelJudge, ReadingGenerator]:
    model = ReadingGenerator(logprobs, "")
    (tmp_path / "judge.json").write_text(json.dumps(thresholds))
    return ModelJudge(model, tmp_path / "judge.json"), model


def test_the_judges_first_word_odds_become_probabilities_of_the_three_labels(tmp_path: Path):
    reader, model = judge_of({"Supported": math.log(0.3), "Contradicted": math.log(0.15),
                              "Neither": math.log(0.05)}, tmp_path)
    found = reader.probabilities([("The cells restored ovarian function.", "It worked.")])
    assert np.allclose(found, [[0.6, 0.3, 0.1]], atol=1e-6)
    asked = model.prompts[0][-1]["content"]
    assert "Passage: The cells restored ovarian function." in asked and "Statement: It worked." \
        in asked


def test_the_judge_reads_only_the_two_best_sentences_each_alone(tmp_path: Path):
    reader, model = judge_of({"Neither": 0.0}, tmp_path)
    evidence = article_sentences(Article(
        "a", "One is here. Two is here. Three is here. Four is here. Five is here."))
    read_claim(reader, "Three.", evidence, np.array([0.1, 0.2, 0.9, 0.0, 0.8]))
    passages = [p[-1]["content"].split("\n")[0] for p in model.prompts]
    assert passages == ["Passage: Three is here.", "Passage: Five is here."]


def test_a_contradiction_the_judge_reads_overrules_a_support_the_rules_found(tmp_path: Path):
    evidence = article_sentences(Article("a", "There are still hurdles before the treatment "
                                              "is ready for clinical practice."))
    claim = "The treatment is ready for clinical practice."
    scores = np.array([0.9])
    assert judge(claim, evidence, scores, 0.45).status == "supported"  # the rules alone
    reader, _ = judge_of({"Contradicted": 0.0, "Supported": -3.0, "Neither": -3.0}, tmp_path)
    found = judge(claim, evidence, scores, 0.45, verifier=reader)
    assert (found.status, found.kind) == ("contradicted", "verifier")
    assert "hurdles before" in found.reason


def test_a_generator_that_cannot_read_its_probabilities_cannot_judge():
    settings = Settings.load({}, env={})
    with pytest.raises(RagError, match="cannot judge claims"):
        configured_reader("model", settings, lambda: ScriptedGenerator("Yes."))


def test_statements_are_judged_by_the_local_model_by_default_and_by_the_rules_without_one():
    settings = Settings.load({}, env={})
    assert settings.statement_verifier == "auto" and settings.claim_verifier == "off"
    reading = ReadingGenerator({"Supported": 0.0})
    assert isinstance(configured_reader(settings.statement_verifier, settings,
                                        lambda: reading), ModelJudge)
    assert configured_reader(settings.statement_verifier, settings,
                             lambda: ScriptedGenerator("Yes.")) is None  # e.g. an API server
    assert configured_reader(settings.claim_verifier, settings, lambda: reading) is None


def test_rag_check_reads_with_the_judge_and_answers_without_it(library, tmp_path: Path,
                                                              monkeypatch):
    (tmp_path / "judge.json").write_text(json.dumps(SURE))
    monkeypatch.setattr("rag.reading.judge.CALIBRATION", tmp_path / "judge.json")
    (tmp_path / "a.txt").write_text("There are still hurdles before the treatment is ready "
                                    "for clinical practice.")
    library.ingest([tmp_path / "a.txt"])
    model = ReadingGenerator({"Contradicted": 0.0, "Supported": -3.0, "Neither": -3.0}, "")
    library.use_generator(model)
    claim = "The treatment is ready for clinical practice."
    assert library.check_statement(claim).status == "supported"  # the fixture's rules alone
    judged = library.configured(statement_verifier="auto").check_statement(claim)
    assert (judged.status, judged.kind) == ("contradicted", "verifier")
    assert library.configured(statement_verifier="auto").verifier is None


def test_thresholds_missing_from_a_calibration_file_take_the_defaults(tmp_path: Path):
    (tmp_path / "c.json").write_text(json.dumps({"supports_at": 0.9}))
    assert calibrated(tmp_path / "c.json") == {"supports_at": 0.9, "hedges_at": 1.01,
                                                "doubts_below": 0.0, "contradicts_at": 0.5}
    assert calibrated(tmp_path / "absent.json")["supports_at"] == 0.5
