"""The SQLite catalog of a generation (``meta.sqlite``): articles, chunk offsets, MinHash bands
and earlier versions. ``Writer`` stages one generation's changes; the helpers open, check and
read it."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np

from rag.core.types import Article, Chunk
from rag.index.duplicates import band_keys
from rag.index.schema import migrate
from rag.index.vectorstores import ChunkRow, VectorStore
from rag.index.versions import changes


@dataclass
class ArticleSummary:
    """A row of ``rag list``: enough to show an article without its text."""

    id: str
    title: str
    date: str
    source: str
    chunks: int
    url: str = ""
    versions: list[dict[str, Any]] = field(default_factory=list)
    """Earlier versions, oldest first, without their text (see ``Store.versions``)."""


class Writer:
    """Changes staged for one new generation."""

    def __init__(self, db: sqlite3.Connection, vectors: VectorStore) -> None:
        self.db = db
        self.vectors = vectors

    def upsert(
        self,
        article: Article,
        content_hash: str,
        signature: np.ndarray,
        chunks: list[Chunk],
        vectors: np.ndarray,
    ) -> None:
        """Store an article with its chunks and vectors, replacing any earlier version; an
        earlier text that differs is kept as a version, with what changed."""
        self._keep_version(article.id, article.text)
        self._drop(article.id)
        self.db.execute(
            "INSERT INTO articles VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?)",
            (
                article.id, article.title, json.dumps(article.authors), article.date,
                article.source, article.url, article.doi, json.dumps(article.keywords),
                json.dumps(article.extra), article.text, content_hash,
                np.asarray(signature, np.uint64).tobytes(),
                datetime.now(UTC).isoformat(timespec="seconds"),
            ),
        )
        self.db.executemany("INSERT INTO minhash_bands VALUES (?,?,?)",
                            [(article.id, band, key) for band, key in band_keys(signature)])
        for chunk in chunks:
            cursor = self.db.execute(
                "INSERT INTO chunks (article_id, start, end) VALUES (?,?,?)",
                (article.id, chunk.start, chunk.end),
            )
            chunk.id = int(cursor.lastrowid or 0)
        self.vectors.add([ChunkRow(c.id, article.id, article.date, c.text) for c in chunks],
                         unit_rows(vectors))

    def _keep_version(self, article_id: str, text: str) -> None:
        """Keep the stored text of ``article_id`` as its next version, with what changed on
        the way to ``text``, unless they are the same."""
        row = self.db.execute("SELECT title, date, url, text, content_hash, ingested_at "
                              "FROM articles WHERE id = ?", (article_id,)).fetchone()
        if row is None or row[3] == text:
            return
        number = self.db.execute("SELECT coalesce(max(number), 0) + 1 FROM versions "
                                 "WHERE article_id = ?", (article_id,)).fetchone()[0]
        self.db.execute("INSERT INTO versions VALUES (?,?,?,?,?,?,?,?,?,?)", (
            article_id, number, *row, datetime.now(UTC).isoformat(timespec="microseconds"),
            json.dumps(changes(row[3], text), ensure_ascii=False)))

    def remove(self, article_id: str) -> bool:
        """Delete an article and its chunks; False when it was not there. Its history is
        kept, its last text as the newest version (every sentence removed): a removal can
        be looked up, and undone by ingesting the file again."""
        self._keep_version(article_id, "")
        return self._drop(article_id)

    def _drop(self, article_id: str) -> bool:
        ids = [r[0] for r in self.db.execute(
            "SELECT id FROM chunks WHERE article_id = ?", (article_id,))]
        self.vectors.remove(ids)
        self.db.execute("DELETE FROM chunks WHERE article_id = ?", (article_id,))
        return self.db.execute("DELETE FROM articles WHERE id = ?", (article_id,)).rowcount > 0


def connect(path: Path) -> sqlite3.Connection:
    db = sqlite3.connect(str(path), check_same_thread=False)
    db.execute("PRAGMA foreign_keys = ON")
    return db


def catalog_damage(db: sqlite3.Connection) -> str:
    """SQLite's own quick check of a catalog file: its first complaint, or "" when sound. A
    damaged page can hide rows from a query without any error, so counts alone cannot tell."""
    try:
        first = db.execute("PRAGMA quick_check(1)").fetchone()[0]
    except sqlite3.DatabaseError as err:
        return str(err)
    return "" if first == "ok" else str(first)


def empty_catalog() -> sqlite3.Connection:
    db = connect(Path(":memory:"))
    migrate(db)
    return db


def max_chunk_id(db: sqlite3.Connection) -> int:
    """The highest chunk id ever given out in this lineage (AUTOINCREMENT's counter)."""
    row = db.execute("SELECT seq FROM sqlite_sequence WHERE name = 'chunks'").fetchone()
    return int(row[0]) if row else 0


def counts_of(path: Path) -> tuple[int, int]:
    db = sqlite3.connect(str(path))
    try:
        return (db.execute("SELECT count(*) FROM articles").fetchone()[0],
                db.execute("SELECT count(*) FROM chunks").fetchone()[0])
    finally:
        db.close()


def article_from_row(row: tuple) -> Article:
    return Article(
        id=row[0], title=row[1], authors=json.loads(row[2]), date=row[3], source=row[4],
        url=row[5], doi=row[6], keywords=json.loads(row[7]), extra=json.loads(row[8]),
        text=row[9],
    )


def unit_rows(vectors: np.ndarray) -> np.ndarray:
    """Rows scaled to unit length, so inner product is cosine whatever the embedder returns
    (the manifest promises normalized vectors)."""
    vectors = np.asarray(vectors, dtype=np.float32)
    norms = np.linalg.norm(vectors, axis=-1, keepdims=True)
    return vectors / np.where(norms > 0, norms, 1.0)


def batches(items: list[int], size: int) -> Iterator[list[int]]:
    for i in range(0, len(items), size):
        yield items[i : i + size]
