"""The vector-store seam: what the index needs from a place that keeps chunk vectors.

One small interface (after txtai's ``ann/base.py``), one file per backend beside it:
``faiss_store`` (exact, growing into IVF) keeps a file in each index generation; ``milvus``
keeps one collection on a Milvus server (or a Milvus Lite file) shared by the generations. The
store (``rag.index.store``) owns the generations and the metadata; a backend only stores, finds and
forgets vectors under our chunk ids, and says how to stage, commit and publish a write.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from rag.core.types import Filters

Scored = list[tuple[int, float]]
"""(chunk id, score) pairs, best first."""


@dataclass
class ChunkRow:
    """What a backend may index beside a chunk's vector: its id, article, date and text
    (Milvus filters on the article and date and runs BM25 on the text; FAISS needs only the
    id)."""

    id: int
    article_id: str
    date: str
    text: str


@dataclass(kw_only=True)
class Where(Filters):
    """A search's restriction: the article and date filters as given, and a way to list the
    chunk ids that pass them (from the metadata, for backends that cannot filter)."""

    allowed_ids: Callable[[], np.ndarray]


class VectorStore(ABC):
    """Inner-product search over unit vectors, keyed by chunk id."""

    kind: str  # "faiss" or "milvus", as recorded in the manifest

    @property
    @abstractmethod
    def dimension(self) -> int: ...

    @abstractmethod
    def __len__(self) -> int: ...

    @abstractmethod
    def add(self, rows: list[ChunkRow], vectors: np.ndarray) -> None:
        """Store unit ``vectors`` under the rows' chunk ids."""

    @abstractmethod
    def remove(self, ids: list[int]) -> None: ...

    @abstractmethod
    def ids(self) -> np.ndarray:
        """Every stored chunk id, for consistency checks against the metadata."""

    @abstractmethod
    def vectors(self, ids: list[int]) -> np.ndarray:
        """The stored vectors of these ids, in order."""

    @abstractmethod
    def search(self, query: np.ndarray, k: int, where: Where | None) -> Scored:
        """The best ``k`` chunks by inner product with the unit ``query``."""

    def keyword_search(self, query: str, k: int, where: Where | None) -> Scored | None:
        """The best ``k`` chunks by BM25 over their text, where the backend has BM25 built in;
        None where it has not (the caller keeps a local BM25 index: FAISS)."""
        return None

    @abstractmethod
    def describe(self) -> dict[str, Any]:
        """Manifest entries that let ``load`` find these vectors again."""

    # ---- the write cycle of one index generation -----------------------------------------

    @abstractmethod
    def staged(self) -> VectorStore:
        """A writable view for the next generation; the live one stays as it is until that
        generation is ``published``. (Empty vectors come from ``VectorBackend.create``.)"""

    @abstractmethod
    def commit(self, folder: Path) -> dict[str, Any]:
        """Make the staged writes durable for the generation in ``folder``; returns the
        manifest entries that generation is read back by (FAISS may have grown an exact
        index into IVF on the way)."""

    def abort(self) -> None:  # noqa: B027 - a hook: nothing to do for FAISS files
        """Undo what a failed write left outside its generation folder."""

    def published(self, folder: Path) -> None:  # noqa: B027 - a hook: nothing to do for FAISS files
        """The generation in ``folder`` is live: finish what had to wait for that. Also
        called by the next writer, so work a kill interrupted here gets done."""

    def sweep(self, gone: list[dict[str, Any]], kept: list[dict[str, Any]]) -> None:  # noqa: B027
        """Drop what the removed generations (their manifests) used and no kept one does
        (FAISS files went with their folders)."""
