"""Digests as a feed: every digest is an entry of ``DIGESTS/digests.atom``, newest first, so a
reader subscribes to the digests from any feed reader.

The feed is rebuilt from the digest files on disk after each digest (feedgen writes the Atom,
markdown-it renders each digest's Markdown as the entry's HTML), so it lists exactly the
digests there are, and a digest removed by hand leaves it too. Links are relative to the
feed's own address: an entry's link opens its digest page beside the feed, and each checked
sentence's citation opens the cited span in that page, wherever the folder is served from
(``rag serve`` serves it, behind the app's login: see ``feed_path``).
"""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime
from pathlib import Path

from rag.core.files import atomic_write

FEED = "digests.atom"


def write_feed(folder: Path) -> Path:
    """(Re)write the feed of the digests in ``folder``; returns its path."""
    from feedgen.feed import FeedGenerator
    from markdown_it import MarkdownIt

    render = MarkdownIt("commonmark", {"html": False}).render  # a digest's text, never raw HTML
    feed = FeedGenerator()
    key = hashlib.sha256(str(folder.resolve()).encode()).hexdigest()[:16]
    feed.id(f"urn:rag:digests:{key}")
    feed.title("Article digests")
    feed.link(href=FEED, rel="self")
    feed.language("en")
    notes = sorted(folder.glob("digest-*.md"))  # named by the time of the run: oldest first
    feed.updated(_made(notes[-1]) if notes else datetime.now(UTC))
    for note in notes:  # each prepended: newest first
        text = note.read_text()
        entry = feed.add_entry()
        entry.id(f"urn:rag:digests:{key}:{note.stem}")
        entry.title(text.splitlines()[0].lstrip("# ").strip() if text else note.stem)
        entry.link(href=note.with_suffix(".html").name, rel="alternate", type="text/html")
        entry.updated(_made(note))
        entry.content(render(text), type="html")
    path = folder / FEED
    atomic_write(path, feed.atom_str(pretty=True))
    return path


def _made(note: Path) -> datetime:
    """When a digest was made, from its name (``digest-2026-12-07T062900[~n].md``)."""
    stamp = note.stem.removeprefix("digest-").split("~")[0]
    try:
        return datetime.strptime(stamp, "%Y-%m-%dT%H%M%S").replace(tzinfo=UTC)
    except ValueError:
        return datetime.fromtimestamp(note.stat().st_mtime, UTC)
