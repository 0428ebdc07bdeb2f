"""The packaged model as a claim judge: asked whether a passage supports a statement,
contradicts it or does neither, and read from the probabilities of its first word (as the
verdicts are, ``rag.reading.verdict``), so what it would go on to write does not matter.

A language model reads paraphrases, denials carried by "hurdles before" or "no more than",
and hedges that belong to one clause, where word rules and the small trained verifier do
not. It is slower (about half a second a window with the 1.5B model on 2 cores), so it reads
fewer windows: each of a claim's two best sentences alone (a sentence with its neighbours
dilutes what the model reads: "hurdles before … clinical practice" denies "ready for
clinical practice" with 0.83 alone and 0.60 among its neighbours).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np

from rag.core.errors import RagError
from rag.core.settings import Settings
from rag.generation.generate import Generator, OptionReader
from rag.reading.verifier import PairReader, calibrated, configured_verifier

JUDGE_PROMPT = (
    "You check a statement against a passage from an article. Answer with one word: "
    "Supported if the passage says the statement is true, Contradicted if the passage says it "
    "is false, Neither if the passage does not settle it.")
OPTIONS = ["Supported", "Contradicted", "Neither"]  # in the order of rag.reading.verifier.LABELS
CALIBRATION = Path(__file__).parent / "judge-calibration.json"
"""The thresholds at which the packaged model's readings overrule the rules, chosen on the
dev sets by 'rag eval calibrate-checker --verifier model'."""


class ModelJudge:
    """A ``PairReader`` over a local model that reads its own next-token probabilities."""

    around = 2
    plan = "sentence"

    def __init__(self, model: OptionReader, calibration: Path | None = None) -> None:
        self._model = model
        self.thresholds = calibrated(calibration or CALIBRATION)

    def probabilities(self, pairs: list[tuple[str, str]]) -> np.ndarray:
        out = np.zeros((len(pairs), len(OPTIONS)), dtype=np.float32)
        for row, (premise, claim) in enumerate(pairs):
            found = self._model.option_logprobs(
                [{"role": "system", "content": JUDGE_PROMPT},
                 {"role": "user", "content": f"Passage: {premise}\nStatement: {claim}\nAnswer:"}],
                OPTIONS)
            logprobs = np.array([found[o] for o in OPTIONS], dtype=np.float64)
            odds = np.exp(logprobs - logprobs.max())
            out[row] = odds / odds.sum()  # over the three words, whatever else it might say
        return out


def configured_reader(name: str, settings: Settings, generator: Callable[[], Generator]
                      ) -> PairReader | None:
    """What reads claims over the rules, by its setting's value (``Settings.claim_verifier``,
    ``statement_verifier``): 'model' is the configured generator as a judge (``generator``
    loads it), 'auto' the same when that generator can judge and None (the rules alone)
    when it cannot, anything else a trained verifier (None: 'off')."""
    if name not in ("model", "auto"):
        return configured_verifier(name, settings.threads)
    model = generator()
    if isinstance(model, OptionReader):
        return ModelJudge(model)
    if name == "auto":
        return None
    raise RagError(f"the generator {model.name} cannot judge claims (it does not give its "
                   "word probabilities): use a local model, or set RAG_STATEMENT_VERIFIER and "
                   "RAG_CLAIM_VERIFIER to auto or off")
