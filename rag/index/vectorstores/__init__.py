"""Pick, open and create vector stores (see ``base``); the one place that knows every
backend. Milvus is imported only when an index uses it, so the default install needs no
pymilvus."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from rag.core.errors import IndexMismatch, RagError
from rag.index.vectorstores.base import ChunkRow, Scored, VectorStore, Where

KINDS = ("faiss", "milvus")

__all__ = ["KINDS", "ChunkRow", "Scored", "VectorBackend", "VectorStore", "Where"]


@dataclass
class VectorBackend:
    """Where an index keeps its vectors: the configured kind for new vectors, and the
    connection details for reading any kind a manifest names."""

    kind: str  # "" until known: the store the index names, faiss for a new index
    index: Path  # the index folder (a Milvus Lite file goes there unless milvus_uri is set)
    ann_threshold: int = 50_000
    milvus_uri: str = ""
    milvus_token: str = ""
    milvus_collection: str = "rag"

    def __post_init__(self) -> None:
        if self.kind and self.kind not in KINDS:
            raise RagError(f"unknown vector store {self.kind!r}; use one of {', '.join(KINDS)}")
        self._client: Any = None

    @classmethod
    def from_settings(cls, settings: Any) -> VectorBackend:
        return cls(settings.vector_store, Path(settings.index), settings.ann_threshold,
                   settings.milvus_uri, settings.milvus_token, settings.milvus_collection)

    def files(self, manifest: dict[str, Any]) -> list[str]:
        """The files a generation of this manifest must hold for its vectors."""
        from rag.index.vectorstores.faiss_store import VECTORS

        return [VECTORS] if kind_of(manifest) == "faiss" else []

    def load(self, folder: Path, manifest: dict[str, Any], max_id: int) -> VectorStore:
        """The vectors of the generation in ``folder`` (whatever kind its manifest names)."""
        if kind_of(manifest) == "milvus":
            return _milvus_module().MilvusStore.load(self._milvus(), folder, manifest, max_id)
        from rag.index.vectorstores.faiss_store import FaissExact, FaissIVF

        index = FaissExact.read(folder)
        kind = FaissIVF if FaissIVF.holds(index) else FaissExact
        return kind(index, self.ann_threshold)

    def settle(self, recorded: str | None) -> None:
        """Fix the kind for an index whose manifest names ``recorded`` (None: no index yet);
        an explicitly configured other kind is refused."""
        if self.kind and recorded and recorded != self.kind:
            raise IndexMismatch(
                f"index {self.index} keeps its vectors in {recorded} but the vector store now "
                f"is {self.kind}; run 'rag reindex --vector-store {self.kind}' to move them, or "
                f"drop --vector-store / RAG_VECTOR_STORE to use {recorded}")
        self.kind = self.kind or recorded or "faiss"

    def create(self, dimension: int) -> VectorStore:
        """Empty vectors of the configured kind."""
        if self.kind == "milvus":
            return _milvus_module().MilvusStore.create(self._milvus(), self.milvus_collection,
                                                       dimension)
        from rag.index.vectorstores.faiss_store import FaissExact

        return FaissExact.empty(dimension, self.ann_threshold)

    @property
    def uri(self) -> str:
        return self.milvus_uri or str((self.index / "milvus.db").resolve())

    def _milvus(self) -> Any:
        if self._client is None:
            milvus = _milvus_module()
            if not self.milvus_uri:
                self.index.mkdir(parents=True, exist_ok=True)
            self._client = milvus.connect(self.uri, self.milvus_token)
        return self._client


def _milvus_module() -> Any:
    """``rag.index.vectorstores.milvus``, whose client comes with the optional 'scale' extra."""
    try:
        from rag.index.vectorstores import milvus
    except ModuleNotFoundError as err:
        raise RagError(f"the Milvus vector store needs {err.name}, from the 'scale' extra: "
                       "pip install -e '.[scale]' (or use RAG_VECTOR_STORE=faiss)") from None
    return milvus


def kind_of(manifest: dict[str, Any]) -> str:
    """The backend a manifest names (indexes from before the seam are FAISS)."""
    return str(manifest.get("vector_store", "faiss"))
