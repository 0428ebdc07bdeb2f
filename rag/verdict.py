"""Yes/no verdicts read from the evidence, not from the model's habit.

A yes/no question is turned into the statement it asks about ("Does X improve Y?" → "X
improve Y"), the evidence sentences that report findings (results and conclusions, never the
study's purpose, background or methods) are read against it with the claim check
(``rag.claims``), and a small logistic head turns what the reading found — the statement
contradicted by the best finding's polarity or direction, negative findings and appraisals
("no significant", "poor", "little"), hedges and open questions ("may", "further studies")
— into Yes, No or Not clear. The head's weights are fitted with cross-validation on labelled
dev questions (``rag eval verdicts``) and ship with the package (``verdict_head.json``); a
verdict whose probability stays under the head's cut-off is Not clear.

The reason shown is the finding the verdict rests on, quoted with its citation.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np

from rag.claims import compare, read
from rag.roles import paragraph_of, role
from rag.support import Evidence

HEAD = Path(__file__).with_name("verdict_head.json")
LABELS = ("yes", "no", "unclear")

_AUXILIARY = re.compile(
    r"^(is|are|was|were|do|does|did|can|could|should|would|will|has|have|had|may|might|must|"
    r"shall)\b\s*", re.I)
_NEGATIVE = re.compile(
    r"\b(poor(ly)?|little|few|low|suboptimal|inadequate(ly)?|insufficient(ly)?|limited|"
    r"unnecessary|ineffective|unreliable|inaccurate|underestimated|overestimated|"
    r"inconsistent|variab\w+|fails?|failed|failure to|lacks?|lacking|rather than|other than|"
    r"instead of|questionable|not (justified|warranted|recommended|supported)|neither|nor|"
    r"unrelated|independent of|irrespective|regardless|unaffected|unchanged|similar|"
    r"comparable|equivalent)\b", re.I)
_OPEN = re.compile(
    r"\b(further|unclear|uncertain|remains?|remained|warrant\w*|larger|controvers\w*|"
    r"inconclusive|needed|need|future|not clear|question|may|might|could|possibl\w*|"
    r"potential\w*|suggest\w*|appears?|seems?|perhaps|probabl\w*|preliminary)\b", re.I)
_STRONG_NEGATION = re.compile(
    r"\b((did|does|do|was|were|is|are|had|has|have|could|can|would|will|should) not|no "
    r"(significant|statistically|difference|differences|effect|effects|association|"
    r"correlation|relationship|relation|impact|change|changes|benefit|evidence|advantage|"
    r"influence|role|improvement|increase|reduction|predictive|value)|not (significantly|"
    r"associated|related|correlated|different|superior|effective|useful|necessary|"
    r"predictive)|nor|neither|failed to|unable to|cannot)\b", re.I)


def statement_of(question: str) -> str:
    """The statement a yes/no question asks about: its last clause ("Topic: is it safe?"
    asks about "it safe") without the leading auxiliary and the question mark."""
    clause = re.split(r"[:;]\s+", question.strip())[-1].strip() or question.strip()
    return _AUXILIARY.sub("", clause.rstrip(" ?.")).strip() or question.strip(" ?")


def findings(evidence: list[Evidence], scores: np.ndarray) -> list[int]:
    """Indices of the sentences of the best-ranked article that report findings, best for
    the statement first (a conclusion counts a little more than a result of the same
    support). One article: a question asks about a study, and retrieval's first article is
    the right one far more often than the sentence that best matches the statement."""
    top = evidence[0].hit.chunk.article_id if evidence else ""
    roles = {i: role(e.text, paragraph_of(e)) for i, e in enumerate(evidence)
             if e.hit.chunk.article_id == top}
    kept = [i for i, r in roles.items() if r in ("conclusion", "finding")]
    return sorted(kept, key=lambda i: -(float(scores[i]) + 0.1 * (roles[i] == "conclusion")))


JUDGE_PROMPT = """You judge whether a study's finding answers a yes/no question with Yes or No.
Answer Yes when the finding says the thing asked about is true, works, helps, is associated, \
differs, or is useful.
Answer No when the finding says it is not: no effect, no difference, not associated, similar, \
poor, little, inadequate, or the opposite of what is asked.
Examples:
Finding: Treatment with drug A did not reduce mortality compared with placebo. Question: Does \
drug A reduce mortality? Answer: No
Finding: Drug B lowered blood pressure by 9 mmHg more than placebo. Question: Does drug B lower \
blood pressure? Answer: Yes
Finding: Outcomes were similar in both groups. Question: Are outcomes better with surgery than \
with medication? Answer: No
Finding: The screening tool missed most cases and agreement with experts was poor. Question: Is \
the screening tool accurate? Answer: No
Finding: Older age was an independent predictor of complications. Question: Is age associated \
with complications? Answer: Yes
Reply with one word: Yes or No."""
"""The model's part in a verdict: a judge of one finding against one question. Its examples
are made up (none is from the evaluation data); being fixed, the prompt is evaluated once per
process and each verdict pays only for its finding and question (~60 tokens)."""


def judge_messages(question: str, finding: str) -> list[dict[str, str]]:
    return [{"role": "system", "content": JUDGE_PROMPT},
            {"role": "user", "content": f"Finding: {finding} Question: {question} Answer:"}]


FEATURES = ("contradicted", "contradicted_2nd", "direction", "negation", "negation_2nd",
            "negative_words", "open_words", "hedged", "question_negated", "support",
            "conclusion", "no_finding")


def features(question: str, evidence: list[Evidence], scores: np.ndarray) -> np.ndarray:
    """What reading the best two findings against the question's statement found, as the
    head's inputs (names in ``FEATURES``)."""
    statement = read(statement_of(question))
    order = findings(evidence, scores)[:2]
    texts = [evidence[i].text for i in order]
    checks = [compare(statement, read(t)) for t in texts]
    kinds = [{f.kind for f in found} for found in checks]
    best = texts[0] if texts else ""
    second = texts[1] if len(texts) > 1 else ""
    return np.array([
        "polarity" in kinds[0] if kinds else 0,
        "polarity" in kinds[1] if len(kinds) > 1 else 0,
        "direction" in kinds[0] if kinds else 0,
        bool(_STRONG_NEGATION.search(best)),
        bool(_STRONG_NEGATION.search(second)),
        min(len(_NEGATIVE.findall(best)), 3),
        min(len(_OPEN.findall(" ".join(texts))), 4),
        "hedge" in kinds[0] if kinds else 0,
        any(c.negations for c in statement.clauses),
        float(scores[order[0]]) if order else 0.0,
        role(best, paragraph_of(evidence[order[0]])) == "conclusion" if texts else 0,
        not texts,
    ], dtype=np.float64)


@dataclass(frozen=True)
class VerdictHead:
    """Multinomial logistic regression over ``FEATURES`` → yes / no / unclear; a yes or no
    below ``cutoff`` probability is reported as unclear."""

    weights: np.ndarray  # [labels x features]
    bias: np.ndarray  # [labels]
    cutoff: float

    @classmethod
    def load(cls, path: Path = HEAD) -> VerdictHead:
        return _load(str(path))

    def probabilities(self, x: np.ndarray) -> np.ndarray:
        z = self.weights @ x + self.bias
        z = np.exp(z - z.max())
        return z / z.sum()

    def verdict(self, x: np.ndarray) -> str:
        p = self.probabilities(x)
        best = int(np.argmax(p))
        if LABELS[best] != "unclear" and p[best] < self.cutoff:
            return "unclear"
        return LABELS[best]


@lru_cache(maxsize=4)
def _load(path: str) -> VerdictHead:
    data = json.loads(Path(path).read_text())
    if list(data["features"]) != list(FEATURES) or list(data["labels"]) != list(LABELS):
        raise ValueError(f"{path} was fitted for other features; run 'rag eval verdicts'")
    return VerdictHead(np.array(data["weights"]), np.array(data["bias"]),
                       float(data["cutoff"]))
