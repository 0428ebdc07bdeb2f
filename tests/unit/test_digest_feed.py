"""The digests' Atom feed: one entry per digest on disk, newest first, links beside it."""

from __future__ import annotations

from pathlib import Path
from xml.etree import ElementTree

import feedparser

from rag.digest.feed import write_feed

NAMES = ["digest-2026-12-06T062900", "digest-2026-12-07T062900", "digest-2026-12-07T062900~2"]


def test_every_digest_on_disk_is_an_entry_newest_first_with_its_page_and_citations(
        tmp_path: Path):
    for n, stem in enumerate(NAMES):
        (tmp_path / f"{stem}.md").write_text(
            f"# Digest number {n}\n\n### Story {n}\n\n**TLDR:** It rained. "
            f"[1]({stem}.html#s-a-0-10)\n")
    parsed = feedparser.parse(write_feed(tmp_path).read_bytes())
    assert not parsed.bozo, parsed.get("bozo_exception")
    assert [e.title for e in parsed.entries] == ["Digest number 2", "Digest number 1",
                                                 "Digest number 0"]
    assert [e.link for e in parsed.entries] == [f"{s}.html" for s in reversed(NAMES)]
    assert "href=\"digest-2026-12-07T062900~2.html#s-a-0-10\"" in \
        parsed.entries[0].content[0].value  # the checked sentence's citation, as a link
    (tmp_path / f"{NAMES[0]}.md").unlink()
    again = feedparser.parse(write_feed(tmp_path).read_bytes())
    assert [e.title for e in again.entries] == ["Digest number 2", "Digest number 1"]


def test_a_digest_cannot_put_markup_into_the_feed(tmp_path: Path):
    (tmp_path / "digest-2026-12-07T062900.md").write_text(
        "# Digest\n\n<script>alert(1)</script> [x](javascript:alert(1))\n")
    atom = ElementTree.parse(write_feed(tmp_path)).getroot()
    content = atom.find("{http://www.w3.org/2005/Atom}entry/{http://www.w3.org/2005/Atom}content")
    assert content is not None and content.get("type") == "html"
    shown = content.text  # the HTML a feed reader gets, before any sanitizer of its own
    assert "&lt;script&gt;" in shown and "<script>" not in shown  # text, never markup
    assert 'href="javascript:' not in shown
