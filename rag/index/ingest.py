"""Ingest: read files, decide what changed, chunk, embed, and commit in checkpoints.

Checkpoints make a long ingest resumable: each batch of articles is committed as its own index
generation, so an interrupted run keeps what it finished and the next run skips it (unchanged
content hash).
"""

from __future__ import annotations

import hashlib
import json
import sys
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
from tqdm import tqdm

from rag.core.errors import UnreadableInput
from rag.core.settings import Settings
from rag.core.types import Article, Chunk, Failure, IngestReport, ReplacedId
from rag.index.chunking import chunk_article
from rag.index.duplicates import near_duplicates, signature
from rag.index.embedding import Embedder
from rag.index.store import Store
from rag.sources.corpus import UPLOAD_PREFIX, UPLOADS, discover, read_file, safe_article_id


@dataclass
class _Pending:
    article: Article
    content_hash: str
    is_update: bool
    chunks: list[Chunk]


EmbedStream = Callable[[list[str]], Iterator[np.ndarray]]
"""Vectors of texts, in order, in as many arrays as it likes (local batches, Ray batches)."""


def local_stream(embedder: Embedder, batch: int) -> EmbedStream:
    """Embeds in this process, a batch when the next checkpoint needs it."""

    def stream(texts: list[str]) -> Iterator[np.ndarray]:
        for first in range(0, len(texts), batch):
            yield embedder.embed(texts[first : first + batch])

    return stream


def ingest(
    store: Store, embedder: Embedder, settings: Settings, paths: list[Path], progress: bool,
    within: list[Path] | None = None, embed: EmbedStream | None = None,
) -> IngestReport:
    """Ingest ``paths``; with ``within``, files (symlinks included) that resolve outside
    those folders are refused instead of read. ``embed`` embeds elsewhere (Ray workers);
    chunking and commits stay here."""
    files, failures = discover(paths, within)
    report = IngestReport(failed=failures)
    known = store.fingerprints()
    pending, seen, read_ok = _read_changes(files, known, settings, report, progress)
    stale = _stale_articles(known, paths, seen, read_ok)
    if pending or stale:
        _commit(store, embedder, settings, pending, stale, report, progress, embed)
    report.near_duplicates = near_duplicates(
        store, [p.article.id for p in pending], settings.near_duplicate_jaccard
    )
    return report


def ingest_articles(
    store: Store, embedder: Embedder, settings: Settings, articles: list[Article],
    progress: bool,
) -> IngestReport:
    """Make ``store`` hold exactly ``articles`` (``rag reindex`` rebuilding an index beside
    the old one), on the path files take: unchanged ones skipped, the rest chunked, embedded
    and committed in checkpoints, so an interrupted rebuild resumes where it stopped."""
    report = IngestReport()
    known = store.fingerprints()
    pending: list[_Pending] = []
    for article in articles:
        _sort_change(article, content_hash(article, settings), known, report, pending)
    wanted = {a.id for a in articles}
    stale = [article_id for article_id in known if article_id not in wanted]
    if pending or stale:
        _commit(store, embedder, settings, pending, stale, report, progress)
    return report


def _read_changes(
    files: list[Path],
    known: dict[str, tuple[str, str]],
    settings: Settings,
    report: IngestReport,
    progress: bool,
) -> tuple[list[_Pending], dict[str, str], set[str]]:
    """Parse every file; keep only new or changed articles. Returns (pending, id->source,
    sources read without error)."""
    pending: list[_Pending] = []
    seen: dict[str, str] = {}
    read_ok: set[str] = set()
    max_bytes = int(settings.max_file_mb * 1_000_000)
    uploads = str((Path(settings.index) / UPLOADS).resolve()) + "/"
    for path in tqdm(files, desc="reading", unit="file", disable=not progress, file=sys.stderr):
        try:
            parsed = read_file(path, max_bytes)
        except UnreadableInput as err:
            report.failed.append(Failure(str(path), str(err)))
            continue
        report.failed.extend(parsed.failures)
        report.replaced_ids.extend(ReplacedId(str(path), given, used)
                                   for given, used in parsed.replaced_ids)
        read_ok.add(str(path.resolve()))
        for article in parsed.articles:
            if article.source.startswith(uploads):
                given, article.id = article.id, _upload_id(article, known, seen)
                if article.id != given:
                    report.replaced_ids.append(ReplacedId(str(path), given, article.id))
            if article.id in seen:
                report.failed.append(Failure(
                    str(path), f"article id {article.id!r} also comes from {seen[article.id]}; "
                    "give one of them another file name or id"))
                continue
            digest = content_hash(article, settings)
            holder = _other_holder(article, known, digest)
            if holder:
                report.failed.append(Failure(
                    str(path), f"article id {article.id!r} is already held by {holder}; give "
                    "this file another name or id, or 'rag remove' the other first"))
                continue
            seen[article.id] = article.source
            _sort_change(article, digest, known, report, pending)
    return pending, seen, read_ok


def _other_holder(article: Article, known: dict[str, tuple[str, str]], digest: str) -> str:
    """The file that holds ``article``'s id in the index with other content, where that is
    another file that still exists ("" otherwise): two files giving one id (the same file
    name in two folders, or one front-matter ``id``) must not replace each other across
    runs. A copy of the same article is no clash (it is unchanged), and a file that was
    moved (its old path gone) keeps its article."""
    held, source = known.get(article.id, (digest, article.source))
    clash = held != digest and source != article.source and Path(source).is_file()
    return source if clash else ""




def _upload_id(article: Article, known: dict[str, tuple[str, str]],
               seen: dict[str, str]) -> str:
    """An uploaded article's id: in the ``upload-`` id space, and not one an article from
    another file holds (a suffix where it is taken), so a visitor's upload never replaces
    the operator's articles or another upload. The same file uploaded again keeps its id."""
    base = article.id if article.id.startswith(UPLOAD_PREFIX) else \
        safe_article_id(UPLOAD_PREFIX + article.id)
    candidate, n = base, 1
    while known.get(candidate, ("", article.source))[1] != article.source or \
            seen.get(candidate, article.source) != article.source:
        n += 1
        candidate = safe_article_id(f"{base}-{n}")
    return candidate


def _sort_change(article: Article, digest: str, known: dict[str, tuple[str, str]],
                 report: IngestReport, pending: list[_Pending]) -> None:
    """Count ``article`` as unchanged (its content hash ``digest`` is the stored one) or
    queue it."""
    if known.get(article.id, ("",))[0] == digest:
        report.unchanged += 1
    else:
        pending.append(_Pending(article, digest, article.id in known, []))


def _stale_articles(
    known: dict[str, tuple[str, str]], paths: list[Path], seen: dict[str, str], read_ok: set[str]
) -> list[str]:
    """Articles to drop: their file was deleted from an ingested folder, or their file was read
    again and no longer holds them. Files that failed to read keep their old articles."""
    folders = [str(p.resolve()) + "/" for p in paths if p.is_dir()]
    stale = []
    for article_id, (_, source) in known.items():
        if article_id in seen:
            continue
        deleted = not Path(source).exists() and any(source.startswith(f) for f in folders)
        if deleted or source in read_ok:
            stale.append(article_id)
    return stale


def _commit(
    store: Store,
    embedder: Embedder,
    settings: Settings,
    pending: list[_Pending],
    stale: list[str],
    report: IngestReport,
    progress: bool,
    embed: EmbedStream | None = None,
) -> None:
    for item in pending:
        item.chunks = chunk_article(
            item.article, embedder, settings.chunk_tokens, settings.overlap_tokens
        )
    total = sum(len(item.chunks) for item in pending)
    with tqdm(total=total, desc="embedding", unit="chunk", disable=not progress,
              file=sys.stderr) as bar:
        if stale:
            with store.transaction(embedder.dimension) as writer:
                report.removed += sum(writer.remove(article_id) for article_id in stale)
        stream = embed or local_stream(embedder, settings.embed_batch_size)
        rows = _Rows(stream([c.text for item in pending for c in item.chunks]),
                     embedder.dimension, bar)
        step = max(1, settings.checkpoint_articles)
        for first in range(0, len(pending), step):
            batch = pending[first : first + step]
            vectors = rows.take(sum(len(p.chunks) for p in batch))
            with store.transaction(embedder.dimension) as writer:
                offset = 0
                for item in batch:
                    n = len(item.chunks)
                    writer.upsert(item.article, item.content_hash, signature(item.article.text),
                                  item.chunks, vectors[offset : offset + n])
                    offset += n
            report.chunks_embedded += len(vectors)
            report.updated += sum(p.is_update for p in batch)
            report.added += sum(not p.is_update for p in batch)


class _Rows:
    """Takes vectors off an embed stream a checkpoint's worth at a time."""

    def __init__(self, stream: Iterator[np.ndarray], dimension: int, bar: tqdm) -> None:
        self._stream = stream
        self._held = np.empty((0, dimension), dtype=np.float32)
        self._bar = bar

    def take(self, count: int) -> np.ndarray:
        parts = [self._held]
        held = len(self._held)
        while held < count:
            part = next(self._stream)
            parts.append(part)
            held += len(part)
            self._bar.update(len(part))
        rows = np.vstack(parts)
        self._held = rows[count:]
        return rows[:count]


def content_hash(article: Article, settings: Settings) -> str:
    """Changes when anything stored about the article, or how it is chunked, changes; the
    file's location does not count, so moving a file re-embeds nothing."""
    fields = asdict(article)
    fields.pop("source")
    fields["chunking"] = [settings.chunk_tokens, settings.overlap_tokens]
    return hashlib.sha256(json.dumps(fields, sort_keys=True).encode()).hexdigest()
