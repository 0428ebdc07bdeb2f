"""The digest's "Updated" section: stories already in an earlier digest whose article has
changed since (a feed or ``rag ingest URL`` took a new text; the old one is kept as a version,
``rag.index.versions``). Each shows what changed — numbers ("death toll rose 12 → 15"), sentences
added, removed and reworded — every line cited to the version it is in: the HTML carries
both texts with the spans marked, and each link opens and highlights one.
"""

from __future__ import annotations

import html
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

from rag.core.types import Article
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


def render_html(updates: list[Update]) -> str:
    """The section in HTML: each change linked into the two texts it carries."""
    if not updates:
        return ""
    e = html.escape
    parts = ["<section><h2>Updated</h2>"]
    for update in updates:
        parts.append(f"<article><h3>{e(update.article.title or update.article.id)}</h3>"
                     f"<p class='meta'>changed after {e(update.previous['replaced_at'][:16])}"
                     "</p><ul>")
        marks: dict[str, set[tuple[int, int]]] = {"old": set(), "new": set()}
        for text, cited in lines(update):
            links = ", ".join(f"<a href='#{_anchor(update, side, span)}'>{label}</a>"
                              for label, side, span in cited)
            parts.append(f"<li>{e(text)} ({links})</li>")
            for _, side, span in cited:
                marks[side].add((int(span["start"]), int(span["end"])))
        now, before = (marked(text, marks[side], lambda a, b, side=side, update=update: _anchor(
            update, side, {"start": a, "end": b}))
            for side, text in (("new", update.article.text), ("old", update.previous["text"])))
        parts.append(f"</ul><details><summary>Article text now</summary><p>{now}</p></details>"
                     f"<details><summary>Previous version</summary><p>{before}</p></details>"
                     "</article>")
    parts.append("</section>")
    return "".join(parts)


def marked(text: str, spans: set[tuple[int, int]], anchor: Callable[[int, int], str]) -> str:
    """``text``, escaped, each span in a <mark> with its anchor id (of overlapping spans,
    the first keeps the mark)."""
    out, at = [], 0
    for start, end in sorted(spans):
        if start < at:
            continue
        out.append(html.escape(text[at:start]))
        out.append(f"<mark id='{anchor(start, end)}'>{html.escape(text[start:end])}</mark>")
        at = end
    out.append(html.escape(text[at:]))
    return "".join(out)
