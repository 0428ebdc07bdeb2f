"""Across articles, on the real embedder and index: where two reports contradict each other
on the question's point the answer says so and cites both; reports that agree, and a
disagreement off the question's point, raise nothing. The articles (tests/data/disagree)
were written for the purpose: two reports of one walking trial give different effects, a
third restates the first; two coffee studies find "increased" and "did not change"."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from rag import Library, RagError, Settings
from rag.answers.answer import DISAGREE_VERDICT
from tests.conftest import REPO
from tests.processes import rag_json

pytestmark = pytest.mark.integration
ARTICLES = REPO / "tests" / "data" / "disagree"
HOW_MUCH = "How much did daily walking lower systolic blood pressure in the older adults trial?"


def _library(folder: Path, names: list[str]) -> Library:
    articles = folder / "articles"
    articles.mkdir()
    for name in names:
        shutil.copy(ARTICLES / f"{name}.md", articles)
    library = Library.open(Settings.load({"index": folder / "index"}, env={}))
    library.ingest([articles])
    return library


@pytest.fixture(scope="module")
def every_report(tmp_path_factory: pytest.TempPathFactory) -> Library:
    return _library(tmp_path_factory.mktemp("all"), [p.stem for p in ARTICLES.glob("*.md")])


def test_an_answer_names_the_disagreement_and_cites_both_reports(every_report: Library):
    answer = every_report.ask(HOW_MUCH, generate=False)
    (disagreement,) = answer.disagreements
    assert disagreement["kind"] == "number"
    assert {disagreement["a"]["article_id"], disagreement["b"]["article_id"]} == {
        "walking-trial", "walking-reanalysis"}
    assert answer.answer.startswith("The articles disagree: [")
    assert "9 mmHg" in answer.answer and "3 mmHg" in answer.answer
    cited = {(c.article_id, c.start, c.end) for c in answer.citations}
    assert len(cited) == len(answer.citations)  # a sentence already quoted is cited once
    for side in ("a", "b"):
        c = disagreement[side]
        assert (c["article_id"], c["start"], c["end"]) in cited
        text = every_report.article(c["article_id"]).text
        assert text[c["start"]:c["end"]] == c["text"]


def test_a_yes_no_question_the_reports_answer_both_ways_is_not_clear(every_report: Library):
    answer = every_report.ask("Does coffee change bone density in postmenopausal women?",
                              generate=False)
    assert answer.verdict == "unclear" and answer.answer.startswith(DISAGREE_VERDICT)
    (disagreement,) = answer.disagreements
    assert disagreement["kind"] == "polarity"
    assert {disagreement["a"]["article_id"], disagreement["b"]["article_id"]} == {
        "coffee-bones", "coffee-bones-trial"}


def test_a_disagreement_off_the_questions_point_is_not_reported(every_report: Library):
    answer = every_report.ask("What did the walkers say about sleep?", generate=False)
    assert not answer.refused and "slept better" in answer.answer
    assert answer.disagreements == []


def test_reports_that_agree_raise_no_disagreement(tmp_path: Path):
    library = _library(tmp_path, ["walking-trial", "walking-recap", "coffee-bones"])
    answer = library.ask(HOW_MUCH, generate=False)
    assert {c.article_id for c in answer.citations} & {"walking-trial", "walking-recap"}
    assert answer.disagreements == [] and "disagree" not in answer.answer


def test_the_generated_answer_and_the_cli_json_carry_the_disagreement(every_report: Library):
    small = Library.open(Settings.load({"index": every_report.settings.index,
                                        "generator": "smollm2-135m"}, env={}))
    answer = small.ask(HOW_MUCH)
    assert answer.route in ("generated", "extractive") and not answer.refused
    assert [d["kind"] for d in answer.disagreements] == ["number"]
    assert answer.answer.startswith("The articles disagree: [")
    shown = answer.to_dict()
    assert shown["disagreements"] == answer.disagreements
    printed = rag_json("ask", HOW_MUCH, "--no-generate", "--index",
                       str(every_report.settings.index))
    assert [(d["kind"], {d["a"]["article_id"], d["b"]["article_id"]})
            for d in printed["disagreements"]] == [
        ("number", {"walking-trial", "walking-reanalysis"})]


def test_rag_compare_fills_cells_with_supported_sentences_of_each_article(
        sample_index, tmp_path: Path):
    index = sample_index[0]
    ids = [a["id"] for a in rag_json("list", "--index", str(index))["articles"]][:3]
    out = tmp_path / "compare.md"
    table = rag_json("compare", *ids, "--question", "Was the treatment safe?",
                     "--out", str(out), "--index", str(index))
    assert table["articles"] == ids and table["rows"][0]["point"] == "Was the treatment safe?"
    library = Library.open(Settings.load({"index": index}, env={}))
    filled = [(a, c) for row in table["rows"] for a, c in row["cells"].items() if c]
    assert len(filled) >= len(ids)
    for article_id, cell in filled:
        assert library.article(article_id).text[cell["start"]:cell["end"]] == cell["text"]
        assert cell["status"] == "supported"
    markdown = out.read_text()
    assert markdown.count("\n|") == len(table["rows"]) + 1 and "not reported" in markdown


def test_compare_marks_the_row_where_two_reports_disagree(every_report: Library):
    table = every_report.compare(["walking-trial", "walking-reanalysis", "walking-recap"])
    rows = {row["point"]: row for row in table.to_dict()["rows"]}
    outcome = rows["main outcome"]
    assert outcome["disagree"]
    assert "3 mmHg" in outcome["cells"]["walking-reanalysis"]["text"]
    assert not rows["caveats"]["disagree"]
    with pytest.raises(RagError, match="2 to 6 articles"):
        every_report.compare(["walking-trial"])


REWORDED = REPO / "tests" / "data" / "disagree-reworded"


@pytest.fixture(scope="module")
def reworded(tmp_path_factory: pytest.TempPathFactory) -> Library:
    """The walking trial, a second look giving "only 3 mmHg … no more than the controls
    saw" and a column restating the 9 mmHg fall, each in its own words."""
    library = Library.open(Settings.load(
        {"index": tmp_path_factory.mktemp("reworded") / "index"}, env={}))
    library.ingest([REWORDED])
    return library


def test_a_disagreement_in_other_words_is_named_where_the_model_confirms_it(reworded: Library):
    question = "Does daily walking lower blood pressure in older adults?"
    # the rules alone (--no-generate): the two sentences share too little to be compared
    assert reworded.ask(question, generate=False).disagreements == []
    answer = reworded.ask(question)
    assert answer.verdict == "unclear" and answer.answer.startswith(DISAGREE_VERDICT)
    (disagreement,) = answer.disagreements
    assert disagreement["kind"] == "number"
    assert {disagreement["a"]["article_id"], disagreement["b"]["article_id"]} == {
        "walking-trial", "walking-second-look"}  # the column agrees in other words


def test_reports_that_agree_in_other_words_raise_nothing(tmp_path: Path):
    library = Library.open(Settings.load({"index": tmp_path / "index"}, env={}))
    library.ingest([REWORDED / "walking-trial.md", REWORDED / "walking-column.md"])
    answer = library.ask("How much did systolic blood pressure fall with daily walking?")
    assert answer.disagreements == [] and not answer.refused
