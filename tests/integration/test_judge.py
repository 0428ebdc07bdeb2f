"""The packaged model as a claim judge, run for real: the plain reader pairs read by the
packaged Qwen over the rules at its calibrated thresholds, and the seed article's statements
a reader would type checked end to end by 'rag check' as it reads by default."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from rag.core.settings import Settings
from rag.evaluation.pairs import pair_status, scorer_for, sentence_checker
from rag.generation.generate import load_configured_generator
from rag.index.embedding import SentenceTransformerEmbedder
from rag.reading.judge import ModelJudge
from tests.conftest import REPO
from tests.processes import run_rag

READER_PAIRS = REPO / "eval" / "reader-pairs.jsonl"


@pytest.fixture(scope="module")
def model_judge() -> ModelJudge:
    return ModelJudge(load_configured_generator(Settings.load({}, env={})))


def test_the_model_reads_paraphrases_and_denials_in_other_words_as_a_reader_does(
        model_judge: ModelJudge):
    rows = [json.loads(line) for line in READER_PAIRS.read_text().splitlines() if line]
    assert {r["label"] for r in rows} == {"supported", "contradicted", "nei"}
    settings = Settings.load({}, env={})
    scorer = scorer_for(SentenceTransformerEmbedder.configured(settings), rows)
    check = sentence_checker(scorer, settings.support_threshold, model_judge)
    found = [pair_status(check(r["premise"], r["claim"])) for r in rows]
    assert [f == "supported" for f in found] == [r["label"] == "supported" for r in rows]
    # a denial in other words is never support (above), and mostly read as a contradiction:
    # "hurdles before clinical practice" against "ready for clinical practice" reads 0.83,
    # below the 0.9 at which the judge's contradiction overrules the rules (chosen on dev)
    denied = [f for f, r in zip(found, rows, strict=True) if r["label"] == "contradicted"]
    assert denied.count("contradicted") > len(denied) / 2, denied


SEED_CASES = {  # a reader's wording about the seed article -> what a careful reader accepts
    # not vouched for: the hurdles sentence contradicts it at 0.83, below the judge's 0.9
    "The treatment is ready for clinical practice.": {"contradicted", "overstated", "not found"},
    # a plain claim of care for women, where the study's findings are all in rats
    "Doctors can already use this therapy on women.": {"contradicted", "overstated"},
    "The stem cells caused tumours in some of the rats.": {"contradicted"},
    # who the study was on, against the species its own findings name
    "The study was done in mice.": {"contradicted"},
    "The experiments were done in rats.": {"supported"},
    # looked for, not found: the article's denial does not contradict it
    "The researchers watched for immune rejection and tumours.": {"supported"},
    # the "may" of "… may offer a promising avenue" hedges the avenue, not the journal
    "The study was published in the Journal of Ovarian Research.": {"supported"},
}


def checked(index: Path, folder: Path, claims: list[str]) -> dict[str, str]:
    statements = folder / "statements.jsonl"
    statements.write_text("".join(json.dumps({"claim": c}) + "\n" for c in claims))
    out = run_rag("check", "--file", str(statements), "--index", str(index)).stdout
    return {row["claim"]: row["status"] for row in map(json.loads, out.splitlines())}


def test_rag_check_reads_the_seed_statements_as_a_reader_does(
        sample_index: tuple[Path, dict], tmp_path: Path):
    found = checked(sample_index[0], tmp_path, list(SEED_CASES))
    assert {claim: found[claim] in expected for claim, expected in SEED_CASES.items()} == \
        dict.fromkeys(SEED_CASES, True), found
