"""The trained claim verifier: a cross-encoder that reads (evidence window, claim) and gives
the probabilities of supported, contradicted and not enough information.

Its weights ship in the package (``rag/weights/claim-verifier``, trained by ``make checker``
from ``rag.verifier_train``), in half precision with their SHA-256 recorded beside them and
checked at load; a folder of another cross-encoder (or a hub id, for users with internet)
can be configured instead. Windows are one to three sentences around the evidence sentences
a claim matches best: a claim may join two sentences, and a hedge or a denial may sit in the
sentence before.
"""

from __future__ import annotations

import hashlib
import json
import threading
from pathlib import Path

import numpy as np

from rag.errors import RagError
from rag.support import Evidence

PACKAGED = Path(__file__).parent / "weights" / "claim-verifier"
LABELS = ("supported", "contradicted", "nei")


def checked_folder(folder: Path) -> Path:
    """``folder`` if its weights match the checksum its training recorded."""
    card = folder / "TRAINING.json"
    weights = folder / "model.safetensors"
    if not card.is_file() or not weights.is_file():
        raise RagError(f"no claim verifier in {folder}; run 'make checker' or reinstall")
    expected = json.loads(card.read_text()).get("sha256")
    if hashlib.sha256(weights.read_bytes()).hexdigest() != expected:
        raise RagError(f"the claim verifier's weights in {folder} do not match their "
                       "checksum; reinstall the package or run 'make checker'")
    return folder


class Verifier:
    """Probabilities of (supported, contradicted, nei) for (premise, claim) pairs. Safe to
    share between threads (one forward pass at a time)."""

    def __init__(self, model: str | Path = PACKAGED, threads: int = 2) -> None:
        import torch
        from sentence_transformers.cross_encoder import CrossEncoder

        torch.set_num_threads(threads)
        path = Path(model)
        source = str(checked_folder(path)) if path.is_dir() else str(model)
        # stored in half precision; computed in full (half is slow on these CPUs)
        self._model = CrossEncoder(source, device="cpu", model_kwargs={"dtype": torch.float32})
        self._lock = threading.Lock()

    def probabilities(self, pairs: list[tuple[str, str]]) -> np.ndarray:
        if not pairs:
            return np.zeros((0, len(LABELS)), dtype=np.float32)
        with self._lock:
            out = self._model.predict(pairs, batch_size=32, apply_softmax=True,
                                      convert_to_numpy=True, show_progress_bar=False)
        return np.asarray(out, dtype=np.float32).reshape(len(pairs), len(LABELS))


def windows(best: list[int], evidence: list[Evidence]) -> list[str]:
    """For each evidence index in ``best``: the sentence alone, and with its neighbours in
    the same passage (before and after), deduplicated, in order."""
    out: list[str] = []
    for i in best:
        out.append(evidence[i].text)
        same = [j for j in (i - 1, i, i + 1) if 0 <= j < len(evidence)
                and evidence[j].n == evidence[i].n
                and evidence[j].hit.chunk.article_id == evidence[i].hit.chunk.article_id]
        if len(same) > 1:
            out.append(" ".join(evidence[j].text for j in same))
    return list(dict.fromkeys(out))
