"""Batch summarization: which articles need a summary, writing Markdown/JSON files, and the
state that makes ``--new`` a no-op the second time.

Each summary's files are written atomically, and the state is updated (atomically) only after
them, so a Ctrl-C or kill at any point leaves every finished summary on disk and a state that
never claims an unfinished one. Against an OpenAI-compatible server several articles are
drafted concurrently; checking and writing stay on the calling thread.
"""

from __future__ import annotations

import json
import sys
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from tqdm import tqdm

from rag.core.errors import RagError
from rag.core.files import atomic_write, inside
from rag.core.types import Article, Failure, Summary
from rag.digest.summarize import NOTHING_BORNE_OUT, SECTIONS, Summarizer
from rag.index.store import Store

STATE = "state.json"


@dataclass
class BatchReport:
    summaries: list[Summary] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    failed: list[Failure] = field(default_factory=list)
    seconds: float = 0.0

    def to_dict(self) -> dict[str, Any]:
        return {
            "summaries": [s.to_dict() for s in self.summaries],
            "skipped": self.skipped,
            "failed": [vars(f) for f in self.failed],
            "seconds": round(self.seconds, 2),
        }


class SummaryState:
    """article id -> content hash it was summarized at, in ``<folder>/state.json``."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        try:
            self.entries: dict[str, dict[str, str]] = json.loads((folder / STATE).read_text())
        except FileNotFoundError:
            self.entries = {}
        except (OSError, ValueError):
            raise RagError(f"summary state {folder / STATE} is damaged; delete it to "
                           "re-summarize everything") from None

    def is_current(self, article_id: str, content_hash: str) -> bool:
        return self.entries.get(article_id, {}).get("content_hash") == content_hash

    def record(self, summary: Summary) -> None:
        self.entries[summary.article_id] = {
            "content_hash": summary.content_hash,
            "summarized_at": datetime.now(UTC).isoformat(timespec="seconds"),
            "title": summary.title,
        }
        atomic_write(self.folder / STATE, json.dumps(self.entries, indent=2))


def pending(store: Store, state: SummaryState) -> tuple[list[str], list[str]]:
    """(articles with no summary or a changed one, articles whose summary is current)"""
    todo, current = [], []
    for article_id, (content_hash, _) in sorted(store.fingerprints().items()):
        (current if state.is_current(article_id, content_hash) else todo).append(article_id)
    return todo, current


Outcome = Callable[[], tuple[str, float, str]]
"""(draft, seconds, model) of one article, or raises why it has none."""
Drafts = Callable[[list[Article]], Iterator[tuple[Article, Outcome]]]
"""Drafts articles' summaries, yielding each outcome as it finishes (in any order)."""


def run_batch(store: Store, summarizer: Summarizer, article_ids: list[str], folder: Path,
              drafts: Drafts, progress: bool) -> BatchReport:
    """Drafts (by ``drafts``: here, on a server, on Ray), then checks and writes each summary
    here as it arrives."""
    folder.mkdir(parents=True, exist_ok=True)
    state = SummaryState(folder)
    report = BatchReport()
    started = time.perf_counter()
    hashes = {a: h for a, (h, _) in store.fingerprints().items()}
    articles = []
    for article_id in article_ids:
        article = store.article(article_id)
        if article is None:
            report.failed.append(Failure(article_id, "no such article in the index"))
        else:
            articles.append(article)
    with tqdm(total=len(articles), desc="summarizing", unit="article", disable=not progress,
              file=sys.stderr) as bar:
        for article, outcome in drafts(articles):
            try:
                draft, seconds, model = outcome()
                summary = summarizer.check(article, draft, hashes[article.id], seconds, model)
                write_summary(folder, summary, article)
                state.record(summary)
                report.summaries.append(summary)
            except (RagError, OSError, ValueError) as err:
                report.failed.append(Failure(article.id, str(err).splitlines()[0]))
            bar.update(1)
    write_index(folder, state)
    report.seconds = time.perf_counter() - started
    return report


def local_drafts(summarizer: Summarizer, workers: int) -> Drafts:
    """Drafts with ``summarizer`` in this process, ``workers`` at a time (threads: several
    only pay off against a server)."""

    def timed(article: Article) -> tuple[str, float, str]:
        began = time.perf_counter()
        draft = summarizer.draft(article)
        return draft, time.perf_counter() - began, summarizer.generator().name

    def drafts(articles: list[Article]) -> Iterator[tuple[Article, Outcome]]:
        with ThreadPoolExecutor(max_workers=max(1, workers)) as pool:
            if workers <= 1:  # one at a time, so an interrupt loses at most the current one
                for article in articles:
                    yield article, pool.submit(timed, article).result
                return
            futures = {pool.submit(timed, a): a for a in articles}
            try:
                for future in as_completed(futures):
                    yield futures[future], future.result
            finally:
                for future in futures:
                    future.cancel()

    return drafts


def summary_paths(folder: Path, article_id: str) -> tuple[Path, Path]:
    """(Markdown, JSON) files of an article's summary."""
    return inside(folder, f"{article_id}.md"), inside(folder, f"{article_id}.json")


def write_summary(folder: Path, summary: Summary, article: Article) -> None:
    markdown, data = summary_paths(folder, summary.article_id)
    atomic_write(data, json.dumps(summary.to_dict(), indent=2, ensure_ascii=False))
    atomic_write(markdown, render_markdown(summary, article))


def render_markdown(summary: Summary, article: Article) -> str:
    """Human-readable summary; each sentence points at numbered quotes from the article."""
    quotes: dict[tuple[int, int], int] = {}
    lines = [f"# {summary.title}", "",
             f"`{summary.article_id}` · summarized by {summary.model}", ""]
    for role, heading in SECTIONS.items():
        sentences = [s for s in summary.shown if s.role == role]
        if not sentences:
            continue
        lines += [f"## {heading}", ""]
        for s in sentences:
            refs = "".join(f"[{quotes.setdefault((p.start, p.end), len(quotes) + 1)}]"
                           for p in s.spans)
            lines.append(f"{'- ' if role in ('finding', 'caveat') else ''}{s.text} {refs}".rstrip())
        lines.append("")
    left_out = len(summary.sentences) - len(summary.shown)
    trimmed = sum(1 for s in summary.shown if s.drafted)
    if not summary.shown:
        lines += [f"**{NOTHING_BORNE_OUT}**", ""]
    if trimmed:
        lines += [f"*{trimmed} sentence(s) trimmed to the part the article bears out (the "
                  "model's wording is in the JSON, under \"drafted\").*", ""]
    if left_out:
        lines += [f"*{left_out} sentence(s) of the draft left out: the article does not bear "
                  "them out (listed with the reason in the JSON, under \"dropped\").*", ""]
    if quotes:
        lines += ["## Sources in the article", ""]
        for (start, end), n in sorted(quotes.items(), key=lambda item: item[1]):
            lines.append(f"{n}. chars {start}–{end}: “{article.text[start:end]}”")
    return "\n".join(lines).rstrip() + "\n"


def write_index(folder: Path, state: SummaryState) -> None:
    rows = sorted(state.entries.items())
    atomic_write(folder / "index.json", json.dumps(
        [{"article_id": a, **entry, "markdown": f"{a}.md", "json": f"{a}.json"}
         for a, entry in rows], indent=2, ensure_ascii=False))
    lines = ["# Summaries", ""] + [f"- [{entry.get('title') or a}]({a}.md) — {a}, "
                                   f"{entry['summarized_at']}" for a, entry in rows]
    atomic_write(folder / "index.md", "\n".join(lines) + "\n")
