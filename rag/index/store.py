"""The index: SQLite metadata + a manifest in generation folders, written atomically, and
chunk vectors in a vector store (``rag.index.vectorstores``: FAISS files by default, or Milvus).

Layout under the index folder::

    CURRENT              name of the live generation (replaced atomically)
    gen-000007/          one complete, immutable snapshot
        manifest.json    embedder name, dimension, normalisation, counts, vector store
        meta.sqlite      articles and chunk offsets
        vectors.faiss    chunk vectors keyed by chunk id (FAISS; Milvus keeps them itself)
    .lock                held by the one writer at a time

A write copies the live generation into a new folder, changes it, fsyncs it and only then
points ``CURRENT`` at it. A crash or ``kill -9`` at any moment leaves ``CURRENT`` naming a
complete generation; half-written folders are swept by the next writer (and the vector store
undoes or finishes what it did outside the folder, see ``VectorStore.published``).
"""

from __future__ import annotations

import json
import shutil
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np

from rag.core.errors import IndexCorrupt, IndexMismatch, RagError
from rag.core.files import atomic_write, fsync_path
from rag.core.types import Article, Chunk
from rag.index.catalog import (
    ArticleSummary,
    Writer,
    article_from_row,
    batches,
    catalog_damage,
    connect,
    counts_of,
    empty_catalog,
    max_chunk_id,
)
from rag.index.generations import (
    CURRENT,
    FORMAT,
    MANIFEST,
    METADATA,
    current_generation,
    exclusive_lock,
    generations,
    manifest_or_empty,
    next_generation_number,
    previous_generation,
    read_current,
    recorded_store,
    sweep,
)
from rag.index.schema import migrate
from rag.index.vectorstores import VectorBackend, VectorStore, Where
from rag.index.vectorstores import kind_of as vector_store_of


class Store:
    """A read view of the live generation, plus ``transaction()`` to write a new one."""

    def __init__(self, root: Path, embedder: str, backend: VectorBackend) -> None:
        self.root = root
        self.embedder = embedder
        self.backend = backend
        self.follows_current = True  # False while repairing from an older generation
        self.generation: str | None = None
        self.manifest: dict[str, Any] = {}
        self.vectors: VectorStore | None = None
        self._db = empty_catalog()

    @classmethod
    def open(
        cls, root: Path, embedder: str, backend: VectorBackend, check_embedder: bool = True
    ) -> Store:
        """Open the live generation (or an empty store if none was written yet).

        Raises ``IndexMismatch`` when the index was built with another embedder or keeps its
        vectors in another store than configured, and ``IndexCorrupt`` when its files are
        missing or disagree.
        """
        store = cls(root, embedder, backend)
        store._load(read_current(root))
        if check_embedder and store.manifest and store.manifest["embedder"] != embedder:
            raise IndexMismatch(
                f"index {root} was built with {store.manifest['embedder']} "
                f"({store.manifest['dimension']}-d) but the embedder now is {embedder}; "
                "run 'rag reindex' to rebuild it"
            )
        backend.settle(vector_store_of(store.manifest) if store.manifest else None)
        return store

    @classmethod
    def open_for_repair(cls, root: Path, embedder: str, backend: VectorBackend) -> Store:
        """The live generation's metadata, vectors ignored (they will be rebuilt): lets ``rag
        reindex`` recover from damaged vectors, or move an index to another vector store.
        Where that metadata is damaged or gone, an older generation that still reads is used
        only if it holds as many articles as the live one recorded; otherwise nothing is
        rebuilt and the error says how many articles a rebuild would lose, never dropping
        them quietly."""
        store = cls(root, embedder, backend)
        current = current_generation(root)
        candidates = sorted(generations(root), reverse=True)
        if current in candidates:
            candidates.remove(current)
            candidates.insert(0, current)
        recorded = manifest_or_empty(root / current).get("articles") if current else None
        problem = ""
        for generation in candidates:
            catalog = root / generation / METADATA
            if not catalog.is_file():
                problem = problem or f"{catalog} is missing"
                continue
            try:
                db = connect(catalog)
                db.execute("SELECT count(*) FROM chunks JOIN articles").fetchone()
                held = db.execute("SELECT count(*) FROM articles").fetchone()[0]
                damage = catalog_damage(db)
            except sqlite3.DatabaseError as err:
                damage = str(err)
            if damage:
                problem = problem or f"{catalog} is damaged ({damage})"
                continue
            if generation != current and problem and held != recorded:
                raise RagError(f"index metadata {problem}; the newest readable generation "
                               f"holds {held} of the {recorded or 'unknown number of'} "
                               "articles, so nothing was rebuilt: move the index aside and run "
                               "'rag ingest' on your article folders again")
            store.generation, store._db = generation, db
            store.follows_current = False
            backend.kind = backend.kind or recorded_store(root / generation)
            return store
        if candidates:
            raise RagError(f"index metadata {problem or 'is unreadable'}: no generation left "
                           f"reads, so nothing was rebuilt: move {root} aside and run 'rag "
                           "ingest' on your article folders again")
        backend.settle(None)
        return store

    def refresh(self) -> None:
        """Pick up a generation another process committed since this view was opened."""
        current = read_current(self.root)
        if current != self.generation:
            self._load(current)

    def _load(self, generation: str | None) -> None:
        if generation is None:
            self.generation, self.manifest, self.vectors, self._db = None, {}, None, empty_catalog()
            return
        folder = self.root / generation
        self._require(folder, [MANIFEST, METADATA])
        try:
            manifest = json.loads((folder / MANIFEST).read_text())
            manifest["embedder"], manifest["dimension"]  # noqa: B018 - required keys
        except (ValueError, KeyError):
            raise IndexCorrupt(f"index manifest {folder / MANIFEST} is unreadable; "
                               "run 'rag reindex'") from None
        if manifest.get("format") != FORMAT:
            raise IndexCorrupt(f"index {self.root} has format {manifest.get('format')}, "
                               f"this version reads {FORMAT}; run 'rag reindex'")
        self._require(folder, self.backend.files(manifest))
        db = connect(folder / METADATA)
        try:
            chunks = db.execute("SELECT count(*) FROM chunks").fetchone()[0]
            max_id = max_chunk_id(db)
        except sqlite3.DatabaseError:
            raise IndexCorrupt(f"index metadata {folder / METADATA} is damaged; "
                               "run 'rag reindex'") from None
        vectors = self.backend.load(folder, manifest, max_id)
        if chunks != len(vectors) or vectors.dimension != manifest["dimension"]:
            raise IndexCorrupt(f"index {self.root} holds {len(vectors)} vectors for {chunks} "
                               "chunks; run 'rag reindex'")
        self.generation, self.manifest, self.vectors, self._db = generation, manifest, vectors, db

    def _require(self, folder: Path, names: list[str]) -> None:
        for name in names:
            if not (folder / name).is_file():
                raise IndexCorrupt(f"index {self.root} is missing {folder.name}/{name}; "
                                   "run 'rag reindex'")

    # ---- reading -------------------------------------------------------------------------

    def counts(self) -> tuple[int, int]:
        """(articles, chunks)"""
        a = self._read("SELECT count(*) FROM articles")[0][0]
        c = self._read("SELECT count(*) FROM chunks")[0][0]
        return a, c

    def article(self, article_id: str) -> Article | None:
        rows = self._read("SELECT * FROM articles WHERE id = ?", (article_id,))
        return article_from_row(rows[0]) if rows else None

    def list_articles(self) -> list[ArticleSummary]:
        rows = self._read(
            "SELECT a.id, a.title, a.date, a.source, count(c.id), a.url FROM articles a "
            "LEFT JOIN chunks c ON c.article_id = a.id GROUP BY a.id ORDER BY a.id"
        )
        versions: dict[str, list[dict[str, Any]]] = {}
        for row in self._version_rows(
                "SELECT article_id, number, content_hash, ingested_at, replaced_at, changes "
                "FROM versions ORDER BY article_id, number", ()):
            versions.setdefault(row[0], []).append(
                {"number": row[1], "content_hash": row[2], "ingested_at": row[3],
                 "replaced_at": row[4], "changes": json.loads(row[5])})
        return [ArticleSummary(*row, versions=versions.get(row[0], [])) for row in rows]

    def versions(self, article_id: str) -> list[dict[str, Any]]:
        """The article's earlier versions, oldest first: ``{"number", "title", "date", "url",
        "text", "content_hash", "ingested_at", "replaced_at", "changes"}``."""
        rows = self._version_rows(
            "SELECT number, title, date, url, text, content_hash, ingested_at, replaced_at, "
            "changes FROM versions WHERE article_id = ? ORDER BY number", (article_id,))
        names = ("number", "title", "date", "url", "text", "content_hash", "ingested_at",
                 "replaced_at", "changes")
        return [{**dict(zip(names, row, strict=True)), "changes": json.loads(row[8])}
                for row in rows]

    def _version_rows(self, query: str, args: tuple) -> list[tuple]:
        try:
            return self._db.execute(query, args).fetchall()
        except sqlite3.OperationalError as err:
            if "no such table" in str(err):  # written before versions were kept: none
                return []
            raise self._damaged(err) from None
        except sqlite3.DatabaseError as err:
            raise self._damaged(err) from None

    def fingerprints(self) -> dict[str, tuple[str, str]]:
        """article id -> (content hash, source path), to decide what an ingest must redo."""
        rows = self._read("SELECT id, content_hash, source FROM articles")
        return {row[0]: (row[1], row[2]) for row in rows}

    def signature(self, article_id: str) -> np.ndarray | None:
        rows = self._read("SELECT signature FROM articles WHERE id = ?", (article_id,))
        return np.frombuffer(rows[0][0], np.uint64) if rows else None

    def sharing_a_band(self, keys: list[tuple[int, bytes]]) -> set[str]:
        """Articles whose MinHash signature shares one of these LSH band keys."""
        found: set[str] = set()
        for band, key in keys:
            found.update(r[0] for r in self._read(
                "SELECT article_id FROM minhash_bands WHERE band = ? AND key = ?", (band, key)))
        return found

    def signatures(self) -> tuple[list[str], np.ndarray]:
        rows = self._read("SELECT id, signature FROM articles ORDER BY id")
        if not rows:
            return [], np.empty((0, 0), dtype=np.uint64)
        return [r[0] for r in rows], np.vstack([np.frombuffer(r[1], np.uint64) for r in rows])

    def chunks(self, ids: list[int] | None = None) -> list[Chunk]:
        """Chunks by id (in the order given), or all of them in id order."""
        query = (
            "SELECT c.id, c.article_id, c.start, c.end, substr(a.text, c.start + 1, "
            "c.end - c.start) FROM chunks c JOIN articles a ON a.id = c.article_id"
        )
        if ids is None:
            rows = self._read(query + " ORDER BY c.id")
        else:
            found = {}
            for part in batches(ids, 500):
                marks = ",".join("?" * len(part))
                for row in self._read(f"{query} WHERE c.id IN ({marks})", part):
                    found[row[0]] = row
            rows = [found[i] for i in ids if i in found]
        return [Chunk(article_id=r[1], start=r[2], end=r[3], text=r[4], id=r[0]) for r in rows]

    def titles(self, article_ids: set[str]) -> dict[str, str]:
        marks = ",".join("?" * len(article_ids))
        return dict(self._read(f"SELECT id, title FROM articles WHERE id IN ({marks})",
                               list(article_ids)))

    def where(self, article_ids: list[str] | None = None, date_from: str = "",
              date_to: str = "") -> Where:
        """A search restriction the vector store applies as it can (see ``Where``)."""
        return Where(article_ids=article_ids, date_from=date_from, date_to=date_to,
                     allowed_ids=lambda: self.chunk_ids(article_ids, date_from, date_to))

    def chunk_ids(
        self, article_ids: list[str] | None = None, date_from: str = "", date_to: str = ""
    ) -> np.ndarray:
        """Ids of chunks whose article passes the filters (dates compare as ISO prefixes)."""
        where, args = ["1"], []
        if article_ids:
            where.append(f"a.id IN ({','.join('?' * len(article_ids))})")
            args.extend(article_ids)
        if date_from:
            where.append("a.date != '' AND a.date >= ?")
            args.append(date_from)
        if date_to:
            where.append("a.date != '' AND substr(a.date, 1, ?) <= ?")
            args.extend([len(date_to), date_to])
        rows = self._read(
            "SELECT c.id FROM chunks c JOIN articles a ON a.id = c.article_id WHERE "
            + " AND ".join(where), args
        )
        return np.fromiter((r[0] for r in rows), dtype=np.int64)

    def _read(self, query: str, args: Any = ()) -> list[tuple]:
        """The rows of a query of the catalog; a damaged catalog is an ``IndexCorrupt`` (one
        line, naming the file) rather than a traceback from wherever it was read."""
        try:
            return self._db.execute(query, args).fetchall()
        except sqlite3.DatabaseError as err:
            raise self._damaged(err) from None

    def _damaged(self, err: Exception) -> IndexCorrupt:
        where = self.root / (self.generation or "") / METADATA
        return IndexCorrupt(f"index metadata {where} is damaged ({err}); move the index "
                            "aside and run 'rag ingest' on your article folders again")

    def check(self) -> list[str]:
        """Every inconsistency between metadata and vectors; empty when the index is sound."""
        damage = catalog_damage(self._db)
        if damage:
            return [f"metadata {self.generation}/{METADATA} is damaged: {damage}"]
        problems = []
        orphans = self._read(
            "SELECT count(*) FROM chunks WHERE article_id NOT IN (SELECT id FROM articles)"
        )[0][0]
        if orphans:
            problems.append(f"{orphans} chunks belong to no article")
        meta_ids = set(self.chunk_ids().tolist())
        vector_ids = set(self.vectors.ids().tolist()) if self.vectors else set()
        if meta_ids - vector_ids:
            problems.append(f"{len(meta_ids - vector_ids)} chunks have no vector")
        if vector_ids - meta_ids:
            problems.append(f"{len(vector_ids - meta_ids)} vectors have no chunk")
        for chunk in self.chunks():
            if not chunk.text or chunk.end - chunk.start != len(chunk.text):
                problems.append(f"chunk {chunk.id} offsets fall outside its article")
                break
        return problems

    # ---- writing -------------------------------------------------------------------------

    @contextmanager
    def transaction(self, dimension: int) -> Iterator[Writer]:
        """Write a new generation; it becomes live only if the block finishes without error.
        (``rag reindex`` builds a new index beside this one and ``adopt``s it instead.)"""
        with exclusive_lock(self.root):
            if self.follows_current:
                self.refresh()
            if self.vectors is not None and self.generation is not None:
                self.vectors.published(self.root / self.generation)  # if a kill cut it short
            number = next_generation_number(self.root)
            folder = self.root / f"gen-{number:06d}"
            folder.mkdir()
            db = connect(folder / METADATA)
            self._db.backup(db)
            migrate(db)
            if self.vectors is not None and self.vectors.dimension == dimension:
                vectors = self.vectors.staged()
            else:
                vectors = self.backend.create(dimension)
            writer = Writer(db, vectors)
            try:
                yield writer
                db.commit()
            except BaseException:
                db.close()
                vectors.abort()
                shutil.rmtree(folder, ignore_errors=True)
                raise
            db.execute("PRAGMA journal_mode = DELETE")
            db.close()
            self._publish(folder, writer, dimension)

    def _publish(self, folder: Path, writer: Writer, dimension: int) -> None:
        articles, chunks = counts_of(folder / METADATA)
        manifest = {
            "format": FORMAT,
            "embedder": self.embedder,
            "dimension": dimension,
            "normalized": True,
            "metric": "inner_product",
            **writer.vectors.commit(folder),
            "articles": articles,
            "chunks": chunks,
            "written_at": datetime.now(UTC).isoformat(timespec="seconds"),
        }
        (folder / MANIFEST).write_text(json.dumps(manifest, indent=2))
        self._make_live(folder, writer.vectors)

    def adopt(self, other: Store, expected: str | None) -> None:
        """Make ``other``'s live generation this index's next one: a finished ``rag reindex``
        built beside the index. Refused if this index changed since it read ``expected``."""
        with exclusive_lock(self.root):
            if current_generation(self.root) != expected:
                raise RagError(f"index {self.root} changed while it was reindexed; run 'rag "
                               "reindex' again (what is re-embedded already is kept)")
            assert other.generation is not None and other.vectors is not None
            folder = self.root / f"gen-{next_generation_number(self.root):06d}"
            shutil.copytree(other.root / other.generation, folder)
            self._make_live(folder, other.vectors)

    def _make_live(self, folder: Path, vectors: VectorStore) -> None:
        """Point CURRENT at a complete generation folder, then tidy up behind it."""
        for path in folder.iterdir():
            fsync_path(path)
        fsync_path(folder)
        atomic_write(self.root / CURRENT, folder.name)
        vectors.published(folder)
        self._load(folder.name)
        self.follows_current = True
        kept = {folder.name, *previous_generation(self.root, folder.name)}
        gone = [manifest_or_empty(self.root / g) for g in generations(self.root)
                if g not in kept]
        sweep(self.root, keep=kept)
        vectors.sweep(gone, [manifest_or_empty(self.root / g) for g in kept])
