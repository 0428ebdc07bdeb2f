"""SQLite schema of the index metadata, as numbered migrations (``PRAGMA user_version``)."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable

import numpy as np

from rag.index.duplicates import band_keys


def _minhash_bands(db: sqlite3.Connection) -> None:
    """Near-duplicate lookup by LSH bands (``rag.index.duplicates``), filled for the articles an
    older index already holds."""
    db.executescript("""
    CREATE TABLE minhash_bands (
        article_id TEXT NOT NULL REFERENCES articles(id) ON DELETE CASCADE,
        band INTEGER NOT NULL,
        key BLOB NOT NULL
    );
    CREATE INDEX minhash_bands_by_key ON minhash_bands(band, key);
    CREATE INDEX minhash_bands_by_article ON minhash_bands(article_id);
    """)
    for article_id, blob in db.execute("SELECT id, signature FROM articles").fetchall():
        db.executemany("INSERT INTO minhash_bands VALUES (?,?,?)",
                       [(article_id, band, key)
                        for band, key in band_keys(np.frombuffer(blob, np.uint64))])


_VERSIONS = """
CREATE TABLE versions (          -- earlier texts of an article, kept when it changed
    article_id TEXT NOT NULL,    -- no foreign key: an update replaces the article's row
    number INTEGER NOT NULL,     -- 1 for the first text ever ingested
    title TEXT NOT NULL,
    date TEXT NOT NULL,
    url TEXT NOT NULL,
    text TEXT NOT NULL,
    content_hash TEXT NOT NULL,
    ingested_at TEXT NOT NULL,   -- when this version arrived
    replaced_at TEXT NOT NULL,   -- when the next one replaced it
    changes TEXT NOT NULL,       -- JSON (rag.index.versions.changes): from this version to the next
    PRIMARY KEY (article_id, number)
);
"""

MIGRATIONS: list[str | Callable[[sqlite3.Connection], None]] = [
    """
    CREATE TABLE articles (
        id TEXT PRIMARY KEY,
        title TEXT NOT NULL,
        authors TEXT NOT NULL,      -- JSON list
        date TEXT NOT NULL,
        source TEXT NOT NULL,       -- the file it was read from
        url TEXT NOT NULL,
        doi TEXT NOT NULL,
        keywords TEXT NOT NULL,     -- JSON list
        extra TEXT NOT NULL,        -- JSON object
        text TEXT NOT NULL,
        content_hash TEXT NOT NULL,
        signature BLOB NOT NULL,    -- MinHash of word shingles, for near-duplicate reports
        ingested_at TEXT NOT NULL
    );
    CREATE TABLE chunks (
        id INTEGER PRIMARY KEY AUTOINCREMENT,  -- never reused: it is also the FAISS id
        article_id TEXT NOT NULL REFERENCES articles(id) ON DELETE CASCADE,
        start INTEGER NOT NULL,
        end INTEGER NOT NULL
    );
    CREATE INDEX chunks_by_article ON chunks(article_id);
    """,
    _minhash_bands,
    _VERSIONS,
]


def migrate(db: sqlite3.Connection) -> None:
    """Bring ``db`` to the newest schema; each step runs once, in order."""
    version = db.execute("PRAGMA user_version").fetchone()[0]
    for number, step in enumerate(MIGRATIONS[version:], start=version + 1):
        if isinstance(step, str):
            db.executescript(step)
        else:
            step(db)
        db.execute(f"PRAGMA user_version = {number}")
    db.commit()
