"""The embedder through ONNX Runtime: the same model, loaded in a fifth of a second.

Importing sentence-transformers (with torch, scikit-learn and scipy under it) takes 4-6 s on
two cores, longer than answering a question. A command that only embeds a question and a few
sentences uses this instead: the model's transformer exported once to ONNX (into the model
cache, by whichever process first needs it; that one pays the torch import and ~4 s), then
run with ONNX Runtime and the model's own fast tokenizer, with the model's pooling and
normalisation done here. Vectors match the sentence-transformers float32 ones to 1e-6 cosine.

Only models this can reproduce exactly are exported: a local folder (the packaged model or a
path) whose modules are a transformer, mean or CLS pooling and optionally normalisation.
``exportable`` says whether a model is one; anything else stays on sentence-transformers.
"""

from __future__ import annotations

import hashlib
import json
import os
import warnings
from pathlib import Path

import numpy as np

from rag.core.errors import RagError
from rag.core.text import Span

_SUPPORTED_MODULES = {
    "sentence_transformers.models.Transformer",
    "sentence_transformers.models.Pooling",
    "sentence_transformers.models.Normalize",
}
_INPUTS = ("input_ids", "attention_mask", "token_type_ids")
_BATCH = 32


def exportable(location: str) -> bool:
    """Whether ``location`` is a local sentence-transformers folder this module reproduces."""
    folder = Path(location)
    try:
        modules = json.loads((folder / "modules.json").read_text())
        pooling = json.loads((folder / "1_Pooling" / "config.json").read_text())
    except (OSError, ValueError):
        return False
    kinds = {m.get("type") for m in modules}
    modes = {k for k, v in pooling.items() if k.startswith("pooling_mode") and v}
    return (kinds <= _SUPPORTED_MODULES and (folder / "tokenizer.json").exists()
            and modes in ({"pooling_mode_mean_tokens"}, {"pooling_mode_cls_token"}))


def exported_path(location: str, cache: Path) -> Path:
    """Where the export of ``location`` lives: keyed by the folder and its weights' size and
    modification time, so a changed model is exported again rather than read stale."""
    folder = Path(location).resolve()
    weights = sorted(folder.glob("*.safetensors")) or sorted(folder.glob("*.bin"))
    stamp = [str(folder)] + [f"{w.name}:{w.stat().st_size}:{w.stat().st_mtime_ns}"
                             for w in weights]
    key = hashlib.sha256("\n".join(stamp).encode()).hexdigest()[:16]
    return cache / "onnx" / f"{folder.name}-{key}" / "model.onnx"


def export(location: str, target: Path) -> None:
    """Export the model's transformer (token vectors out) to ``target``, atomically: a kill
    mid-export leaves no half-written file for the next process to trip over."""
    import torch
    from transformers import AutoModel
    from transformers.utils import logging as transformers_logging

    transformers_logging.disable_progress_bar()

    class TokenVectors(torch.nn.Module):
        def __init__(self, model: torch.nn.Module) -> None:
            super().__init__()
            self.model = model

        def forward(self, input_ids: torch.Tensor, attention_mask: torch.Tensor,
                    token_type_ids: torch.Tensor) -> torch.Tensor:
            return self.model(input_ids=input_ids, attention_mask=attention_mask,
                              token_type_ids=token_type_ids).last_hidden_state

    model = TokenVectors(AutoModel.from_pretrained(location, dtype=torch.float32).eval())
    # a padded example, so the trace keeps the attention mask (an all-ones mask can be
    # traced as no mask at all)
    ids = torch.ones((2, 8), dtype=torch.int64)
    mask = torch.tensor([[1] * 8, [1] * 5 + [0] * 3])
    example = (ids, mask, torch.zeros_like(ids))
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_name(f".{target.name}.{os.getpid()}.partial")
    axes = {name: {0: "texts", 1: "tokens"} for name in (*_INPUTS, "token_vectors")}
    try:
        # the tracer's warnings are about shapes this model does not vary on (checked by
        # tests/integration/test_startup.py against sentence-transformers' own vectors)
        with torch.no_grad(), warnings.catch_warnings():
            warnings.simplefilter("ignore")
            torch.onnx.export(model, example, str(partial), input_names=list(_INPUTS),
                              output_names=["token_vectors"], dynamic_axes=axes,
                              opset_version=17, dynamo=False)
        os.replace(partial, target)
    finally:
        partial.unlink(missing_ok=True)


class OnnxEmbedder:
    """Embeds with the exported model; the same vectors as ``SentenceTransformerEmbedder`` in
    float32, without importing torch."""

    def __init__(self, name: str, location: str, cache: Path) -> None:
        import onnxruntime
        from tokenizers import Tokenizer

        folder = Path(location)
        target = exported_path(location, cache)
        if not target.exists():
            export(location, target)
        options = onnxruntime.SessionOptions()
        options.log_severity_level = 3  # its warnings are about graph details, not ours
        try:
            self._session = onnxruntime.InferenceSession(
                str(target), options, providers=["CPUExecutionProvider"])
        except Exception as err:  # noqa: BLE001 - ORT raises its own classes for a bad file
            raise RagError(f"the exported embedder {target} is unreadable "
                           f"({str(err).splitlines()[0][:120]}); delete that folder and it "
                           "is exported again") from None
        self._inputs = {i.name for i in self._session.get_inputs()}
        config = json.loads((folder / "sentence_bert_config.json").read_text()) if (
            folder / "sentence_bert_config.json").exists() else {}
        # two tokenizers, each configured once: settings changed per call would race between
        # the app's threads
        self._truncating = Tokenizer.from_file(str(folder / "tokenizer.json"))
        self._truncating.no_padding()
        self._truncating.enable_truncation(int(config.get("max_seq_length", 512)))
        self._whole = Tokenizer.from_file(str(folder / "tokenizer.json"))
        self._whole.no_padding()
        self._whole.no_truncation()
        pooling = json.loads((folder / "1_Pooling" / "config.json").read_text())
        self._mean = bool(pooling.get("pooling_mode_mean_tokens"))
        modules = json.loads((folder / "modules.json").read_text())
        self._normalize = any(m.get("type", "").endswith(".Normalize") for m in modules)
        self.name = name
        self.precision = "float32"
        self.dimension = int(pooling["word_embedding_dimension"])

    def embed(self, texts: list[str]) -> np.ndarray:
        vectors = np.empty((len(texts), self.dimension), dtype=np.float32)
        order = sorted(range(len(texts)), key=lambda i: len(texts[i]))  # less padding
        for first in range(0, len(order), _BATCH):
            batch = order[first : first + _BATCH]
            vectors[batch] = self._embed_batch([texts[i] for i in batch])
        return vectors

    def _embed_batch(self, texts: list[str]) -> np.ndarray:
        encoded = self._truncating.encode_batch(texts)
        width = max(len(e.ids) for e in encoded)
        ids = np.zeros((len(texts), width), dtype=np.int64)
        mask = np.zeros_like(ids)
        for row, e in enumerate(encoded):
            ids[row, : len(e.ids)] = e.ids
            mask[row, : len(e.ids)] = 1
        feeds = {"input_ids": ids, "attention_mask": mask, "token_type_ids": np.zeros_like(ids)}
        tokens = self._session.run(None, {k: v for k, v in feeds.items() if k in self._inputs})[0]
        if self._mean:
            pooled = (tokens * mask[..., None]).sum(1) / np.maximum(mask.sum(1, keepdims=True), 1)
        else:
            pooled = tokens[:, 0]
        if self._normalize:
            pooled /= np.maximum(np.linalg.norm(pooled, axis=1, keepdims=True), 1e-12)
        return pooled.astype(np.float32)

    def token_spans(self, texts: list[str]) -> list[list[Span]]:
        encoded = self._whole.encode_batch(texts, add_special_tokens=False)
        return [[(a, b) for a, b in e.offsets if b > a] for e in encoded]
