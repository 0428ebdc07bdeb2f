"""The digest's "Disagreements" section: new articles that contradict each other, or an
article already in the library, on the same point (``rag.reading.disagree``), each side quoted with
its article and characters.

Each new article's checked summary sentences are the points looked for: each is searched
across the library, and the passages found are read for a disagreement that involves the
new article.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Protocol

from rag.core.settings import Settings
from rag.core.types import Article, Citation, Hit
from rag.digest.summarize import checked_sentences
from rag.reading.disagree import Disagreement, find_disagreements
from rag.reading.support import SupportScorer


class SearchesSummaries(Protocol):
    """What finding disagreements needs of the library: the summaries' checked sentences,
    a search for each, and the scorer that reads them."""

    settings: Settings

    def summary(self, article_id: str) -> dict[str, Any] | None: ...

    def search(self, query: str, k: int | None = None) -> list[Hit]: ...

    def scorer(self) -> SupportScorer: ...


def digest_disagreements(library: SearchesSummaries, articles: list[Article]) -> list[Disagreement]:
    """At most one disagreement per pair of articles, each involving a new article."""
    scorer = library.scorer()
    found: list[Disagreement] = []
    settled: set[frozenset[str]] = set()
    for article in articles:
        for sentence in checked_sentences(library.summary(article.id) or {}):
            hits = library.search(sentence["text"], library.settings.top_k)
            for d in find_disagreements(sentence["text"], hits, scorer):
                pair = frozenset((d.a.article_id, d.b.article_id))
                if article.id in pair and pair not in settled:
                    settled.add(pair)
                    found.append(d)
    return found


def _side(citation: Citation) -> tuple[str, str, str]:
    return (citation.title or citation.article_id, citation.article_id,
            f"chars {citation.start}–{citation.end}")


def render_markdown(found: list[Disagreement], escape: Callable[[str], str]) -> list[str]:
    """The section's Markdown lines (``escape``: the digest's own, for article text)."""
    if not found:
        return []
    out = ["## Disagreements", ""]
    for d in found:
        sides = [f"**{escape(title)}** (`{escape(article_id)}`, {where}): “{escape(c.text)}”"
                 for c in (d.a, d.b) for title, article_id, where in [_side(c)]]
        out.append(f"- {d.kind}: {sides[0]} — {sides[1]}")
    return [*out, ""]


def view(found: Disagreement) -> dict[str, Any]:
    """What the digest page shows of one disagreement (``rag.digest.page_html``)."""
    return {"kind": found.kind, "sides": [
        {"title": title, "article_id": article_id, "where": where, "text": c.text}
        for c in (found.a, found.b) for title, article_id, where in [_side(c)]]}
