"""Where the articles behind an answer disagree: two findings from different articles about
the same point that contradict each other on a number, a direction or a polarity ("fell 9
mmHg" against "fell 3 mmHg"; "increased" against "no change").

Built on the claim check (``rag.reading.claims``): each sentence is read as a claim against the
other, both ways, and only a contradiction found both ways counts; a different population or a
hedge is not a disagreement (two studies may look at different groups, or say it more
carefully). A purpose or method sentence is not compared (how many were enrolled is not a
result), only the sentences of each article that bear most on the question, and only pairs
that say nearly the same thing in the support score's sense: two studies reporting
different outcomes are not in conflict. Two results said in other words give each other less
support; where a reader is given (the packaged model as a judge, when an answer is
generated), they are compared too and named only where it reads each as contradicting the
other. Sample sizes and unitless figures (p-values, years of a
cohort) differ between honest studies, so a number must carry a measured unit.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, dataclass
from functools import cache
from typing import Any

import numpy as np

from rag.core.text import stem
from rag.core.types import Chunk, Citation, Hit
from rag.reading.claims import CONTRADICTED, Finding, compare
from rag.reading.roles import paragraph_of, role
from rag.reading.sentences import Reading, read
from rag.reading.support import Evidence, SupportScorer, evidence_sentences
from rag.reading.verifier import PairReader

KINDS = ("number", "direction", "polarity")
RELEVANCE = 0.25
"""The support a sentence needs from the question to be compared: a disagreement off the
question's point is not the reader's concern (on dev it cost detection 0.76 → 0.64 and no
false alarm)."""
SAME_POINT = 0.8
"""The support score two sentences must give each other, both ways, to be about the same
point (a claim needs 0.45 to be supported: a disagreement is a stronger charge, and two
sentences sharing less are too often about different things). Chosen on the first 200
dev questions of PubMedQA (``rag eval disagreements``, no relevance floor): false alarms
0.01, detection 0.83 at 0.8; 0.04 and 0.55 at 0.6."""
REWORDED_POINT = 0.5
"""Two reports of one measure in other words ("dropped only 3 mmHg … no more than the
controls saw" against "fell by 9 mmHg") give each other less support than ``SAME_POINT``:
from this support up, a pair the rules read as contradicting is also named where a reader
(the packaged model as a judge, ``rag.reading.judge``) reads each sentence as contradicting the
other at ``CONFIRMS_AT``."""
CONFIRMS_AT = 0.8
"""The reader's contradiction, both ways, that confirms a pair in other words. Its own figure,
not the claim check's ``contradicts_at`` (chosen on claims, where a summary's several
sentences each meet it): measured at 0.8 on the PubMedQA dev pairs (``rag eval
disagreements``: 1 false alarm in 705 agreeing pairs, 2 more altered reports found)."""
_NOT_FINDINGS = ("purpose", "method")
_RESULTS = ("finding", "conclusion")
"""What two sentences in other words must both be to be compared: a background sentence
restates aims and earlier work ("This study examines the effects of …")."""
PER_ARTICLE = 8
"""An article's sentences most about the question that are compared with the others (3
found half the altered reports that 8 find, at the same false-alarm rate)."""
_COUNTED = {stem(w) for w in (
    "patient patients participant participants subject subjects case cases individual "
    "individuals respondent respondents people person persons adult adults child children "
    "women men woman man infant infants rat rats mouse mice animal animals eye eyes "
    "hospital hospitals center centers centre centres study studies trial trials sample "
    "samples specimen specimens year years month months week weeks day days").split()}
"""Units that count who or what was studied, or for how long: they differ between honest
studies and between reports of one study's arms."""


@dataclass
class Disagreement:
    """Two cited sentences of different articles that contradict each other."""

    a: Citation
    b: Citation
    kind: str  # number | direction | polarity

    def to_dict(self) -> dict[str, Any]:
        return {"a": asdict(self.a), "b": asdict(self.b), "kind": self.kind}


def find_disagreements(question: str, hits: list[Hit], scorer: SupportScorer,
                       reader: Callable[[], PairReader | None] | None = None
                       ) -> list[Disagreement]:
    """At most one disagreement per pair of articles among ``hits`` (numbered from 1, as
    the reader sees them), the pair saying most nearly the same thing first. With a
    ``reader`` (loaded only when a pair needs it), pairs from ``REWORDED_POINT`` up are
    considered too, named only where both report results and it confirms the contradiction
    both ways."""
    if reader is not None:
        reader = cache(reader)  # built once a call, however many pairs it confirms
    kept = [(e, r) for e, r in ((e, role(e.text, paragraph_of(e)))
                                for e in evidence_sentences(hits)) if r not in _NOT_FINDINGS]
    evidence = [e for e, _ in kept]
    reports_result = [r in _RESULTS for _, r in kept]
    if len({e.hit.chunk.article_id for e in evidence}) < 2:
        return []
    relevance = scorer.scores([question], evidence)[0]
    picked: dict[str, list[int]] = {}
    for i in (int(i) for i in np.argsort(-relevance)):
        if relevance[i] < RELEVANCE:
            break
        ids = picked.setdefault(evidence[i].hit.chunk.article_id, [])
        if len(ids) < PER_ARTICLE:
            ids.append(i)
    chosen = [i for ids in picked.values() for i in ids]
    if len(picked) < 2:
        return []
    pair = scorer.scores([evidence[i].text for i in chosen], [evidence[i] for i in chosen])
    same = np.minimum(pair, pair.T)
    found, settled = [], set()
    order = sorted(((x, y) for x in range(len(chosen)) for y in range(x + 1, len(chosen))),
                   key=lambda xy: -same[xy])
    for x, y in order:
        a, b = evidence[chosen[x]], evidence[chosen[y]]
        articles = frozenset((a.hit.chunk.article_id, b.hit.chunk.article_id))
        if same[x, y] < (SAME_POINT if reader is None else REWORDED_POINT):
            break
        if len(articles) < 2 or articles in settled:
            continue
        kind = contradiction(a.text, b.text)
        if kind and same[x, y] < SAME_POINT and not (
                reports_result[chosen[x]] and reports_result[chosen[y]]
                and _confirmed(reader, a.text, b.text)):
            continue
        if kind:
            settled.add(articles)
            sides = sorted((chosen[x], chosen[y]), key=lambda i: (evidence[i].n, evidence[i].start))
            found.append(Disagreement(*(evidence[i].citation(relevance[i]) for i in sides), kind))
    return found


def _confirmed(reader: Callable[[], PairReader | None] | None, a: str, b: str) -> bool:
    """Whether the reader reads each sentence as contradicting the other."""
    loaded = reader() if reader is not None else None
    if loaded is None:
        return False
    contradicted = loaded.probabilities([(a, b), (b, a)])[:, 1]
    return bool((contradicted >= CONFIRMS_AT).all())


def disagree_on(a: str, b: str, scorer: SupportScorer) -> str:
    """The kind of contradiction between two sentences that say nearly the same thing ("" if
    they do not, or agree)."""
    pair = scorer.scores([a, b], [_loose(a), _loose(b)])
    if min(pair[0, 1], pair[1, 0]) < SAME_POINT:
        return ""
    return contradiction(a, b)


def _loose(text: str) -> Evidence:
    """A sentence as evidence of its own (no article around it)."""
    return Evidence(0, Hit(Chunk("", 0, len(text), text), "", 0.0), 0, len(text), text)


def contradiction(a: str, b: str) -> str:
    """The kind of contradiction between two sentences found reading each against the other
    ("" for none): a number, direction or polarity both readings disagree on; a polarity
    only where one of them denies nothing."""
    first, second = read(a), read(b)
    both = {f.kind for f in compare(first, second) if _disagrees(f)} & \
        {f.kind for f in compare(second, first) if _disagrees(f)}
    if _denies(first) and _denies(second):
        # two denials of different words ("no significant correlation" / "neither BMI nor
        # …is predictive") read as opposite polarities when their scopes differ
        both.discard("polarity")
    return next((kind for kind in KINDS if kind in both), "")


def _denies(reading: Reading) -> bool:
    return any(clause.negations for clause in reading.clauses)


def _disagrees(finding: Finding) -> bool:
    if finding.status != CONTRADICTED or finding.kind not in KINDS:
        return False
    return finding.kind != "number" or (finding.unit != "" and finding.unit not in _COUNTED)


def disagreement_sentence(disagreement: Disagreement) -> str:
    """How an answer says it: both sides quoted, each with its passage number."""
    a, b = disagreement.a, disagreement.b
    return f"The articles disagree: [{a.n}] reports “{a.text}”; [{b.n}] reports “{b.text}”"
