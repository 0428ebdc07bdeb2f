"""The trained claim verifier: a cross-encoder that reads (evidence window, claim) and gives
the probabilities of supported, contradicted and not enough information.

Its weights ship in the package (``rag/reading/weights/claim-verifier``, trained by
``make checker`` from ``rag.evaluation.verifier_train``), in half precision with their SHA-256
recorded beside them and checked at load; a folder of another cross-encoder (or a hub id, for
users with internet) can be configured instead. Windows are one to three sentences around the
evidence sentences a claim matches best: a claim may join two sentences, and a hedge or a
denial may sit in the sentence before.
"""

from __future__ import annotations

import hashlib
import json
import threading
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Protocol

import numpy as np

from rag.core.errors import RagError
from rag.index.embedding import local_or_hub
from rag.reading.support import Evidence

PACKAGED = Path(__file__).parent / "weights" / "claim-verifier"
LABELS = ("supported", "contradicted", "nei")


@lru_cache(maxsize=4)
def configured_verifier(name: str, threads: int) -> Verifier | None:
    """The verifier ``Settings.claim_verifier`` names (None: 'off'), loaded once per
    process: a loaded model only reads, and a lock serialises its forward passes."""
    if name == "off":
        return None
    return Verifier(PACKAGED if name == "packaged" else local_or_hub(name), threads)


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


THRESHOLDS = {"supports_at": 0.5, "hedges_at": 1.01, "doubts_below": 0.0,
              "contradicts_at": 0.5}
"""When a reading counts: support at or above ``supports_at`` turns a claim the rules did not
find into a supported one, and at or above ``hedges_at`` one they found hedged (a hedge may
belong to another clause than the one the claim restates; 1.01: never); support below
``doubts_below`` turns a claim the rules passed into not found; contradiction at or above
``contradicts_at`` makes it contradicted. These are defaults for a verifier whose folder
records no calibration of its own (``CALIBRATION.json``, chosen on the dev sets by 'rag eval
calibrate-checker')."""


@dataclass(frozen=True)
class Window:
    """One to three neighbouring evidence sentences, read together."""

    text: str
    members: tuple[int, ...]  # evidence indices, in order


@dataclass(frozen=True)
class VerifierReading:
    """What the verifier makes of a claim against its best windows: the most support any
    window gives it and the most contradiction, with the windows that give them."""

    supported: float
    contradicted: float
    supporting: Window | None
    contradicting: Window | None


def calibrated(path: Path | None) -> dict[str, float]:
    """The thresholds a calibration file records ('rag eval calibrate-checker'), with the
    defaults (``THRESHOLDS``) for any it lacks or when there is none."""
    found = json.loads(path.read_text()) if path is not None and path.is_file() else {}
    return {name: float(found.get(name, value)) for name, value in THRESHOLDS.items()}


class Verifier:
    """Probabilities of (supported, contradicted, nei) for (premise, claim) pairs, and the
    thresholds at which they count (calibrated on dev, stored beside the weights). Safe to
    share between threads (one forward pass at a time). Fast enough to read every window
    around a claim's three best sentences."""

    around = 3
    plan = "all"

    def __init__(self, model: str | Path = PACKAGED, threads: int = 2) -> None:
        import torch
        from sentence_transformers.cross_encoder import CrossEncoder

        torch.set_num_threads(threads)
        path = Path(model)
        source = str(checked_folder(path)) if path.is_dir() else str(model)
        # stored in half precision; computed in full (half is slow on these CPUs)
        self._model = CrossEncoder(source, device="cpu", model_kwargs={"dtype": torch.float32})
        self._lock = threading.Lock()
        self.thresholds = calibrated(path / "CALIBRATION.json" if path.is_dir() else None)

    def probabilities(self, pairs: list[tuple[str, str]]) -> np.ndarray:
        if not pairs:
            return np.zeros((0, len(LABELS)), dtype=np.float32)
        with self._lock:
            out = self._model.predict(pairs, batch_size=32, apply_softmax=True,
                                      convert_to_numpy=True, show_progress_bar=False)
        return np.asarray(out, dtype=np.float32).reshape(len(pairs), len(LABELS))


class PairReader(Protocol):
    """What the claim check needs of a verifier: probabilities of (supported, contradicted,
    nei) for (window, claim) pairs, the thresholds at which they count, and how many windows
    it can afford: those around the ``around`` best sentences, which ``plan`` names (see
    ``windows``)."""

    thresholds: dict[str, float]
    around: int
    plan: str

    def probabilities(self, pairs: list[tuple[str, str]]) -> np.ndarray: ...


def read_claim(verifier: PairReader, claim: str, evidence: list[Evidence], scores: np.ndarray
               ) -> VerifierReading:
    """The claim read against windows around the evidence sentences that support it best
    (``scores``), as many as the verifier affords."""
    order = [int(i) for i in np.argsort(-scores)[:verifier.around] if scores[i] > 0]
    shown = windows(order, evidence, verifier.plan)
    found = verifier.probabilities([(w.text, claim) for w in shown])
    if not len(found):
        return VerifierReading(0.0, 0.0, None, None)
    s, c = int(found[:, 0].argmax()), int(found[:, 1].argmax())
    return VerifierReading(float(found[s, 0]), float(found[c, 1]), shown[s], shown[c])


def windows(best: list[int], evidence: list[Evidence], plan: str = "all") -> list[Window]:
    """For each evidence index in ``best``: the sentence alone, and with its neighbours in
    the same passage (before and after), deduplicated, in order; ``plan`` 'sentence' keeps
    only the first, 'widest' only the second where there is one (a slow reader)."""
    out: dict[str, Window] = {}
    for i in best:
        same = tuple(j for j in (i - 1, i, i + 1) if 0 <= j < len(evidence)
                     and evidence[j].n == evidence[i].n
                     and evidence[j].hit.chunk.article_id == evidence[i].hit.chunk.article_id)
        both = ((i,), same) if len(same) > 1 else ((i,),)
        for members in {"all": both, "sentence": both[:1], "widest": both[-1:]}[plan]:
            text = " ".join(evidence[j].text for j in members)
            out.setdefault(text, Window(text, members))
    return list(out.values())
