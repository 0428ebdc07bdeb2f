"""Summaries: labelled drafts parse into roles; every sentence is checked against the article;
batches write files and state so a second --new run does nothing."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from rag import Library
from rag.core.text import trimmings
from rag.digest.summarize import NOTHING_BORNE_OUT, key_sentences, parse_draft
from tests.fakes import ScriptedGenerator
from ui.render import summary_html

ARTICLE = (
    "Stem cells restored ovarian function in rats with ovarian insufficiency. "
    "The study focused on angiopoietin 1 and 2 and their balance. "
    "Hormone levels and follicle counts recovered after treatment. "
    "No immune rejection or tumor formation was seen. "
    "Long-term effects in humans are not yet known."
)
DRAFT = (
    "OVERVIEW: Stem cells restored ovarian function in rats with ovarian insufficiency.\n"
    "FINDING: Hormone levels and follicle counts recovered after treatment.\n"
    "FINDING: No immune rejection or tumor formation was seen.\n"
    "FINDING: The cells cured diabetes in seven dogs.\n"
    "CAVEAT: Long-term effects in humans are not yet known.\n"
)


@pytest.mark.parametrize("draft", [
    DRAFT,
    "Role: OVERVIEW\nStem cells restored ovarian function.\n\nRole: FINDING\nHormone levels "
    "recovered after treatment.\n\n## Caveats\n- Long-term effects are not known.",
    "**Overview:** Stem cells restored ovarian function.\n1. FINDING: Hormone levels "
    "recovered after treatment.\n* CAVEAT: Long-term effects are not known.",
])
def test_labelled_drafts_parse_into_roles(draft: str):
    roles = [role for role, _ in parse_draft(draft)]
    assert roles[0] == "overview" and "finding" in roles and roles[-1] == "caveat"


def test_markdown_sections_with_numbered_bullets_keep_roles_and_drop_list_marks():
    draft = ("## Overview\nStem cells restored ovarian function in rats.\n\n## Key findings\n"
             "1. Hormone levels recovered after treatment.\n2. Follicle counts rose.\n\n"
             "## Caveats\nNone.")
    assert parse_draft(draft) == [
        ("overview", "Stem cells restored ovarian function in rats."),
        ("finding", "Hormone levels recovered after treatment."),
        ("finding", "Follicle counts rose."),
    ]


def test_a_bold_lead_in_leaves_no_markdown_in_the_sentence():
    draft = "## Key findings\n- **Hormone levels**: They recovered after **stem cell** treatment."
    assert parse_draft(draft) == [
        ("finding", "Hormone levels: They recovered after stem cell treatment.")]


def test_a_summary_has_one_checked_tldr_of_at_most_30_words(study_library):
    long = "Stem cells " + "and more " * 20 + "restored ovarian function."
    study_library.use_generator(ScriptedGenerator(
        "## TLDR\nStem cells restored ovarian function in rats with ovarian insufficiency.\n"
        f"TLDR: {long}\n\n## Overview\nThe study focused on angiopoietin 1 and 2.\n"))
    summary = study_library.summarize(["study"]).summaries[0]
    (tldr,) = [s for s in summary.sentences if s.role == "tldr"]
    assert tldr.text.startswith("Stem cells restored") and tldr.supported and tldr.spans
    # a second, too long one is not the TLDR
    assert [s.role for s in summary.sentences if s.text == long] == ["overview"]
    assert summary.to_dict()["tldr"] == tldr.text


def test_a_long_tldr_is_cut_to_its_main_clause_and_still_checked(study_library):
    tail = ", making the treatment a promising option for many women who want to keep " \
        "their fertility and avoid the side effects of hormone replacement therapy"
    study_library.use_generator(ScriptedGenerator(
        "## TLDR\nStem cells restored ovarian function in rats with ovarian insufficiency"
        f"{tail}.\n\n## Overview\nThe study focused on angiopoietin 1 and 2.\n"))
    summary = study_library.summarize(["study"]).summaries[0]
    assert summary.to_dict()["tldr"] == (
        "Stem cells restored ovarian function in rats with ovarian insufficiency.")
    assert "promising" not in json.dumps(summary.to_dict())


@pytest.mark.parametrize("section", ["## Overview\n", "## Key findings\n- "])
def test_a_tldr_the_article_does_not_bear_out_gives_way_to_a_checked_sentence(
        study_library, section: str):
    study_library.use_generator(ScriptedGenerator(
        f"## TLDR\nStem cells cured diabetes in seven dogs.\n\n{section}"
        "The study focused on angiopoietin 1 and 2.\n"))
    summary = study_library.summarize(["study"]).summaries[0]
    assert summary.to_dict()["tldr"] == "The study focused on angiopoietin 1 and 2."
    (invented,) = [s for s in summary.sentences if "dogs" in s.text]
    assert invented.status != "supported" and invented not in summary.shown


@pytest.fixture
def study_library(library: Library, tmp_path: Path) -> Library:
    (tmp_path / "study.txt").write_text(ARTICLE)
    library.ingest([tmp_path / "study.txt"])
    library.use_generator(ScriptedGenerator(DRAFT))
    return library


def test_summary_sentences_link_to_exact_spans_and_inventions_are_marked(study_library):
    report = study_library.summarize(["study"])
    summary = report.summaries[0]
    assert summary.of_role("finding")[0].startswith("Hormone levels")
    text = study_library.article("study").text
    for sentence in summary.sentences:
        if "diabetes" in sentence.text:
            assert not sentence.supported and sentence.spans == []
        else:
            assert sentence.supported
            quoted = " ".join(text[s.start : s.end] for s in sentence.spans)
            assert sentence.text.split()[0] in quoted


def test_a_detail_the_article_does_not_give_is_trimmed_off_and_the_drafted_wording_kept(
        study_library):
    drafted = ("Hormone levels and follicle counts recovered after treatment, with 85% of "
               "rats recovering within 3 weeks.")
    study_library.use_generator(ScriptedGenerator(
        f"## Overview\nStem cells restored ovarian function in rats.\n"
        f"## Key findings\n- {drafted}\n- The cells cured diabetes in seven dogs, with no "
        "side effects.\n"))
    study_library.summarize(["study"])
    folder = study_library.summaries_folder
    data = json.loads((folder / "study.json").read_text())
    assert data["findings"] == ["Hormone levels and follicle counts recovered after treatment."]
    (trimmed,) = [s for s in data["sentences"] if s["drafted"]]
    assert trimmed["drafted"] == drafted and "85%" in trimmed["reason"] and trimmed["spans"]
    # shortening an invention leaves an invention: it is still left out, as drafted
    assert [d["text"] for d in data["dropped"]] == [
        "The cells cured diabetes in seven dogs, with no side effects."]
    markdown = (folder / "study.md").read_text()
    assert "85%" not in markdown and "1 sentence(s) trimmed" in markdown
    assert "1 sentence(s) trimmed" in summary_html(data)


@pytest.mark.parametrize(("sentence", "expected"), [
    ("GCNs decode brain activity in short windows, with an accuracy of 89% by state.",
     ["GCNs decode brain activity in short windows, with an accuracy of 89%.",
      "GCNs decode brain activity in short windows."]),
    ("The method improves softmax inference by learning a hierarchy, reducing cost.",
     ["The method improves softmax inference by learning a hierarchy.",
      "The method improves softmax inference."]),
    # no cut that ends on a function word or leaves under five words
    ("The study found that while quality rose, costs did not fall.", []),
    ("Costs fell by half.", []),
    # cutting these would widen the claim
    ("The drug is safe in adults unless they have kidney disease.", []),
])
def test_trimmings_cut_trailing_details_longest_first(sentence: str, expected: list[str]):
    assert trimmings(sentence) == expected


def test_new_summarizes_once_then_only_new_or_changed_articles(study_library, tmp_path):
    first = study_library.summarize()
    assert [s.article_id for s in first.summaries] == ["study"]
    assert study_library.summarize().summaries == []  # second --new: nothing to do
    (tmp_path / "more.txt").write_text("Bees dance to share where flowers are. " * 3)
    study_library.ingest([tmp_path / "more.txt"])
    third = study_library.summarize()
    assert [s.article_id for s in third.summaries] == ["more"]
    assert third.skipped == ["study"]


def test_batch_writes_markdown_json_and_an_index(study_library):
    study_library.summarize()
    folder = study_library.summaries_folder
    data = json.loads((folder / "study.json").read_text())
    # the draft has no TLDR: its checked overview sentence leads as one
    assert data["tldr"].startswith("Stem cells restored") and not data["overview"]
    assert len(data["findings"]) == 2 and data["caveats"]
    assert [(d["text"], d["status"]) for d in data["dropped"]] == [
        ("The cells cured diabetes in seven dogs.", "not found")]
    assert all(s["status"] == "supported" for s in data["sentences"])
    markdown = (folder / "study.md").read_text()
    assert "## Key findings" in markdown and "diabetes" not in markdown
    assert "1 sentence(s) of the draft left out" in markdown
    assert NOTHING_BORNE_OUT not in markdown and NOTHING_BORNE_OUT not in summary_html(data)
    assert "chars" in markdown and "[study.md]" not in markdown
    assert json.loads((folder / "index.json").read_text())[0]["article_id"] == "study"
    assert "(study.md)" in (folder / "index.md").read_text()


def test_a_summary_the_article_bears_out_nowhere_says_so_instead_of_reading_empty(
        study_library):
    study_library.use_generator(ScriptedGenerator(
        "OVERVIEW: The cells cured diabetes in seven dogs.\n"
        "FINDING: Volcanoes erupt on Jupiter daily.\n"))
    study_library.summarize()
    folder = study_library.summaries_folder
    data = json.loads((folder / "study.json").read_text())
    assert data["sentences"] == [] and len(data["dropped"]) == 2
    assert NOTHING_BORNE_OUT in (folder / "study.md").read_text()
    assert NOTHING_BORNE_OUT in summary_html(data)


def test_one_failing_article_does_not_stop_the_batch(study_library, tmp_path):
    (tmp_path / "other.txt").write_text("Bees dance to share where flowers are. " * 3)
    study_library.ingest([tmp_path / "other.txt"])
    study_library.use_generator(ScriptedGenerator("", DRAFT))  # nothing for the first article
    report = study_library.summarize(["missing-id", "study", "other"])
    reasons = {f.path: f.reason for f in report.failed}
    assert reasons == {"missing-id": "no such article in the index",
                       "study": "the model wrote no summary sentences"}
    assert [s.article_id for s in report.summaries] == ["other"]


def test_key_sentences_fit_the_budget_in_article_order_and_skip_a_repeated_point():
    main, same_again, other = [1.0, 0.0], [1.0, 0.0], [0.6, 0.8]
    vectors = np.array([other, main, same_again], dtype=np.float32)
    assert key_sentences(vectors, [5, 5, 5], budget=10) == [0, 1]  # not the repeat
    assert key_sentences(vectors, [5, 5, 5], budget=15) == [0, 1]  # a repeat adds nothing
    assert key_sentences(vectors, [5, 20, 5], budget=10) == [0, 2]  # too long is passed over


def test_a_long_article_is_drafted_from_its_key_sentences_and_checked_against_all(
        library, tmp_path):
    topics = ["Stem cells restored ovarian function in rats.",
              "Angiopoietin balance was measured in the ovaries.",
              "Follicle counts recovered after the treatment.",
              "Hormone levels returned to normal within weeks.",
              "No tumor formation was seen in any animal."]
    text = " ".join(topics * 3)
    (tmp_path / "long.txt").write_text(text)
    library.ingest([tmp_path / "long.txt"])
    generator = ScriptedGenerator("FINDING: No tumor formation was seen in any animal.")
    library.use_generator(generator)
    summary = library.configured(summary_input_tokens=40).summarize(["long"]).summaries[0]
    prompt = generator.prompts[0][1]["content"].split("\n\n", 1)[1]
    shown = [s for s in topics if s in prompt]
    assert len(prompt) < len(text) / 2 and len(shown) >= 3  # several distinct points
    assert all(sentence in topics for sentence in prompt.replace(". ", ".|").split("|"))
    (finding,) = summary.sentences
    assert finding.supported and text[finding.spans[0].start:finding.spans[0].end] == topics[4]


def test_a_draft_cut_off_by_the_token_cap_loses_only_its_unfinished_sentence(study_library):
    reply = ("TLDR: Stem cells restored ovarian function in rats.\n"
             "FINDING: Hormone levels and follicle counts recovered after treatment.")
    study_library.use_generator(ScriptedGenerator(reply))
    cut = study_library.configured(summary_tokens=12).summarize(["study"]).summaries[0]
    assert [s.text for s in cut.sentences] == ["Stem cells restored ovarian function in rats."]
    whole = study_library.configured(summary_tokens=40).summarize(["study"]).summaries[0]
    assert whole.of_role("finding") == [
        "Hormone levels and follicle counts recovered after treatment."]
    one_line = ("TLDR: Stem cells restored ovarian function in rats. Hormone levels and "
                "follicle counts recovered after treatment. No immune rejection or tumor")
    study_library.use_generator(ScriptedGenerator(one_line))
    cut = study_library.configured(summary_tokens=len(one_line.split())).summarize(
        ["study"]).summaries[0]
    assert [s.text for s in cut.sentences][-1] == (
        "Hormone levels and follicle counts recovered after treatment.")
    unfinished = "TLDR: Stem cells restored ovarian function in rats with ovarian insufficiency"
    study_library.use_generator(ScriptedGenerator(unfinished + " and more words"))
    cut = study_library.configured(summary_tokens=len(unfinished.split())).summarize(
        ["study"]).summaries[0]  # nothing finished: checked as written, not a failed draft
    assert [s.text for s in cut.sentences] == [unfinished.removeprefix("TLDR: ")]


def test_a_sentence_longer_than_the_budget_is_shown_in_part_not_left_out(library, tmp_path):
    run_on = " ".join(f"follicle{i}" for i in range(100))  # one 100-token "sentence"
    (tmp_path / "runon.txt").write_text(f"{run_on}.\nShort closing remark here.")
    library.ingest([tmp_path / "runon.txt"])
    excerpt = library.configured(summary_input_tokens=40).summarizer().excerpt(
        library.article("runon"))
    shown = [w for w in excerpt.split() if w.startswith("follicle")]
    assert len(shown) >= 20  # most of the budget goes to the run-on, the bulk of the article
    assert len(library.embedder.token_spans([excerpt])[0]) <= 40
