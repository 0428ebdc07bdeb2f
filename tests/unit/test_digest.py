"""The digest: new articles grouped by topic, near-duplicates shown once with both sources,
every TLDR and finding linked to a marked span of the article text the page carries; a
second run with nothing new writes nothing."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from typer.testing import CliRunner

from rag import Library, RagError
from rag.cli.main import app
from rag.digest.page import latest
from rag.digest.summarize import NOTHING_BORNE_OUT

STORIES = {
    "kelp": "Kelp forests recovered after divers removed sea urchins from reefs. Fish counts "
            "rose on the culled reefs. Urchins returned once culling stopped.",
    "coral": "Heat tolerant coral kept its algae during a marine heatwave on reefs. The bred "
             "corals grew slowly in cool years. Reef fish sheltered in the surviving coral.",
    "glacier": "Andes glaciers lost ice twice as fast since 2010 as before. Meltwater now "
               "feeds dry season rivers for cities. Small glaciers may vanish soon.",
    "snow": "Alpine snow cover shrank by a month since 1970 in the Andes glaciers region. "
            "Ski seasons shortened at low resorts. Meltwater peaks now arrive earlier.",
}


class EchoSummaries:
    """Writes each article's first sentence as its TLDR and the second as a finding."""

    name = "echo"

    def __init__(self) -> None:
        self.calls = 0

    def stream(self, messages, max_tokens, temperature=0.0):
        self.calls += 1
        body = messages[-1]["content"].split("\n\n", 1)[1]
        first, second = re.split(r"(?<=\.) ", body)[:2]
        yield f"## TLDR\n{first}\n## Key findings\n- {second}\n"


@pytest.fixture
def news(library: Library, tmp_path: Path) -> Library:
    folder = tmp_path / "news"
    folder.mkdir()
    for name, text in STORIES.items():
        (folder / f"{name}.md").write_text(f"---\ntitle: {name.title()} <b>news</b>\n"
                                           f"date: 2026-06-0{len(name) % 9}\n---\n{text}\n")
    # the same press release from a second feed
    (folder / "kelp-again.md").write_text(f"---\ntitle: Kelp news again\n---\n"
                                          f"{STORIES['kelp']}\n")
    library.ingest([folder])
    library.use_generator(EchoSummaries())
    return library


def test_digest_groups_new_articles_links_every_sentence_and_merges_duplicates(
        news: Library, tmp_path: Path):
    report = news.digest(new=True, since="", out=tmp_path / "out")
    assert sorted(report.articles) == sorted([*STORIES, "kelp-again"])
    # reefs in one topic, the Andes' ice in the other
    assert sorted(sorted(g["article_ids"]) for g in report.groups) == [
        ["coral", "kelp", "kelp-again"], ["glacier", "snow"]]
    markdown = Path(report.written[0]).read_text()
    page = Path(report.written[1]).read_text()
    # the duplicate is one story that names both sources
    assert markdown.count("### Kelp") == 1 and "also:" in markdown
    assert report.disagreements == [] and "Disagreements" not in markdown  # none contradict
    # every sentence of the digest links to a marked span, and the mark holds that sentence
    links = re.findall(r"href='#(s-[\w.-]+)'", page)
    assert len(links) == 2 * len(STORIES)  # a TLDR and a finding per story
    for anchor in links:
        mark = re.search(rf"<mark id='{re.escape(anchor)}'>([^<]+)</mark>", page)
        assert mark, anchor
    assert "TLDR: Kelp forests recovered after divers removed sea urchins" in page
    assert "<b>news</b>" not in page and "&lt;b&gt;news&lt;/b&gt;" in page


def test_articles_with_a_current_summary_are_not_summarized_again(news: Library,
                                                                  tmp_path: Path):
    generator = EchoSummaries()
    news.use_generator(generator)
    news.summarize(["kelp", "coral"])
    assert generator.calls == 2
    report = news.digest(new=True, since="", out=tmp_path / "out")
    assert generator.calls == 2 + len(STORIES) + 1 - 2  # only the three without a summary
    assert "TLDR: Kelp forests recovered" in Path(report.written[1]).read_text()


def test_a_second_run_with_nothing_new_writes_nothing(news: Library, tmp_path: Path):
    out = tmp_path / "out"
    news.digest(new=True, since="", out=out)
    before = sorted(out.iterdir())
    again = news.digest(new=True, since="", out=out)
    assert again.written == [] and again.message == "nothing new to digest"
    assert sorted(out.iterdir()) == before


def test_since_takes_articles_dated_from_that_day_and_a_bad_date_is_refused(
        news: Library, tmp_path: Path):
    report = news.digest(new=False, since="2026-06-05", out=tmp_path / "out")
    assert sorted(report.articles) == ["coral", "glacier"]  # dated 06-05 and 06-07
    with pytest.raises(RagError, match="not a date"):
        news.digest(new=False, since="last week", out=tmp_path / "out")


class OverviewOnly(EchoSummaries):
    """Writes no TLDR, and one invented finding."""

    def stream(self, messages, max_tokens, temperature=0.0):
        first = next(super().stream(messages, max_tokens)).split("\n")[1]
        yield f"## Overview\n{first}\n## Key findings\n- Volcanoes erupt on Jupiter daily.\n"


def test_without_a_tldr_the_overview_leads_and_unsupported_sentences_are_left_out(
        news: Library, tmp_path: Path):
    news.use_generator(OverviewOnly())
    report = news.digest(new=True, since="", out=tmp_path / "out")
    markdown = Path(report.written[0]).read_text()
    assert "**TLDR:** Kelp forests recovered after divers removed sea urchins" in markdown
    assert "Jupiter" not in markdown and "Jupiter" not in Path(report.written[1]).read_text()


class Invented(EchoSummaries):
    """Drafts only a claim no article bears out."""

    def stream(self, messages, max_tokens, temperature=0.0):
        yield "## Overview\nVolcanoes erupt on Jupiter daily.\n"


def test_a_story_whose_summary_bears_out_nothing_says_so_in_the_digest(
        news: Library, tmp_path: Path):
    news.use_generator(Invented())
    report = news.digest(new=True, since="", out=tmp_path / "out")
    markdown, page = (Path(p).read_text() for p in report.written)
    assert "Jupiter" not in markdown and "Jupiter" not in page
    lead = NOTHING_BORNE_OUT.split(",")[0]
    stories = markdown.count("\n### ")
    assert markdown.count(lead) == page.count(lead) == stories == page.count("<article>") > 0


def test_two_digests_on_one_day_keep_both_stories_and_the_latest_is_the_newest(
        news: Library, tmp_path: Path):
    out = tmp_path / "out"
    news.remove(["glacier"])
    first = news.digest(new=True, since="", out=out)
    (tmp_path / "later.md").write_text("---\ntitle: Glacier news\n---\n" + STORIES["glacier"])
    news.ingest([tmp_path / "later.md"])
    second = news.digest(new=True, since="", out=out)
    assert second.articles == ["later"] and set(first.written).isdisjoint(second.written)
    pages = [p.read_text() for p in sorted(out.glob("digest-*.md"))]
    assert len(pages) == 2 and "Kelp" in pages[0] and "Glacier news" in pages[1]
    assert latest(out) == Path(second.written[1])


def test_markdown_digest_escapes_what_articles_say(library: Library, tmp_path: Path):
    (tmp_path / "trap.md").write_text(
        "---\ntitle: Win [a prize](http://evil.example/x) <img src=x onerror=alert(1)>\n---\n"
        "Kelp forests recovered after divers removed sea urchins from reefs. Fish counts rose "
        "on the culled reefs. Urchins returned once culling stopped.\n")
    library.ingest([tmp_path / "trap.md"])
    library.use_generator(EchoSummaries())
    report = library.digest(new=True, since="", out=tmp_path / "out")
    markdown = Path(report.written[0]).read_text()
    assert "](http://evil" not in markdown and "<img" not in markdown
    assert r"\[a prize\]\(http://evil.example/x\)" in markdown and "&lt;img" in markdown


class NothingFor(EchoSummaries):
    """Writes no summary for the article about glaciers."""

    def stream(self, messages, max_tokens, temperature=0.0):
        if "glacier" not in messages[-1]["content"].lower():
            yield from super().stream(messages, max_tokens)


def test_digest_command_exits_1_when_an_article_failed_to_summarize(
        news: Library, tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    news.use_generator(NothingFor())
    monkeypatch.setattr(Library, "open", classmethod(lambda cls, settings=None: news))
    result = CliRunner().invoke(app, ["digest", "--new", "--no-progress", "--json"])
    assert result.exit_code == 1, result.output
    assert '"glacier"' in result.output and "wrote no summary" in result.output


def test_a_digested_story_that_changed_appears_under_updated_with_what_changed(
        news: Library, tmp_path: Path):
    out = tmp_path / "out"
    news.digest(new=True, since="", out=out)
    glacier = tmp_path / "news" / "glacier.md"
    glacier.write_text(glacier.read_text().replace("twice as fast", "three times as fast")
                       .replace("since 2010", "since 2012")
                       + "Two ski resorts closed for good.\n")
    news.ingest([tmp_path / "news"])
    report = news.digest(new=True, since="", out=out)
    assert report.updated == ["glacier"] and report.articles == []
    markdown, page = (Path(p).read_text() for p in report.written)
    updated = markdown.split("## Updated", 1)[1]
    assert "2010 → 2012" in updated and "Added: “Two ski resorts closed for good.”" in updated
    assert "### Kelp" not in markdown  # unchanged stories are not repeated
    # each change links to its span in the version it is in, both carried by the page
    now, before = news.article("glacier").text, news.versions("glacier")[0]["text"]
    links = re.findall(r"href='#(u-glacier-(old|new)-(\d+)-(\d+))'", page)
    assert {side for _, side, _, _ in links} == {"old", "new"}
    for anchor, side, start, end in links:
        mark = re.search(rf"<mark id='{anchor}'>([^<]+)</mark>", page)
        assert mark and mark.group(1) == (before if side == "old" else now)[int(start):int(end)]
    assert news.digest(new=True, since="", out=out).written == []  # reported once


def test_new_articles_that_contradict_each_other_are_listed_with_both_sides(
        news: Library, tmp_path: Path):
    for name, share in (("ice-a", 30), ("ice-b", 12)):
        (tmp_path / f"{name}.md").write_text(
            f"---\ntitle: {name}\n---\nAndes glaciers lost {share} percent of their ice since "
            "2010. Rivers below them now run dry in August.\n")
    news.ingest([tmp_path / "ice-a.md", tmp_path / "ice-b.md"])
    report = news.digest(new=True, since="", out=tmp_path / "out")
    (found,) = report.disagreements
    assert found["kind"] == "number"
    assert {found["a"]["article_id"], found["b"]["article_id"]} == {"ice-a", "ice-b"}
    markdown, page = (Path(p).read_text() for p in report.written)
    section = markdown.split("## Disagreements", 1)[1]
    assert "30 percent" in section and "12 percent" in section and "`ice-a`" in section
    assert page.count("<h2>Disagreements</h2>") == 1
