"""The digest's "Updated" section: stories already in an earlier digest whose article has
changed since (a feed or ``rag ingest URL`` took a new text; the old one is kept as a version,
``rag.index.versions``). Each shows what changed — numbers ("death toll rose 12 → 15"), sentences
added, removed and reworded — every line cited to the version it is in: the HTML carries
both texts with the spans marked, and each link opens and highlights one.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

from rag.core.types import Article
from rag.digest.page_html import Segment, segments
from rag.index.versions import changes


@dataclass
class Update:
    """A digested story that changed: its text then (``previous``) and now."""

    article: Article
    previous: dict[str, Any]
    """The version that was current when the story was last digested (``Store.versions``)."""
    change: dict[str, Any]


class KeepsVersions(Protocol):
    """What finding updated stories needs of the library: its articles and their earlier
    texts."""

    def article(self, article_id: str) -> Article | None: ...

    def versions(self, article_id: str) -> list[dict[str, Any]]: ...


def updated_stories(library: KeepsVersions, digested: dict[str, str]) -> list[Update]:
    """Stories digested at ``digested[id]`` (an ISO time; an older state holds a day) whose
    article was replaced by a new text after that."""
    found = []
    for article_id, when in sorted(digested.items()):
        later = [v for v in library.versions(article_id) if v["replaced_at"] > when]
        article = library.article(article_id)
        if later and article is not None and later[0]["text"] != article.text:
            found.append(Update(article, later[0], changes(later[0]["text"], article.text)))
    return found


def _anchor(update: Update, side: str, span: dict[str, Any]) -> str:
    return f"u-{update.article.id}-{side}-{int(span['start'])}-{int(span['end'])}"


def lines(update: Update) -> list[tuple[str, list[tuple[str, str, dict[str, Any]]]]]:
    """What changed, one line per change: its text and the (label, side, span) it cites;
    side is "old" (the previous version) or "new"."""
    change = update.change
    out: list[tuple[str, list[tuple[str, str, dict[str, Any]]]]] = []
    for n in change["numbers"]:
        out.append((f"{n['context']} {n['from']} → {n['to']}".strip(),
                    [("before", "old", n["old"]), ("now", "new", n["new"])]))
    numbered = {(n["new"]["start"], n["new"]["end"]) for n in change["numbers"]}
    for pair in change["reworded"]:
        within = any(pair["new"]["start"] <= a < pair["new"]["end"] for a, _ in numbered)
        if not within:
            out.append((f"Reworded: “{pair['new']['text']}”",
                        [("before", "old", pair["old"]), ("now", "new", pair["new"])]))
    out += [(f"Added: “{s['text']}”", [("now", "new", s)]) for s in change["added"]]
    out += [(f"Removed: “{s['text']}”", [("before", "old", s)]) for s in change["removed"]]
    return out


def render_markdown(updates: list[Update], html_name: str,
                    escape: Callable[[str], str]) -> list[str]:
    """The section's Markdown lines (``escape``: the digest's own, for article text)."""
    if not updates:
        return []
    out = ["## Updated", ""]
    for update in updates:
        out += [f"### {escape(update.article.title or update.article.id)}",
                f"changed after {escape(update.previous['replaced_at'][:16])}", ""]
        for text, cited in lines(update):
            links = ", ".join(f"[{label}]({html_name}#{_anchor(update, side, span)})"
                              for label, side, span in cited)
            out.append(f"- {escape(text)} ({links})")
        out.append("")
    return out


def view(update: Update) -> dict[str, Any]:
    """What the digest page shows of one update (``rag.digest.page_html``): each change
    linked into the two texts it carries."""
    marks: dict[str, set[tuple[int, int]]] = {"old": set(), "new": set()}
    shown = []
    for text, cited in lines(update):
        shown.append({"text": text, "links": [(label, _anchor(update, side, span))
                                              for label, side, span in cited]})
        for _, side, span in cited:
            marks[side].add((int(span["start"]), int(span["end"])))

    def text_of(side: str, text: str) -> list[Segment]:
        return segments(text, marks[side],
                        lambda a, b: _anchor(update, side, {"start": a, "end": b}))

    return {"title": update.article.title or update.article.id,
            "replaced_at": update.previous["replaced_at"][:16], "lines": shown,
            "now": text_of("new", update.article.text),
            "before": text_of("old", update.previous["text"])}
