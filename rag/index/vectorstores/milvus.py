"""Milvus: chunk vectors, and BM25 over chunk text, in one collection on a Milvus server,
or in a Milvus Lite file (a local URI; same client API, one process at a time).

Index generations stay cheap: the generations share one collection. A write inserts its new
rows at once, under chunk ids above the live generation's highest (readers search only up to
their own ``max_id``, so they never see them), and defers its deletions until its generation
is live (they are listed in the generation folder first, so a kill in between is finished by
the next writer, and readers skip them meanwhile). A write that dies leaves rows above the
live ``max_id``; the next writer deletes them before adding its own. Re-embedding everything
(``rag reindex``) fills a new collection; collections no kept generation names are dropped.
"""

from __future__ import annotations

import json
import logging
import re
import secrets
from pathlib import Path
from typing import Any

import numpy as np
from pymilvus import DataType, Function, FunctionType, MilvusClient, MilvusException
from pymilvus.exceptions import ConnectionConfigException

from rag.core.errors import IndexCorrupt, RagError
from rag.core.files import atomic_write
from rag.core.text import keyword_terms
from rag.index.vectorstores.base import ChunkRow, Scored, VectorStore, Where

DELETES = "milvus-deletes.json"
"""In a generation folder: chunk ids whose rows go once that generation is live."""
NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,200}")
TEXT_BYTES = 65_535  # Milvus VARCHAR limit
# the field holds ``keyword_terms`` (stemmed, stop words out) joined by spaces
ANALYZER = {"tokenizer": "standard"}
LITERAL = re.compile(r"[A-Za-z0-9._:+~-]{1,128}")
BATCH = 1000  # rows per insert, ids per delete or get


def connect(uri: str, token: str = "") -> MilvusClient:
    """A client for a Milvus server (http(s)://host:19530) or a Milvus Lite file path."""
    quiet = logging.getLogger("milvus_lite")  # it logs a traceback before raising
    level = quiet.level
    quiet.setLevel(logging.CRITICAL)
    try:
        return MilvusClient(uri=uri, token=token)
    except ConnectionConfigException:
        raise RagError(
            f"cannot open the Milvus Lite file {uri}: another process has it open (Milvus Lite "
            "serves one process; stop it, or point RAG_MILVUS_URI at a Milvus server)"
        ) from None
    except MilvusException as err:
        raise RagError(f"cannot reach Milvus at {uri}: {err.message}; check RAG_MILVUS_URI "
                       "and that the server runs") from None
    finally:
        quiet.setLevel(level)


class MilvusStore(VectorStore):
    kind = "milvus"

    def __init__(self, client: MilvusClient, collection: str, dimension: int, max_id: int,
                 skipped: set[int] | None = None) -> None:
        self._client = client
        self.collection = collection
        self._dimension = dimension
        self.max_id = max_id  # highest chunk id of the generation this view reads
        self._skipped = skipped or set()  # deleted by that generation, rows not yet gone
        self._removed: list[int] = []  # staged deletions
        self._created = False  # this write made the collection (drop it if the write fails)

    # ---- opening ---------------------------------------------------------------------------

    @classmethod
    def create(cls, client: MilvusClient, prefix: str, dimension: int) -> MilvusStore:
        """A new, empty collection named ``<prefix>_<8 hex digits>``."""
        if not NAME.fullmatch(prefix):
            raise RagError(f"Milvus collection prefix {prefix!r} must be letters, digits and "
                           "underscores, starting with a letter; fix RAG_MILVUS_COLLECTION")
        name = f"{prefix}_{secrets.token_hex(4)}"
        schema = client.create_schema(auto_id=False, enable_dynamic_field=False)
        schema.add_field("id", DataType.INT64, is_primary=True)
        schema.add_field("article_id", DataType.VARCHAR, max_length=128)
        schema.add_field("date", DataType.VARCHAR, max_length=64)
        schema.add_field("terms", DataType.VARCHAR, max_length=TEXT_BYTES, enable_analyzer=True,
                         analyzer_params=ANALYZER)
        schema.add_field("vector", DataType.FLOAT_VECTOR, dim=dimension)
        schema.add_field("sparse", DataType.SPARSE_FLOAT_VECTOR)
        schema.add_function(Function(name="bm25", function_type=FunctionType.BM25,
                                     input_field_names=["terms"],
                                     output_field_names=["sparse"]))
        index = client.prepare_index_params()
        index.add_index("vector", index_type="AUTOINDEX", metric_type="IP")
        index.add_index("sparse", index_type="SPARSE_INVERTED_INDEX", metric_type="BM25")
        client.create_collection(name, schema=schema, index_params=index,
                                 consistency_level="Strong")
        store = cls(client, name, dimension, max_id=0)
        store._created = True
        return store

    @classmethod
    def load(cls, client: MilvusClient, folder: Path, manifest: dict[str, Any],
             max_id: int) -> MilvusStore:
        name = manifest.get("milvus_collection", "")
        if not client.has_collection(name):
            raise IndexCorrupt(f"Milvus collection {name!r} of index generation {folder.name} "
                               "is gone; run 'rag reindex'")
        if "Loaded" not in str(client.get_load_state(name).get("state")):
            client.load_collection(name)  # a reopened Milvus Lite file starts released
        skipped = set(json.loads((folder / DELETES).read_text())) \
            if (folder / DELETES).is_file() else set()
        return cls(client, name, int(manifest["dimension"]), max_id, skipped)

    # ---- reading ---------------------------------------------------------------------------

    @property
    def dimension(self) -> int:
        return self._dimension

    def __len__(self) -> int:
        rows = self._client.query(self.collection, filter=self._filter(None),
                                  output_fields=["count(*)"])
        return int(rows[0]["count(*)"])

    def describe(self) -> dict[str, Any]:
        return {"vector_store": self.kind, "vector_index": "milvus",
                "milvus_collection": self.collection}

    def ids(self) -> np.ndarray:
        found: list[int] = []
        iterator = self._client.query_iterator(self.collection, batch_size=BATCH,
                                               filter=self._filter(None),
                                               output_fields=["id"])
        while batch := iterator.next():
            found.extend(int(row["id"]) for row in batch)
        iterator.close()
        return np.array(sorted(found), dtype=np.int64)

    def vectors(self, ids: list[int]) -> np.ndarray:
        found: dict[int, list[float]] = {}
        for first in range(0, len(ids), BATCH):
            for row in self._client.get(self.collection, ids=[int(i) for i in
                                                               ids[first : first + BATCH]],
                                        output_fields=["vector"]):
                found[int(row["id"])] = row["vector"]
        return np.array([found[int(i)] for i in ids], dtype=np.float32).reshape(-1,
                                                                                self.dimension)

    def search(self, query: np.ndarray, k: int, where: Where | None) -> Scored:
        rows = self._search([np.asarray(query, np.float32).ravel().tolist()], "vector",
                            {"metric_type": "IP"}, k, where)
        return [(int(r["id"]), float(r["distance"])) for r in rows]

    def keyword_search(self, query: str, k: int, where: Where | None) -> Scored:
        terms = " ".join(keyword_terms([query])[0])
        if not terms:
            return []
        rows = self._search([terms], "sparse", {"metric_type": "BM25"}, k, where)
        # Milvus Lite reports BM25 as a negative distance; the order is what fusion uses
        return [(int(r["id"]), abs(float(r["distance"]))) for r in rows]

    def _search(self, data: list[Any], field: str, params: dict[str, Any], k: int,
                where: Where | None) -> list[dict[str, Any]]:
        if k <= 0:
            return []
        hits = self._client.search(self.collection, data=data, anns_field=field,
                                   search_params=params, filter=self._filter(where),
                                   output_fields=["id"],
                                   limit=min(k, 16_384))
        return list(hits[0])

    def _filter(self, where: Where | None) -> str:
        """A boolean expression over this generation's rows. Milvus Lite has no expression
        templates, so values are spliced in as quoted literals of checked characters."""
        parts = [f"id <= {int(self.max_id)}"]
        if self._skipped:  # deleted by this generation; their rows may still be there
            parts.append(f"not (id in [{', '.join(str(int(i)) for i in sorted(self._skipped))}])")
        if where is not None and where.article_ids:
            parts.append(f"article_id in [{', '.join(_literal(a) for a in where.article_ids)}]")
        if where is not None and where.date_from:
            parts.append(f'date != "" and date >= {_literal(where.date_from)}')
        if where is not None and where.date_to:
            # dates compare as ISO prefixes: "2024-03" takes every day of March
            parts.append(f'date != "" and date < {_literal(where.date_to + "~")}')
        return " and ".join(parts)

    # ---- writing ---------------------------------------------------------------------------

    def staged(self) -> VectorStore:
        self._drop_uncommitted()  # of a write that died
        return MilvusStore(self._client, self.collection, self.dimension, self.max_id)

    def add(self, rows: list[ChunkRow], vectors: np.ndarray) -> None:
        terms = keyword_terms([r.text for r in rows]) if rows else []
        entities = [
            {"id": r.id, "article_id": r.article_id, "date": r.date[:64],
             "terms": _clip(" ".join(t)), "vector": v.tolist()}
            for r, v, t in zip(rows, np.asarray(vectors, np.float32), terms, strict=True)
        ]
        for first in range(0, len(entities), BATCH):
            self._client.insert(self.collection, entities[first : first + BATCH])

    def remove(self, ids: list[int]) -> None:
        self._removed.extend(int(i) for i in ids)

    def commit(self, folder: Path) -> dict[str, Any]:
        self._client.flush(self.collection)
        if self._removed:
            atomic_write(folder / DELETES, json.dumps(sorted(set(self._removed))))
        return self.describe()

    def abort(self) -> None:
        if self._created:
            self._client.drop_collection(self.collection)
        else:
            self._drop_uncommitted()

    def _drop_uncommitted(self) -> None:
        """Rows above the live generation's ids: written by a write no generation took."""
        self._client.delete(self.collection, filter=f"id > {int(self.max_id)}")

    def published(self, folder: Path) -> None:
        if not (folder / DELETES).is_file():
            return
        ids = json.loads((folder / DELETES).read_text())  # sorted, distinct (``commit``)
        for first in range(0, len(ids), BATCH):
            self._client.delete(self.collection, ids=ids[first : first + BATCH])
        self._client.flush(self.collection)
        (folder / DELETES).unlink()

    def sweep(self, gone: list[dict[str, Any]], kept: list[dict[str, Any]]) -> None:
        used = {m.get("milvus_collection") for m in kept} | {self.collection}
        for name in {m.get("milvus_collection") for m in gone} - used:
            if name and self._client.has_collection(name):
                self._client.drop_collection(name)


def _literal(value: str) -> str:
    """``value`` as a Milvus string literal; only id and ISO-date characters pass (article
    ids are made of these, see ``rag.sources.corpus.ARTICLE_ID``), so nothing can end the string."""
    if not LITERAL.fullmatch(value):
        raise RagError(f"filter value {value!r} is not an article id or an ISO date")
    return f'"{value}"'


def _clip(text: str) -> str:
    """``text`` cut to what a Milvus VARCHAR holds (bytes, not characters)."""
    data = text.encode()
    return text if len(data) <= TEXT_BYTES else data[:TEXT_BYTES].decode(errors="ignore")
