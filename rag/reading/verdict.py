"""Yes/no verdicts read from the evidence, not from the model's habit.

A yes/no question is turned into the statement it asks about ("Does X improve Y?" → "X
improve Y"), the evidence sentences that report findings (results and conclusions, never the
study's purpose, background or methods) are read against it with the claim check
(``rag.reading.claims``), and a small logistic head turns what the reading found — the statement
contradicted by the best finding's polarity or direction, negative findings and appraisals
("no significant", "poor", "little"), hedges and open questions ("may", "further studies")
— into Yes, No or Not clear. A question about people or clinical use that the article
answers only from animals ("on women now?" of a study in rats) is No: not yet. The head's
weights are fitted with cross-validation on labelled dev questions (``rag eval verdicts``) and
ship with the package (``verdict_head.json``); a verdict whose probability stays under the
head's cut-off is Not clear. Where the fit found it
helps, a second head also weighs the local model's own reading of the best findings (its
log-odds of Yes over No); it names the model it was fitted on and is used only with that
model. Cut-offs are chosen for precision: a Yes or No is given only where the fit found it
right often enough (``rag.evaluation.verdicts``), else the articles don't settle it.

The reason shown is the finding the verdict rests on, quoted with its citation.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np

from rag.core.errors import RagError
from rag.core.types import Article, Citation
from rag.generation.generate import OptionReader
from rag.reading.claims import NOT_FOUND, compare
from rag.reading.roles import paragraph_of, role
from rag.reading.sentences import read
from rag.reading.study import animal_finding
from rag.reading.support import Evidence, SupportScorer, article_sentences

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


RELEVANT = 0.75
"""A finding counts as being about the statement when its support is at least this share of
the best finding's; among those, conclusions come first."""


def findings(evidence: list[Evidence], scores: np.ndarray) -> list[int]:
    """Indices of the sentences of the first evidence sentence's article that report
    findings, best first: the conclusions about the statement (support within ``RELEVANT``
    of the best), then every other finding by support. One article: a question asks about a
    study, and retrieval's first article is the right one far more often than the sentence
    that best matches the statement."""
    top = evidence[0].hit.chunk.article_id if evidence else ""
    roles = {i: role(e.text, paragraph_of(e)) for i, e in enumerate(evidence)
             if e.hit.chunk.article_id == top}
    kept = [i for i, r in roles.items() if r in ("conclusion", "finding")]
    best = max((float(scores[i]) for i in kept), default=0.0)
    return sorted(kept, key=lambda i: (not (roles[i] == "conclusion"
                                            and scores[i] >= RELEVANT * best),
                                       -float(scores[i])))


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


FEATURES = ("contradicted", "contradicted_top3", "direction", "direction_top3", "negation",
            "negation_top3", "negative_words", "negative_words_top3", "open_words", "hedged",
            "question_negated", "support", "conclusion", "no_finding", "animal_study")
MODEL_FEATURE = "model_yes_minus_no"
"""The judge's log P(Yes) - log P(No) on the best findings: the model head's last input. (The
claim judge's reading of the question's statement against each of the two best findings
alone, ``rag.reading.judge``, was offered too and left out: on the 1,410 dev readings it changed
cross-validated precision and coverage by less than 0.01 at three times the cost.)"""

Judge = Callable[[str, str], float]
"""(question, the best findings) -> the model's log P(Yes) - log P(No) as its first word."""


def model_judge(generator: Any) -> Judge | None:
    """The judge of a generator that reads its own probabilities (None for one that cannot:
    an HTTP server)."""
    if not isinstance(generator, OptionReader):
        return None

    def judge(question: str, finding: str) -> float:
        read_words = generator.option_logprobs(judge_messages(question, finding), ["Yes", "No"])
        return read_words["Yes"] - read_words["No"]

    return judge


@dataclass
class Reading:
    """What a yes/no question's evidence says: the head's inputs and the findings."""

    features: np.ndarray
    evidence: list[Evidence]
    scores: np.ndarray
    order: list[int]  # the findings, best first
    animal: int | None = None  # the finding placing a study about people in animals

    @property
    def finding(self) -> Evidence | None:
        """The sentence a verdict rests on: where the study was in animals and the question
        about people, the one that says so; else the best finding."""
        index = self._rests_on()
        return None if index is None else self.evidence[index]

    def reasons(self, verdict: str) -> list[Citation]:
        """What a verdict shows, cited: the finding a Yes or No rests on; for a question the
        article does not settle, what it does report about it (its best findings)."""
        index = self._rests_on()
        shown = self.order[:SHOWN_UNSETTLED] if verdict == "unclear" else \
            [] if index is None else [index]
        return [self.evidence[i].citation(self.scores[i]) for i in shown]

    def _rests_on(self) -> int | None:
        if self.animal is not None:
            return self.animal
        return self.order[0] if self.order else None


SHOWN_UNSETTLED = 2
"""How many of the best findings an unsettled verdict quotes."""
JUDGED_FINDINGS = 3
"""How many of the best findings the model reads at once (a conclusion is often two or three
sentences)."""


def read_article(question: str, article: Article, scorer: SupportScorer, n: int = 1,
                 judge: Judge | None = None) -> Reading:
    """The question's statement read against the findings of the whole article (the one
    retrieval ranked first, shown to the reader as passage ``n``): its conclusions first,
    then its results. With a ``judge``, its reading of the best findings is the last
    feature."""
    evidence = article_sentences(article, n)
    scores = scorer.scores([statement_of(question)], evidence)[0] if evidence \
        else np.zeros(0, dtype=np.float32)
    order = findings(evidence, scores)
    animal = animal_finding(statement_of(question), evidence)
    x = np.append(features(question, evidence, scores, order), animal is not None)
    if judge is not None:
        best = " ".join(evidence[i].text for i in order[:JUDGED_FINDINGS])
        x = np.append(x, judge(question, best) if order else 0.0)
    return Reading(x, evidence, scores, order, animal)


def features(question: str, evidence: list[Evidence], scores: np.ndarray,
             order: list[int]) -> np.ndarray:
    """What reading the best findings against the question's statement found, as the head's
    inputs (names in ``FEATURES`` but the last, ``animal_study``): for the best one, and
    counted over the best three."""
    statement = read(statement_of(question))
    texts = [evidence[i].text for i in order[:3]]
    kinds = [{f.kind for f in compare(statement, read(t)) if f.status != NOT_FOUND}
             for t in texts]  # what a finding says against the statement, not what it lacks
    best = texts[0] if texts else ""
    contradicting = {"polarity", "population"}
    return np.array([
        bool(kinds and contradicting & kinds[0]),
        sum(bool(contradicting & k) for k in kinds),
        bool(kinds and "direction" in kinds[0]),
        sum("direction" in k for k in kinds),
        bool(_STRONG_NEGATION.search(best)),
        sum(bool(_STRONG_NEGATION.search(t)) for t in texts),
        min(len(_NEGATIVE.findall(best)), 3),
        min(len(_NEGATIVE.findall(" ".join(texts))), 5),
        min(len(_OPEN.findall(" ".join(texts))), 4),
        bool(kinds and "hedge" in kinds[0]),
        any(c.negations for c in statement.clauses),
        float(scores[order[0]]) if order else 0.0,
        bool(texts) and role(best, paragraph_of(evidence[order[0]])) == "conclusion",
        not texts,
    ], dtype=np.float64)


PARTS = ("stated", "results")
"""An article that states its conclusion is read by one head, one that gives results only by
another: what a conclusion's wording says is not what a result's wording says."""


def part_of(x: np.ndarray) -> str:
    """Which head reads these features: whether the best finding is a conclusion."""
    return "stated" if x[FEATURES.index("conclusion")] else "results"


@dataclass(frozen=True)
class VerdictHead:
    """Multinomial logistic regression → yes / no / unclear; a yes or no below ``cutoff``
    probability is reported as unclear. A head that reads a model's judgement names that
    model (``judge``): another model's log-odds are on another scale."""

    features: tuple[str, ...]
    weights: np.ndarray  # [labels x features]
    bias: np.ndarray  # [labels]
    cutoff: float
    judge: str = ""

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

    def to_dict(self) -> dict[str, Any]:
        return {"features": list(self.features), "weights": self.weights.round(6).tolist(),
                "bias": self.bias.round(6).tolist(), "cutoff": self.cutoff,
                **({"judge": self.judge} if self.judge else {})}


def load_heads(path: Path = HEAD) -> dict[str, dict[str, VerdictHead]]:
    """The fitted heads: by variant — "lexical" (the reading alone) and, where fitting found
    the model's judgement helps, "model" (the reading and the judge) — then by part."""
    return _load(str(path))


def judge_for(heads: dict[str, dict[str, VerdictHead]], generator: Any) -> Judge | None:
    """The generator as the verdict's judge, where a model head was fitted on this very
    model's judgement (None otherwise: the lexical head decides)."""
    fitted = {h.judge for h in heads.get("model", {}).values()}
    return model_judge(generator) if getattr(generator, "name", None) in fitted else None


def decide(heads: dict[str, dict[str, VerdictHead]], variant: str, x: np.ndarray) -> str:
    """Yes, No or Not clear for these features: No when the best finding contradicts the
    statement (the claim check's polarity, population or direction) or the study was in
    animals where the question asks about people, else what the head of their part says."""
    if contradicts(x):
        return "no"
    return heads[variant][part_of(x)].verdict(x)


def contradicts(x: np.ndarray) -> bool:
    return bool(x[FEATURES.index("contradicted")] or x[FEATURES.index("direction")]
                or x[FEATURES.index("animal_study")])


@lru_cache(maxsize=4)
def _load(path: str) -> dict[str, dict[str, VerdictHead]]:
    try:
        data = json.loads(Path(path).read_text())
        heads = {variant: {part: VerdictHead(tuple(h["features"]), np.array(h["weights"]),
                                             np.array(h["bias"]), float(h["cutoff"]),
                                             str(h.get("judge", "")))
                           for part, h in parts.items()}
                 for variant, parts in data["heads"].items()}
    except (OSError, ValueError, KeyError, TypeError, AttributeError) as err:
        raise RagError(f"cannot read the verdict head {path}: {err}; run 'rag eval verdicts'")\
            from None
    expected = {"lexical": FEATURES, "model": (*FEATURES, MODEL_FEATURE)}
    if list(data["labels"]) != list(LABELS) or "lexical" not in heads or any(
            set(parts) != set(PARTS) or any(h.features != expected.get(variant)
                                             for h in parts.values())
            for variant, parts in heads.items()):
        raise RagError(f"{path} was fitted for other features; run 'rag eval verdicts'")
    return heads
