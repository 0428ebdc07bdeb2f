"""The refusal gate weighs three readings of the evidence together: questions whose best
evidence is middling on all three are refused although each reading alone overlaps the
answerable ones."""

from __future__ import annotations

import numpy as np

from rag.gate import Gate, cross_validated, fit_gate
from rag.settings import Settings


def readings(seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Answerable questions score high on most readings, unanswerable ones middling on all:
    every reading's range overlaps between the two, their sum does not."""
    rng = np.random.default_rng(seed)
    answerable = rng.uniform(0.2, 0.95, size=(400, 3))
    answerable = answerable[answerable.sum(axis=1) >= 1.9]
    unanswerable = rng.uniform(0.25, 0.6, size=(60, 3))
    unanswerable = unanswerable[unanswerable.sum(axis=1) <= 1.5]
    x = np.vstack([answerable, unanswerable])
    return x, np.array([True] * len(answerable) + [False] * len(unanswerable))


def test_middling_evidence_on_every_reading_is_refused_though_no_single_floor_can():
    x, a = readings()
    for i in range(3):  # any floor that keeps every answerable question keeps most others
        floor = x[a, i].min()
        assert (x[~a, i] >= floor).mean() > 0.5
    gate = fit_gate(x, a, keep=1.0)
    passed = np.array([gate.passes(*row) for row in x])
    assert passed[a].all()
    assert (~passed[~a]).mean() >= 0.9


def test_cross_validated_figures_come_from_gates_that_never_saw_the_question():
    x, a = readings(1)
    figures = cross_validated(x, a, keep=0.975)
    assert figures["folds"] == 5
    assert figures["answerable_kept"] >= 0.9 and figures["unanswerable_refused"] >= 0.9
    shuffled = cross_validated(x, np.random.default_rng(2).permutation(a), keep=0.975)
    assert shuffled["unanswerable_refused"] < 0.5  # labels that carry nothing: no skill


def test_the_gate_reads_its_weights_and_threshold_from_the_settings():
    settings = Settings.load({"refusal_threshold": 1.0, "coverage_weight": 0.5,
                              "closeness_weight": 2.0}, env={})
    gate = Gate.of(settings)
    assert gate.score(0.2, 0.4, 0.3) == 0.2 + 0.5 * 0.4 + 2.0 * 0.3
    assert gate.passes(0.2, 0.4, 0.3) and not gate.passes(0.1, 0.1, 0.1)
