"""`rag eval claims` on human-labelled statement–source pairs (the format of
``../shared/eval/claims/``: ``premise, claim, label``): each premise becomes an article, each
claim is checked against it sentence by sentence as ``rag check`` and summaries check theirs,
and a claim counts as supported when every one of its sentences is.

Reported per dataset (and per source where a set mixes them, e.g. FRANK's CNN/DailyMail and
BBC parts): balanced accuracy of supported vs not, recall of each label, and for three-way
sets how often a contradicted claim is called contradicted (or overstated).
"""

from __future__ import annotations

import random
import sys
import time
from collections import Counter, defaultdict
from collections.abc import Callable
from typing import Any

from tqdm import tqdm

from rag.core.text import sentence_spans
from rag.core.types import Article
from rag.evaluation.verifier_train import trained_half
from rag.reading.check import ClaimCheck, judge
from rag.reading.claims import CONTRADICTED, NOT_FOUND, OVERSTATED, SUPPORTED
from rag.reading.support import Evidence, SupportScorer, WordWeights, article_sentences
from rag.reading.verifier import PairReader
from rag.sources.corpus import normalize

Verdict = Callable[[str, str], list[ClaimCheck]]
"""(premise, claim) -> the check of each of the claim's sentences."""


def is_pair_file(rows: list[dict[str, Any]]) -> bool:
    return bool(rows) and all("premise" in r and "claim" in r and "label" in r for r in rows)


def sentence_checker(scorer: SupportScorer, threshold: float,
                     verifier: PairReader | None = None) -> Verdict:
    """Each sentence of a claim judged against every sentence of its premise (``judge``: the
    rules, and the trained verifier's reading over them when one is given)."""

    def check(premise: str, claim: str) -> list[ClaimCheck]:
        evidence, sentences = read_pair(premise, claim)
        rows = scorer.scores(sentences, evidence)
        return [judge(text, evidence, row, threshold, verifier=verifier)
                for text, row in zip(sentences, rows, strict=True)]

    return check


def read_pair(premise: str, claim: str) -> tuple[list[Evidence], list[str]]:
    """The premise's sentences as the evidence of one article, and the claim's sentences."""
    evidence = article_sentences(Article(id="premise", text=normalize(premise)))
    return evidence, [claim[a:b] for a, b in sentence_spans(claim)] or [claim]


def scorer_for(embedder: Any, rows: list[dict[str, Any]]) -> SupportScorer:
    """A support scorer whose word rarity is counted over the premises' sentences, as a
    library counts it over its passages."""
    premises = dict.fromkeys(normalize(r["premise"]) for r in rows)
    sentences = [p[a:b] for p in premises for a, b in sentence_spans(p)]
    return SupportScorer(embedder, WordWeights(sentences))


def evaluate_pairs(check: Verdict, rows: list[dict[str, Any]],
                   progress: bool) -> dict[str, Any]:
    """Balanced accuracy and per-label recall of ``check`` on labelled pairs, per dataset
    (and per ``source`` within one), with the time per pair and each pair's status by its id
    (so two runs can be compared pair by pair)."""
    groups: dict[str, list[tuple[str, str]]] = defaultdict(list)
    seconds = []
    by_pair: dict[str, str] = {}
    for n, row in enumerate(tqdm(rows, desc="pairs", unit="pair", disable=not progress,
                                 file=sys.stderr)):
        began = time.perf_counter()
        found = pair_status(check(row["premise"], row["claim"]))
        seconds.append(time.perf_counter() - began)
        by_pair[str(row.get("id", n))] = found
        dataset = row.get("dataset", "pairs")
        for name in {dataset, part_of(row)}:
            groups[name].append((row["label"], found))
    return {"n": len(rows),
            "datasets": {name: scores(judged) for name, judged in sorted(groups.items())},
            "ms_per_pair": {"p50": round(1000 * sorted(seconds)[len(seconds) // 2], 2)
                            if seconds else None},
            "by_pair": by_pair}


def part_of(row: dict[str, Any]) -> str:
    """The part of its dataset a pair is reported in besides the whole: its source (FRANK's
    CNN/DailyMail and BBC), or for HealthVer the half the verifier was not trained on."""
    dataset = row.get("dataset", "pairs")
    if dataset == "healthver":
        return f"{dataset}/{'trained' if trained_half(row) else 'held-out'} half"
    return f"{dataset}/{row['source']}" if row.get("source") else dataset


def sampled(rows: list[dict[str, Any]], per_part: int | None, draw: int = 0
            ) -> list[dict[str, Any]]:
    """At most ``per_part`` rows of each part (``part_of``: a source, HealthVer's half, a
    kind of alteration), drawn at random with a fixed seed, in their original order: a slow
    reader (the model as a judge) scored on every set within an hour. Successive draws of a
    part are disjoint, so thresholds chosen on draw 0 can be scored on draw 1, pairs they
    were not chosen on; a part no larger than ``per_part`` is kept whole in every draw."""
    if not per_part:
        return rows
    parts: dict[str, list[int]] = defaultdict(list)
    for i, row in enumerate(rows):
        parts[part_of(row)].append(i)
    rng = random.Random(0)
    keep: set[int] = set()
    for members in parts.values():
        drawn: list[int] = []
        left = members
        for _ in range(draw + 1 if len(members) > per_part else 1):
            drawn = rng.sample(left, min(per_part, len(left)))
            taken = set(drawn)
            left = [i for i in left if i not in taken]
        keep.update(drawn)
    return [row for i, row in enumerate(rows) if i in keep]


def pair_status(checks: list[ClaimCheck]) -> str:
    """One status for a claim of several sentences: supported only if all are; else the
    gravest of theirs (contradicted, overstated, not found)."""
    statuses = {c.status for c in checks}
    for status in (CONTRADICTED, OVERSTATED, NOT_FOUND):
        if status in statuses:
            return status
    return SUPPORTED


def scores(judged: list[tuple[str, str]]) -> dict[str, Any]:
    """Balanced accuracy of supported vs not, recall per gold label (for "contradicted":
    called contradicted or overstated; for the others: supported or not as the label says),
    and how often each gold label is called contradicted (a false "the article says
    otherwise" is worse than a "not found")."""
    recall: dict[str, float] = {}
    for label, n in Counter(g for g, _ in judged).items():
        hits = [found for gold, found in judged if gold == label]
        if label == "supported":
            right = sum(f == SUPPORTED for f in hits)
        elif label == "contradicted":
            right = sum(f in (CONTRADICTED, OVERSTATED) for f in hits)
        else:
            right = sum(f != SUPPORTED for f in hits)
        recall[label] = round(right / n, 4)
    positives = [f == SUPPORTED for g, f in judged if g == "supported"]
    negatives = [f != SUPPORTED for g, f in judged if g != "supported"]
    balanced = (sum(positives) / len(positives) + sum(negatives) / len(negatives)) / 2 \
        if positives and negatives else None
    return {"n": len(judged),
            "balanced_accuracy": round(balanced, 4) if balanced is not None else None,
            "recall": dict(sorted(recall.items())),
            "called_contradicted": {label: round(sum(
                f == CONTRADICTED for g, f in judged if g == label) / n, 4)
                for label, n in sorted(Counter(g for g, _ in judged).items())},
            "found": dict(Counter(f for _, f in judged))}
