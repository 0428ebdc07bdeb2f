"""How a claim is judged against evidence sentences: the rules' reading of the best-supported
ones (``rag.reading.claims`` compares each pair of sentences), the study-level readings of
the article the claim is about (``rag.reading.study``), then, with a verifier (the packaged
model as a judge, or a trained cross-encoder), its reading where it is the better reader.
One status per claim — supported, contradicted, overstated, not found — with the reason
in the source's words and the sentences it rests on. Every caller checks through
``judge``: ``rag check``, answers, summaries and digests, compare cells.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass, field, replace
from typing import Any

import numpy as np

from rag.reading.claims import CONTRADICTED, NOT_FOUND, OVERSTATED, SUPPORTED, Finding, compare
from rag.reading.roles import paragraph_of, reports_aim, role
from rag.reading.sentences import NEGATIONS, read, species
from rag.reading.study import people_from_animals, who_was_studied
from rag.reading.support import Evidence
from rag.reading.verifier import PairReader, VerifierReading, Window, read_claim


@dataclass
class ClaimCheck:
    """A claim's status and the source sentences it was judged against (best first)."""

    claim: str
    status: str
    reason: str
    evidence: list[Evidence] = field(default_factory=list)
    scores: list[float] = field(default_factory=list)
    kind: str = ""

    @property
    def supported(self) -> bool:
        return self.status == SUPPORTED

    def to_dict(self) -> dict[str, Any]:
        """The JSON of ``rag check``: the claim, its status, the reason, the cited spans."""
        return {"claim": self.claim, "status": self.status, "reason": self.reason,
                "kind": self.kind or None,
                "citations": [asdict(e.citation(s)) for e, s in zip(self.evidence, self.scores,
                                                                    strict=True)]}


_PRECEDENCE = {CONTRADICTED: 0, OVERSTATED: 1, NOT_FOUND: 2}


def objection(claim: str, cited: list[Evidence], context: Sequence[Evidence] = ()
               ) -> Finding | None:
    """What keeps ``claim`` from being supported by the sentences it cites (the first one
    it rests on most), or None when they bear it out. ``context``: other sentences of the
    first one's article."""
    readings = [read(e.text) for e in cited]
    findings = compare(read(claim), readings[0], readings[1:], [read(e.text) for e in context])
    return min(findings, key=lambda f: _PRECEDENCE[f.status]) if findings else None


def judge(claim: str, evidence: list[Evidence], scores: np.ndarray, threshold: float,
          cited: int = 2, verifier: PairReader | None = None) -> ClaimCheck:
    """The claim's status against the evidence sentences (``scores``: their support for the
    claim): the rules' reading (``rule_check``), then, with a trained ``verifier``, its
    reading of the best windows where it is the better reader (``reconcile``)."""
    scores = without_purposes(claim, evidence, scores)
    check = rule_check(claim, evidence, scores, threshold, cited)
    if verifier is None or not evidence:
        return check
    return reconcile(check, read_claim(verifier, claim, evidence, scores), evidence, scores,
                     verifier.thresholds)


def without_purposes(claim: str, evidence: list[Evidence], scores: np.ndarray) -> np.ndarray:
    """``scores`` with the sentences giving a study's purpose at 0, unless the claim is
    about the purpose itself: "we asked whether X" does not say that X."""
    if _about_aim(claim):
        return scores
    return np.where([role(e.text, paragraph_of(e)) == "purpose" for e in evidence], 0.0, scores)


def rule_check(claim: str, evidence: list[Evidence], scores: np.ndarray, threshold: float,
               cited: int = 2) -> ClaimCheck:
    """The rules' reading. Not found when no sentence clears ``threshold``; else the best
    sentence (with up to ``cited`` - 1 more above the threshold, for numbers a claim joins
    from two sentences) must bear out every number, code, polarity, direction, population
    and hedge, or else a sentence almost as close must bear it all out alone
    (``close_rival``). The rest of the best sentence's article is its context. A claim that
    people are treated or helped, resting on a study in animals, is contradicted whatever
    the support (``rag.reading.study``)."""
    animal = people_from_animals(claim, evidence)
    if animal is not None:
        return ClaimCheck(claim, CONTRADICTED, "the study was in animals: "
                          f"“{evidence[animal].text}”", [evidence[animal]],
                          [round(float(scores[animal]), 4)], "population")
    studied = who_was_studied(claim, evidence)
    if studied is not None:
        at, agrees = studied
        said = ", ".join(sorted(species(read(evidence[at].text))))
        return ClaimCheck(claim, SUPPORTED if agrees else CONTRADICTED,
                          "" if agrees else f"the study was in {said}: “{evidence[at].text}”",
                          [evidence[at]], [round(float(scores[at]), 4)],
                          "" if agrees else "population")
    if not evidence or float(np.max(scores)) < threshold:
        return ClaimCheck(claim, NOT_FOUND, "no sentence of the articles says this")
    ranked = [int(i) for i in np.argsort(-scores) if scores[i] >= threshold]
    order = ranked[:cited]
    chosen = [evidence[i] for i in order]
    found = objection(claim, chosen, context_of(chosen[0], evidence))
    if found is not None:
        rival = close_rival(claim, evidence, scores, ranked[0], threshold)
        if rival is not None:
            order, chosen, found = [rival], [evidence[rival]], None
    kept_scores = [round(float(scores[i]), 4) for i in order]
    if found is None:
        return ClaimCheck(claim, SUPPORTED, "", chosen, kept_scores)
    return ClaimCheck(claim, found.status, found.reason, chosen, kept_scores, found.kind)


RULES_OVER_VERIFIER = frozenset({"number", "code", "population"})
"""Findings of the rules that stand whatever the verifier reads: a number with its unit, a
code, a population are exact readings, where a small cross-encoder guesses."""


def reconcile(check: ClaimCheck, reading: VerifierReading, evidence: list[Evidence],
              scores: np.ndarray, thresholds: dict[str, float]) -> ClaimCheck:
    """The rules' check with the verifier's reading over it (``thresholds``: see
    ``rag.reading.verifier.THRESHOLDS``): a window it reads as contradicting the claim makes it
    contradicted, whatever wording the rules matched; a claim the rules passed that no
    window supports is not found (on-topic is not said); a claim the rules missed or found
    hedged that a window plainly supports is supported. Numbers, codes and populations stay
    with the rules (``RULES_OVER_VERIFIER``)."""
    if check.kind in RULES_OVER_VERIFIER:
        return check

    def cited(window: Window) -> tuple[list[Evidence], list[float]]:
        return ([evidence[i] for i in window.members],
                [round(float(scores[i]), 4) for i in window.members])

    if reading.contradicted >= thresholds["contradicts_at"] and reading.contradicting \
            and reading.contradicted > reading.supported:
        said = reading.contradicting.text
        return ClaimCheck(check.claim, CONTRADICTED, f"the article says otherwise: “{said}”",
                          *cited(reading.contradicting), "verifier")
    needed = thresholds["supports_at"] if check.status == NOT_FOUND else \
        thresholds["hedges_at"] if check.kind == "hedge" else None
    if needed is not None and reading.supported >= needed and reading.supporting:
        return ClaimCheck(check.claim, SUPPORTED, "", *cited(reading.supporting))
    if check.status == SUPPORTED and reading.supported < thresholds["doubts_below"]:
        return replace(check, status=NOT_FOUND, kind="verifier",
                       reason="the articles are about this but do not say it")
    return check


def _about_aim(claim: str) -> bool:
    """Whether ``claim`` is about what a study set out to do: a purpose, or a report of it
    (``reports_aim``) with no change or denial of its own ("we compared A with B, and A
    lost less" says a result)."""
    return role(claim) == "purpose" or reports_aim(claim) and not any(
        t.direction or t.word in NEGATIONS for c in read(claim).clauses for t in c.tokens)


RIVAL_MARGIN = 0.1
"""How much less support a sentence may have than the best one and still bear a claim out
on its own. An article often says a thing twice in different words (a finding, then again
within a longer, hedged sentence); the sentence a claim matches best is not always the one
it restates. Wider margins let loosely related sentences vouch for altered claims (0.2 lets
1 in 100 altered directions, hedges and populations through on eval/claims-dev.jsonl; 0.1
and 0.15 none)."""


def close_rival(claim: str, evidence: list[Evidence], scores: np.ndarray, best: int,
                threshold: float, tried: int = 3) -> int | None:
    """The first of the next ``tried`` best sentences after ``best`` (those above
    ``threshold`` and within ``RIVAL_MARGIN`` of its support) that bears ``claim`` out by
    itself (None: none does)."""
    floor = max(threshold, float(scores[best]) - RIVAL_MARGIN)
    for i in [int(i) for i in np.argsort(-scores) if i != best and scores[i] >= floor][:tried]:
        if objection(claim, [evidence[i]], context_of(evidence[i], evidence)) is None:
            return i
    return None


def context_of(sentence: Evidence, evidence: Sequence[Evidence]) -> list[Evidence]:
    """The other evidence sentences of ``sentence``'s article."""
    article = sentence.hit.chunk.article_id
    return [e for e in evidence if e.hit.chunk.article_id == article and e is not sentence]
