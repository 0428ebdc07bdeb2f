"""The digest: one page that says what arrived and what each piece found, every sentence
linked to the article span it rests on.

Which articles: ``new`` (not in an earlier digest; ``DIGESTS/state.json``) or ``since`` (dated
on or after a day). Each is summarized first where it has no current summary (the same batch
code and files as ``rag summarize``). Near-duplicates (the same press release from two feeds:
MinHash, as ingest reports them) appear once, with every source. Topics: article vectors (the
mean of their passages' vectors) grouped by spherical k-means in FAISS, each group named by
its most characteristic words. Written: ``digest-YYYY-MM-DDTHHMMSS.md`` and a self-contained
``.html`` (escaped, readable offline; the cited spans are marked in the article text it
carries, and a link to one opens the text and highlights it). Each run writes files of its
own, so a second digest on the same day never replaces the first one's stories. With
``new``, stories of earlier digests whose article changed since get an "Updated" section
(``rag.digest.updates``); new articles that contradict each other, or one already in the
library, on the same point are listed under "Disagreements" (``rag.digest.disagreements``).
Every digest is also an entry of the folder's Atom feed (``rag.digest.feed``).
"""

from __future__ import annotations

import html
import json
import math
import re
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Protocol

import numpy as np

from rag.core.errors import RagError
from rag.core.files import atomic_write
from rag.core.text import STOPWORDS, stem, words
from rag.core.types import Article
from rag.digest.disagreements import SearchesSummaries, digest_disagreements
from rag.digest.disagreements import render_markdown as disagreements_markdown
from rag.digest.disagreements import view as disagreement_view
from rag.digest.feed import write_feed
from rag.digest.page_html import render_page, segments
from rag.digest.summarize import NOTHING_BORNE_OUT, checked_sentences
from rag.digest.summary_batch import BatchReport
from rag.digest.updates import KeepsVersions, Update, updated_stories
from rag.digest.updates import render_markdown as updates_markdown
from rag.digest.updates import view as update_view
from rag.index.catalog import ArticleSummary
from rag.index.duplicates import near_duplicates
from rag.index.store import Store
from rag.reading.disagree import Disagreement
from rag.reading.support import WordWeights
from rag.sources.web import is_web_url

STATE = "state.json"


@dataclass
class Item:
    """One story of the digest: an article, and the near-duplicates shown with it."""

    article: Article
    summary: dict[str, Any]
    also: list[Article] = field(default_factory=list)


@dataclass
class Group:
    name: str
    items: list[Item]


@dataclass
class DigestReport:
    written: list[str] = field(default_factory=list)
    articles: list[str] = field(default_factory=list)
    groups: list[dict[str, Any]] = field(default_factory=list)
    """``{"label", "article_ids"}`` per topic (a story's near-duplicates included)."""
    failed: list[dict[str, str]] = field(default_factory=list)
    disagreements: list[dict[str, Any]] = field(default_factory=list)
    """Pairs of articles (one of them new) that contradict each other on the same point."""
    updated: list[str] = field(default_factory=list)
    """Digested before, changed since: shown in the Updated section with what changed."""
    message: str = ""

    def to_dict(self) -> dict[str, Any]:
        return vars(self)


class Digests(KeepsVersions, SearchesSummaries, Protocol):
    """What a digest needs of the library (``rag.library.Library``): the articles, their
    summaries (written where missing), the store's vectors and near-duplicate bands, and what
    finding updates and disagreements needs."""

    store: Store

    def articles(self) -> list[ArticleSummary]: ...

    def summarize(self, article_ids: list[str] | None = None, progress: bool = False,
                  stale_only: bool = False) -> BatchReport: ...


def make_digest(library: Digests, new: bool, since: str, folder: Path,
                progress: bool = False) -> DigestReport:
    """Select, summarize where needed, group, write into ``folder``; with nothing to digest,
    writes nothing and says so."""
    state = _read_state(folder)
    wanted = _select(library, new, since, state)
    updates = updated_stories(library, state) if new else []
    if not wanted and not updates:
        return DigestReport(message="nothing new to digest" if new else
                            f"no article dated on or after {since}")
    report, articles = DigestReport(), []
    if wanted:
        batch = library.summarize(wanted, progress=progress, stale_only=True)
        report.failed = [vars(f) for f in batch.failed]
        summarized = {s.article_id for s in batch.summaries} | set(batch.skipped)
        articles = [a for a in (library.article(i) for i in wanted) if a and a.id in summarized]
    if not articles and not updates:
        report.message = "no article could be summarized; nothing written"
        return report
    items = _merge_duplicates(library, articles)
    groups = _groups(library, items) if items else []
    now = datetime.now(UTC)
    stamp, when = now.isoformat(timespec="microseconds"), now.strftime("%Y-%m-%d %H:%M UTC")
    folder.mkdir(parents=True, exist_ok=True)
    md_path, html_path = _new_paths(folder, now)
    found = digest_disagreements(library, articles)
    atomic_write(html_path, render_html(groups, when, updates, found))
    atomic_write(md_path, render_markdown(groups, when, html_path.name, updates, found))
    state.update({a.id: stamp for a in [*articles, *(u.article for u in updates)]})
    atomic_write(folder / STATE, json.dumps(state, indent=2))
    write_feed(folder)
    report.written = [str(md_path), str(html_path)]
    report.articles = [a.id for a in articles]
    report.updated = [u.article.id for u in updates]
    report.disagreements = [d.to_dict() for d in found]
    report.groups = [{"label": g.name, "article_ids": [
        a.id for item in g.items for a in (item.article, *item.also)]} for g in groups]
    report.message = (f"{len(items)} stories from {len(articles)} articles in {len(groups)} "
                      f"topics, {len(updates)} updated")
    return report


def _new_paths(folder: Path, now: datetime) -> tuple[Path, Path]:
    """Markdown and HTML paths no earlier digest has: named by the time of the run (files of
    one day sort in the order they were made, after a day-only name of that day)."""
    stem = f"digest-{now:%Y-%m-%dT%H%M%S}"
    n = 1
    while (folder / f"{stem}.md").exists() or (folder / f"{stem}.html").exists():
        n += 1
        stem = f"digest-{now:%Y-%m-%dT%H%M%S}~{n}"
    return folder / f"{stem}.md", folder / f"{stem}.html"


def latest(folder: Path) -> Path | None:
    """The newest HTML digest in ``folder`` (the names sort by the time they were made)."""
    found = sorted(folder.glob("digest-*.html"))
    return found[-1] if found else None


def _read_state(folder: Path) -> dict[str, str]:
    try:
        return json.loads((folder / STATE).read_text())
    except FileNotFoundError:
        return {}
    except (OSError, ValueError):
        raise RagError(f"digest state {folder / STATE} is damaged; delete it to digest "
                       "every article again") from None


def _select(library: Digests, new: bool, since: str, state: dict[str, str]) -> list[str]:
    if new == bool(since):
        raise RagError("give exactly one of --new or --since DATE")
    if since and not re.fullmatch(r"\d{4}(-\d{2}(-\d{2})?)?", since):
        raise RagError(f"--since {since!r} is not a date; use YYYY-MM-DD")
    rows = library.articles()
    if new:
        return [a.id for a in rows if a.id not in state]
    return [a.id for a in rows if a.date and a.date >= since]


def _merge_duplicates(library: Digests, articles: list[Article]) -> list[Item]:
    """One item per story: an article and its near-duplicates among ``articles``."""
    by_id = {a.id: a for a in articles}
    pairs = near_duplicates(library.store, list(by_id), library.settings.near_duplicate_jaccard)
    shown_with: dict[str, str] = {}
    for a, b in pairs:
        if a in by_id and b in by_id:
            first = shown_with.get(a, a)
            shown_with.setdefault(b, first)
    items: dict[str, Item] = {}
    for article in articles:
        head = shown_with.get(article.id, article.id)
        if head == article.id:
            items[head] = Item(article, library.summary(article.id) or {})
    for article_id, head in shown_with.items():
        if head in items and article_id != head:
            items[head].also.append(by_id[article_id])
    return list(items.values())


def _groups(library: Digests, items: list[Item]) -> list[Group]:
    """Items grouped by topic (k-means over article vectors, k = ceil(sqrt(n / 2)))."""
    weights = library.scorer().weights
    if len(items) <= 2:
        return [Group(_name(items, items, weights), items)]
    vectors = np.vstack([_article_vector(library, item.article.id) for item in items])
    k = math.ceil(math.sqrt(len(items) / 2))
    import faiss

    kmeans = faiss.Kmeans(vectors.shape[1], k, niter=25, seed=1, spherical=True,
                          min_points_per_centroid=1, verbose=False)
    kmeans.train(vectors)
    _, labels = kmeans.index.search(vectors, 1)
    clusters: dict[int, list[Item]] = {}
    for item, label in zip(items, labels[:, 0], strict=True):
        clusters.setdefault(int(label), []).append(item)
    groups = [Group(_name(members, items, weights), members) for members in clusters.values()]
    return sorted(groups, key=lambda g: -len(g.items))


def _article_vector(library: Digests, article_id: str) -> np.ndarray:
    ids = library.store.chunk_ids([article_id]).tolist()
    vector = library.store.vectors.vectors(ids).mean(axis=0)
    return (vector / (np.linalg.norm(vector) or 1.0)).astype(np.float32)


def _name(members: list[Item], everyone: list[Item], weights: WordWeights) -> str:
    """The group's three most characteristic words: in many of its titles and TLDRs, in few
    of the other groups', and rare in the library."""
    def named(item: Item) -> set[str]:
        text = f"{item.article.title} {item.summary.get('tldr', '')}"
        return {w for w in words(text) if len(w) > 2 and w.isalpha() and w not in STOPWORDS}

    inside = Counter(w for m in members for w in named(m))
    overall = Counter(w for m in everyone for w in named(m))
    rarity = {w: weights(stem(w)) for w in inside}
    ranked = sorted(inside, key=lambda w: (-inside[w] ** 2 / overall[w] * rarity[w], w))
    return ", ".join(ranked[:3]) or "other"


def _sentences(item: Item) -> list[tuple[str, dict[str, Any]]]:
    """(role, sentence) of what a digest shows of a summary: its TLDR (or, if the model
    wrote none, its overview) and key findings; only sentences found in the article, so
    every one links to its span."""
    found = checked_sentences(item.summary)
    lead = [s for s in found if s.get("role") == "tldr"] or \
        [{**s, "role": "tldr"} for s in found if s.get("role") == "overview"][:1]
    return [(s["role"], s) for s in lead + [s for s in found if s.get("role") == "finding"]]


def _anchor(article_id: str, span: dict[str, Any]) -> str:
    return f"s-{article_id}-{int(span['start'])}-{int(span['end'])}"


def render_markdown(groups: list[Group], when: str, html_name: str,
                    updates: list[Update] = (), found: list[Disagreement] = ()) -> str:
    """The digest in Markdown; each sentence links to its span in the HTML digest. Every
    text from an article (titles, sources, sentences) is escaped: it cannot add links,
    markup or HTML to the page."""
    lines = [f"# Digest {when}", ""]
    for group in groups:
        lines += [f"## {_md(group.name)}", ""]
        for item in group.items:
            a = item.article
            lines.append(f"### {_md(a.title or a.id)}")
            lines.append(" · ".join(_md(x) for x in (a.date, _where(a), *(
                f"also: {_where(o)}" for o in item.also)) if x))
            lines.append("")
            for role, s in _sentences(item):
                links = " ".join(f"[{n}]({html_name}#{_anchor(a.id, span)})"
                                 for n, span in enumerate(s.get("spans", []), start=1))
                lead = "**TLDR:** " if role == "tldr" else "- "
                lines.append(f"{lead}{_md(s.get('text', ''))} {links}".rstrip())
            if not checked_sentences(item.summary):
                lines.append(f"*{_md(NOTHING_BORNE_OUT)}*")
            lines.append("")
    lines += updates_markdown(list(updates), html_name, _md)
    lines += disagreements_markdown(list(found), _md)
    return "\n".join(lines)


_MARKDOWN = re.compile(r"([\\`*_{}\[\]()#+!|~])")


def _md(text: str) -> str:
    """Text as literal Markdown: its punctuation escaped, HTML as entities, one line."""
    text = html.escape(" ".join(str(text).split()), quote=False)
    return _MARKDOWN.sub(r"\\\1", text)


def _where(article: Article) -> str:
    return article.url or article.source or article.id


def render_html(groups: list[Group], when: str, updates: list[Update] = (),
                found: list[Disagreement] = ()) -> str:
    """The digest as one self-contained, escaped HTML page carrying each article's text."""
    return render_page(
        when=when, nothing_borne_out=NOTHING_BORNE_OUT,
        groups=[{"name": group.name, "stories": [_story(item) for item in group.items]}
                for group in groups],
        updates=[update_view(u) for u in updates],
        disagreements=[disagreement_view(d) for d in found])


def _story(item: Item) -> dict[str, Any]:
    a = item.article
    shown = _sentences(item)
    spans = {(int(p["start"]), int(p["end"])) for _, s in shown for p in s.get("spans", [])}
    return {"title": a.title or a.id, "date": a.date,
            "sources": [_source(a)] + [{**_source(o), "also": True} for o in item.also],
            "sentences": [{"tldr": role == "tldr", "text": s.get("text", ""),
                           "anchors": [_anchor(a.id, span) for span in s.get("spans", [])]}
                          for role, s in shown],
            "nothing_borne_out": not checked_sentences(item.summary),
            "text": segments(a.text, spans,
                             lambda x, y: _anchor(a.id, {"start": x, "end": y}))}


def _source(article: Article) -> dict[str, Any]:
    return {"where": _where(article), "url": article.url if is_web_url(article.url) else ""}
