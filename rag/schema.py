"""SQLite schema of the index metadata, as numbered migrations (``PRAGMA user_version``)."""

from __future__ import annotations

import sqlite3

MIGRATIONS: list[str] = [
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
]


def migrate(db: sqlite3.Connection) -> None:
    """Bring ``db`` to the newest schema; each step runs once, in order."""
    version = db.execute("PRAGMA user_version").fetchone()[0]
    for number, script in enumerate(MIGRATIONS[version:], start=version + 1):
        db.executescript(script)
        db.execute(f"PRAGMA user_version = {number}")
    db.commit()
