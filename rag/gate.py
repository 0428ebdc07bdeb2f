"""Whether the evidence retrieved can answer a question: the refusal gate.

Three readings of the best evidence, each weak alone: its best sentence's support for the
question (``evidence``), the share of the question's own wording, rare words weighing most,
that the best passage holds (``coverage``: an article on the same field but another subject
holds little of it), and the best passage's embedding cosine to the question (``closeness``:
the same subject in other words). An unanswerable question's closest article is usually on
a related subject and clears a floor on any one of them; what gives it away is all three
being middling. So the gate weighs them — ``evidence + coverage_weight × coverage +
closeness_weight × closeness`` against ``refusal_threshold`` — with weights from a logistic
regression on labelled dev questions and the threshold that lets a chosen share of the
answerable ones through (``rag eval calibrate``).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from rag.settings import Settings


@dataclass(frozen=True)
class Gate:
    coverage_weight: float
    closeness_weight: float
    threshold: float

    @classmethod
    def of(cls, settings: Settings) -> Gate:
        return cls(settings.coverage_weight, settings.closeness_weight,
                   settings.refusal_threshold)

    def score(self, evidence: float, coverage: float, closeness: float) -> float:
        return evidence + self.coverage_weight * coverage + self.closeness_weight * closeness

    def passes(self, evidence: float, coverage: float, closeness: float) -> bool:
        return self.score(evidence, coverage, closeness) >= self.threshold


def fit_gate(readings: np.ndarray, answerable: np.ndarray, keep: float) -> Gate:
    """The gate for ``readings`` (rows of evidence, coverage, closeness) that lets ``keep``
    of the answerable questions through: logistic regression's weights, scaled so evidence
    weighs 1 (its sign is that of every reading's), and the threshold at that share."""
    from sklearn.linear_model import LogisticRegression

    spread = readings.std(axis=0) + 1e-9
    model = LogisticRegression(max_iter=2000).fit(readings / spread, answerable)
    weights = model.coef_[0] / spread
    weights = (weights / weights[0]).round(4) if weights[0] > 0 else np.array([1.0, 0, 0])
    scores = readings @ weights
    threshold = float(np.quantile(scores[answerable], 1 - keep, method="lower"))
    return Gate(float(weights[1]), float(weights[2]), math.floor(threshold * 1e4) / 1e4)


def cross_validated(readings: np.ndarray, answerable: np.ndarray, keep: float,
                    folds: int = 5) -> dict[str, float]:
    """Shares of answerable questions let through and of unanswerable ones refused by gates
    fitted without them (stratified folds): what to expect on questions not fitted on."""
    from sklearn.model_selection import StratifiedKFold

    passed = np.zeros(len(answerable), dtype=bool)
    for train, test in StratifiedKFold(folds, shuffle=True, random_state=0).split(
            readings, answerable):
        gate = fit_gate(readings[train], answerable[train], keep)
        passed[test] = [gate.passes(*row) for row in readings[test]]
    return {"answerable_kept": round(float(passed[answerable].mean()), 4),
            "unanswerable_refused": round(float((~passed[~answerable]).mean()), 4),
            "folds": folds}
