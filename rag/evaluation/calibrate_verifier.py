"""`rag eval calibrate-checker`: the thresholds at which the trained verifier's readings
overrule the rules (``rag.reading.check.reconcile``), chosen on the dev pair sets.

Each claim sentence of each pair is read once — the rules' check and the verifier's reading
of its best windows — and every combination of thresholds on a grid is then scored without
reading again. The choice maximises the mean balanced accuracy over the dev sets that are
not trained on (the news sets, and HealthVer's held-out half: ``OBJECTIVE``), each set
counting once whatever its size. The trained half of HealthVer, and any other file given
(the seed statements), are reported, not optimised. Altered abstract sentences (the
alteration check's file, each against its own abstract) are a constraint: a grid point that
lets any kind of alteration through more than ``FLAGGED`` allows, or keeps fewer unaltered
sentences than ``KEPT``, is not chosen.
"""

from __future__ import annotations

import itertools
import sys
from collections import defaultdict
from dataclasses import dataclass
from typing import Any

import numpy as np
from tqdm import tqdm

from rag.evaluation.pairs import pair_status, part_of, read_pair, scores
from rag.reading.check import ClaimCheck, reconcile, rule_check, without_purposes
from rag.reading.support import Evidence, SupportScorer
from rag.reading.verifier import PairReader, VerifierReading, read_claim

OBJECTIVE = ("frank", "cliff", "goyal21", "healthver/held-out half")
NEAR_BEST = 0.005
"""Points within this of the best mean balanced accuracy count as equally good; among them
the one that tells contradictions best (``contradiction_gain``) is chosen. Balanced accuracy
is about supported or not, and a doubt turns a wrong support round as well as a
contradiction does, so by it alone a reader that never says "contradicted" ties with one
that says it rightly."""
THREE_WAY = "healthver/held-out half"
GRID = {"supports_at": [1.01, 0.95, 0.9, 0.8, 0.7, 0.6, 0.5],
        "hedges_at": [1.01, 0.99, 0.95, 0.9, 0.8],
        "doubts_below": [0.0, 0.02, 0.05, 0.1, 0.2, 0.3, 0.4, 0.5],
        "contradicts_at": [1.01, 0.95, 0.9, 0.8, 0.7, 0.6, 0.5]}
"""Each from overruling the rules least to most (1.01: never), so that of equally good
points the first, the one closest to the rules alone, is chosen."""
FLAGGED = 0.95
KEPT = 0.98
"""The alteration check's own goals: each kind flagged, unaltered sentences kept."""


@dataclass
class SentenceReading:
    """One claim sentence of a pair, read by the rules and by the verifier."""

    rules: ClaimCheck
    verifier: VerifierReading
    evidence: list[Evidence]
    scores: np.ndarray


def read_pairs(rows: list[dict[str, Any]], scorer: SupportScorer, verifier: PairReader,
               threshold: float, progress: bool) -> list[list[SentenceReading]]:
    """Every pair's sentences, read once."""
    out = []
    for row in tqdm(rows, desc="reading", unit="pair", disable=not progress, file=sys.stderr):
        evidence, sentences = read_pair(row["premise"], row["claim"])
        read = []
        for text, row_scores in zip(sentences, scorer.scores(sentences, evidence), strict=True):
            masked = without_purposes(text, evidence, row_scores)
            read.append(SentenceReading(rule_check(text, evidence, masked, threshold),
                                        read_claim(verifier, text, evidence, masked),
                                        evidence, masked))
        out.append(read)
    return out


def figures(rows: list[dict[str, Any]], read: list[list[SentenceReading]],
            thresholds: dict[str, float] | None) -> dict[str, Any]:
    """Per dataset and part: ``scores`` with the verifier at ``thresholds`` (None: the rules
    alone)."""
    groups: dict[str, list[tuple[str, str]]] = defaultdict(list)
    for row, sentences in zip(rows, read, strict=True):
        checks = [s.rules if thresholds is None else
                  reconcile(s.rules, s.verifier, s.evidence, s.scores, thresholds)
                  for s in sentences]
        found = pair_status(checks)
        for name in {row.get("dataset", "pairs"), part_of(row)}:
            groups[name].append((row["label"], found))
    return {name: scores(judged) for name, judged in sorted(groups.items())}


def alteration_pairs(rows: list[dict[str, Any]], articles: dict[str, str]
                     ) -> list[dict[str, Any]]:
    """The alteration check's claims as pairs against their own abstracts, one dataset per
    kind."""
    return [{"dataset": f"alterations/{row.get('kind') or row['label']}",
             "premise": articles[row["article_id"]], "claim": row["claim"],
             "label": row["label"]} for row in rows if row.get("article_id") in articles]


def holds(found: dict[str, Any]) -> bool:
    """Whether the alteration goals hold (trivially, without alteration pairs)."""
    for name, figures in found.items():
        if not name.startswith("alterations/"):
            continue
        supported = figures["found"].get("supported", 0) / figures["n"]
        if name == "alterations/unaltered" and supported < KEPT:
            return False
        if name != "alterations/unaltered" and 1 - supported < FLAGGED:
            return False
    return True


def objective(found: dict[str, Any]) -> float:
    values = [found[name]["balanced_accuracy"] or 0.0 for name in OBJECTIVE if name in found]
    return sum(values) / len(values) if values else 0.0


def contradiction_gain(found: dict[str, Any]) -> float:
    """On the held-out three-way set: the share of contradicted claims called contradicted,
    less the share of the others called so."""
    called = found.get(THREE_WAY, {}).get("called_contradicted", {})
    others = [v for label, v in called.items() if label != "contradicted"]
    if "contradicted" not in called or not others:
        return 0.0
    return called["contradicted"] - sum(others) / len(others)


def calibrate(rows: list[dict[str, Any]], scorer: SupportScorer, verifier: PairReader,
              threshold: float, progress: bool) -> dict[str, Any]:
    """Of the grid points that ``hold``, those within ``NEAR_BEST`` of the best
    ``objective``, the one with the best ``contradiction_gain`` (ties: the first, the
    verifier overruling least; none holding: the rules alone), with the rules' figures and
    the chosen ones per set."""
    read = read_pairs(rows, scorer, verifier, threshold, progress)
    holding = []
    for values in itertools.product(*GRID.values()):
        point = dict(zip(GRID, values, strict=True))
        found = figures(rows, read, point)
        if holds(found):
            holding.append((objective(found), contradiction_gain(found), point))
    top = max((score for score, _, _ in holding), default=None)
    best: tuple[float, dict[str, float]] | None = None
    if top is not None:  # the near-best point that tells contradictions best (ties: first)
        near = [h for h in holding if h[0] >= top - NEAR_BEST]
        chosen = max(near, key=lambda h: h[1])
        best = (chosen[0], chosen[2])
    rules = figures(rows, read, None)
    if best is None:  # the rules alone, whatever they score, if no point keeps the goals
        best = (objective(rules), {"supports_at": 1.01, "hedges_at": 1.01,
                                   "doubts_below": 0.0, "contradicts_at": 1.01})
    return {"objective": list(OBJECTIVE), "thresholds": best[1],
            "mean_balanced_accuracy": {"rules": round(objective(rules), 4),
                                       "with_verifier": round(best[0], 4)},
            "rules": rules, "with_verifier": figures(rows, read, best[1])}
