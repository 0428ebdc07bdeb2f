"""`rag eval verdicts`: fit the verdict head (``rag.reading.verdict``) on labelled yes/no questions,
with cross-validation, over one or more corpora (PubMedQA with its conclusions stated and
with them removed), and say what it is worth beside the majority label.

Every labelled answerable question is read the way ``rag ask`` reads it (the same search, the
same passages); the head's inputs are the claim check's findings and, where a local model can
read its probabilities, the model's judgement of the best finding. Folds are split by
question, so a question's two corpora never sit on both sides of a fold. The model's
judgement is kept only where it gives more right Yes/No on every corpus without being right
less often; the cut-off below which a Yes or No becomes Not clear (the articles don't settle
it) is chosen per head for precision (``precision_cutoff``): raised towards
``PRECISION_GOAL`` as far as the coverage floor and the majority label allow, out of fold.
Nothing is tuned per question.
"""

from __future__ import annotations

import sys
import time
from collections import Counter
from typing import Any

import numpy as np
from tqdm import tqdm

from rag.core.errors import RagError
from rag.library import Library
from rag.reading.verdict import (
    FEATURES,
    LABELS,
    MODEL_FEATURE,
    PARTS,
    VerdictHead,
    contradicts,
    model_judge,
    part_of,
)

_LABELS = {"yes": "yes", "no": "no", "maybe": "unclear"}
CUTOFFS = [round(float(c), 2) for c in np.arange(0.34, 0.99, 0.02)]


def read_questions(libraries: dict[str, Library], questions: list[dict[str, Any]],
                   with_model: bool, progress: bool) -> list[dict[str, Any]]:
    """One row per (corpus, labelled answerable question): its features, with and without
    the model's judgement."""
    rows = []
    labelled = [q for q in questions if q.get("answerable", True)
                and str((q.get("answers") or [""])[0]).lower() in _LABELS]
    for corpus, library in libraries.items():
        judge = model_judge(library.generator) if with_model else None
        answerer = library.answerer()
        width = len(FEATURES) + (judge is not None)
        for q in tqdm(labelled, desc=f"verdicts ({corpus})", unit="q", disable=not progress,
                      file=sys.stderr):
            reading = answerer.verdict_reading(q["question"], library.search(q["question"]),
                                               judge)
            rows.append({"id": q.get("id"), "corpus": corpus,
                         "judge": library.generator.name if judge else None,
                         "label": _LABELS[str(q["answers"][0]).lower()],
                         "x": reading.features.round(4).tolist() if reading
                         else [0.0] * width})
    return rows


def fit_heads(rows: list[dict[str, Any]], folds: int = 5) -> dict[str, Any]:
    """Cross-validated figures of the lexical head and (where rows carry the model's
    judgement) the model head, per corpus, and the heads fitted on every row. Each variant
    is two heads: one for articles that state a conclusion (the best finding is one), one for
    those that give results only; each is fitted and cross-validated on its own rows."""
    y = np.array([r["label"] for r in rows])
    groups = np.array([str(r["id"]) for r in rows])
    corpora = sorted({r["corpus"] for r in rows})
    full = np.array([r["x"] for r in rows], dtype=np.float64)
    variants = {"lexical": full[:, : len(FEATURES)]}
    if full.shape[1] > len(FEATURES):
        variants["model"] = full
    judges = {r.get("judge") for r in rows if r.get("judge")}
    if len(judges) > 1:
        raise RagError(f"the rows were judged by different models ({', '.join(sorted(judges))})"
                       "; fit a head on one model's judgement")
    parts = {part: np.flatnonzero([part_of(x) == part for x in full]) for part in PARTS}
    report: dict[str, Any] = {"n": len(rows), "folds": folds,
                              "rows": {part: len(index) for part, index in parts.items()},
                              "heads": {}}
    contradicted = np.array([contradicts(row) for row in full])
    for name, x in variants.items():
        probabilities = np.zeros((len(rows), len(LABELS)))
        said = np.empty(len(rows), dtype=object)
        cutoffs = {}
        for part, index in parts.items():
            probabilities[index] = _cross_validated(x[index], y[index], groups[index], folds)
            cutoffs[part] = precision_cutoff(probabilities[index], y[index],
                                             contradicted[index], PRECISION_GOAL[part],
                                             COVERAGE_FLOOR[part])
            said[index] = _decide(probabilities[index], cutoffs[part], contradicted[index])
        report["heads"][name] = {
            "cutoffs": cutoffs,
            "cross_validated": {corpus: _figures(said, y, [r["corpus"] == corpus for r in rows])
                                for corpus in corpora},
            # a part no row fell into gets the head of all rows
            "heads": {part: _head(x[index] if len(index) else x,
                                  y[index] if len(index) else y, cutoffs[part],
                                  next(iter(judges), "") if name == "model" else None).to_dict()
                      for part, index in parts.items()}}
    report["model_kept"] = "model" in report["heads"] and all(
        _better(report["heads"]["model"]["cross_validated"][c],
                report["heads"]["lexical"]["cross_validated"][c]) for c in corpora)
    report["precision_goal"] = PRECISION_GOAL
    report["coverage_floor"] = COVERAGE_FLOOR
    report["majority_margin"] = MAJORITY_MARGIN
    report["rule"] = ("multinomial logistic regression over the claim check's reading of the "
                      "best findings (and the model's judgement where kept), one head for "
                      "articles that state a conclusion and one for results only; a Yes or No "
                      "below the cut-off probability is Not clear, the cut-off of each part "
                      "raised towards its precision goal while the Yes/No given keep the "
                      "coverage floor and the accuracy over all stays above the majority "
                      "label by the margin; folds split by question")
    report["date"] = time.strftime("%Y-%m-%d")
    return report


PRECISION_GOAL = {"stated": 0.92, "results": 0.80}
"""How often a given Yes or No should be right, by part: a stated conclusion is read more
surely than results alone. A wrong Yes is the most harmful thing a verdict can print, so the
cut-off is raised towards these, leaving the question unsettled (its findings shown)."""
COVERAGE_FLOOR = {"stated": 0.75, "results": 0.40}
"""The share of questions that must still get a Yes or No: a tool that settles nothing is no
help either."""
MAJORITY_MARGIN = 0.05
"""How far above always giving the majority label the accuracy over all questions must stay
(about two and a half standard errors of an accuracy over 600 questions), so that abstaining
never leaves the reader worse off than that label would on other questions."""


def precision_cutoff(probabilities: np.ndarray, y: np.ndarray, contradicted: np.ndarray,
                     goal: float, coverage_floor: float = 0.0) -> float:
    """The cut-off a head gives Yes or No above (out-of-fold figures): among those that
    still give a verdict on ``coverage_floor`` of the questions and stay ``MAJORITY_MARGIN``
    above the majority label's accuracy, the lowest whose Yes/No are right ``goal`` of the
    time, else the one whose Yes/No are right most often; where none keeps both floors, the
    one with the best accuracy."""
    majority = Counter(y.tolist()).most_common(1)[0][1] / len(y) if len(y) else 0.0
    measured = []
    for cutoff in CUTOFFS:
        said = _decide(probabilities, cutoff, contradicted)
        given = said != "unclear"
        precision = float((said[given] == y[given]).mean()) if given.any() else 0.0
        measured.append((cutoff, precision, float(given.mean()) if len(y) else 0.0,
                         float((said == y).mean()) if len(y) else 0.0))
    allowed = [m for m in measured
               if m[2] >= coverage_floor and m[3] >= majority + MAJORITY_MARGIN]
    if not allowed:
        return max(measured, key=lambda m: (m[3], -m[0]))[0]
    reaching = [m for m in allowed if m[1] >= goal]
    if reaching:
        return reaching[0][0]
    return max(allowed, key=lambda m: (m[1], -m[0]))[0]


def _better(model: dict[str, Any], lexical: dict[str, Any]) -> bool:
    """Whether the model head's verdicts on a corpus beat the lexical head's: more of them
    right, and right as often (within 0.01) where given."""
    def right(f: dict[str, Any]) -> float:
        return f["stated_yes_no"] * (f["stated_yes_no_right"] or 0.0)

    return right(model) > right(lexical) and \
        (model["stated_yes_no_right"] or 0.0) >= (lexical["stated_yes_no_right"] or 0.0) - 0.01


def _cross_validated(x: np.ndarray, y: np.ndarray, groups: np.ndarray,
                     folds: int) -> np.ndarray:
    """Out-of-fold probabilities (columns in ``LABELS`` order); rows too few or of one label
    to split get their training labels' shares."""
    from sklearn.model_selection import StratifiedGroupKFold

    probabilities = np.zeros((len(y), len(LABELS)))
    counts = Counter(y.tolist())
    if len(counts) < 2 or min(counts.values()) < folds:
        for label, count in counts.items():
            probabilities[:, LABELS.index(label)] = count / len(y)
        return probabilities
    for train, test in StratifiedGroupKFold(folds, shuffle=True, random_state=0).split(
            x, y, groups):
        model = _fit(x[train], y[train])
        for column, label in zip(model.predict_proba(x[test]).T, model.classes_, strict=True):
            probabilities[test, LABELS.index(label)] = column
    return probabilities


def head_file(report: dict[str, Any]) -> dict[str, Any]:
    """What ``rag.reading.verdict.load_heads`` reads: the heads kept, and where they came from."""
    kept = {name: h["heads"] for name, h in report["heads"].items()
            if name == "lexical" or report["model_kept"]}
    return {"labels": list(LABELS), "heads": kept,
            "fitted": {"n": report["n"], "date": report["date"], "rows": report["rows"],
                       "cross_validated": {name: h["cross_validated"]
                                           for name, h in report["heads"].items()}}}


def _fit(x: np.ndarray, y: np.ndarray) -> Any:
    from sklearn.linear_model import LogisticRegression

    return LogisticRegression(max_iter=3000, C=0.3).fit(x, y)


def _head(x: np.ndarray, y: np.ndarray, cutoff: float, judge: str | None) -> VerdictHead:
    """The head fitted on every row, as one weight row per label in ``LABELS`` order (a
    label the rows never had can never win; two labels come as one row of log-odds). A model
    head names the model whose judgement is its last feature (``judge``; None: lexical)."""
    names = FEATURES if judge is None else (*FEATURES, MODEL_FEATURE)
    if len(set(y.tolist())) < 2:  # one label: it always wins
        weights, bias = np.zeros((len(LABELS), x.shape[1])), np.full(len(LABELS), -50.0)
        bias[LABELS.index(y[0])] = 0.0
        return VerdictHead(tuple(names), weights, bias, cutoff, judge or "")
    model = _fit(x, y)
    coef, intercept = model.coef_, model.intercept_
    if len(model.classes_) == 2:
        coef = np.vstack([np.zeros_like(coef[0]), coef[0]])
        intercept = np.array([0.0, intercept[0]])
    weights = np.zeros((len(LABELS), x.shape[1]))
    bias = np.full(len(LABELS), -50.0)
    for row, label in enumerate(model.classes_):
        weights[LABELS.index(label)], bias[LABELS.index(label)] = coef[row], intercept[row]
    return VerdictHead(tuple(names), weights, bias, cutoff, judge or "")


def _decide(probabilities: np.ndarray, cutoff: float, contradicted: np.ndarray) -> np.ndarray:
    """What ``rag.reading.verdict.decide`` says for out-of-fold probabilities."""
    best = probabilities.argmax(axis=1)
    said = np.array(LABELS)[best]
    unsure = (said != "unclear") & (probabilities.max(axis=1) < cutoff)
    said[unsure] = "unclear"
    said[contradicted] = "no"
    return said


def _figures(said: np.ndarray, y: np.ndarray, mask: list[bool]) -> dict[str, Any]:
    said, gold = said[np.array(mask)], y[np.array(mask)]
    stated = said != "unclear"
    majority, count = Counter(gold.tolist()).most_common(1)[0]
    return {"n": int(len(gold)), "accuracy": round(float((said == gold).mean()), 4),
            "majority_label": majority, "majority_baseline": round(count / len(gold), 4),
            "stated_yes_no": round(float(stated.mean()), 4),
            "stated_yes_no_right": round(float((said[stated] == gold[stated]).mean()), 4)
            if stated.any() else None,
            "said": dict(Counter(said.tolist()))}
