"""Evidence-first prompts: the sentences of the top passages that bear on the question, within
a token budget, instead of whole passages.

Prompt evaluation is what a CPU pays for before the first word (~70-100 tokens/s here), and a
small model answers better from a few pointed sentences than from four paragraphs. Each
numbered item is a run of whole sentences cut from one retrieved chunk, with its exact article
span, so the model's [n] still resolves to checkable text.
"""

from __future__ import annotations

import re

import numpy as np

from rag.core.types import Chunk, Hit
from rag.reading.support import Evidence, SupportScorer, evidence_sentences

_LEANS_BACK = re.compile(
    r"^\W*(this|these|those|that|it|its|they|their|such|both|however|in contrast|moreover|"
    r"furthermore|thus|therefore|also|the (former|latter|difference|results?|findings?))\b",
    re.I)
WORDS_PER_TOKEN = 0.72
"""English prose runs about 1.4 word pieces per word in the models' tokenizers."""


LONG_WORD_CHARS = 40
"""A "word" longer than this is no prose word (a digit run, a base64 blob): the generator's
tokenizer reads it in pieces of a character or two, so it is counted a token a character."""


def tokens(text: str) -> int:
    """About how many tokens the generator reads for ``text``."""
    return int(len(text.split()) / WORDS_PER_TOKEN) + long_word_chars(text) + 1


def long_word_chars(text: str) -> int:
    """The characters of ``text``'s over-long words (``LONG_WORD_CHARS``): tokens a count
    of words or word pieces misses."""
    return sum(len(w) for w in text.split() if len(w) > LONG_WORD_CHARS)


RELEVANT_SHARE = 0.5
"""A sentence scoring under this share of the best one's support does not bear on the question:
it is left out even where the budget has room, since every prompt token delays the first word
(and a small model is led astray by what is beside the point)."""


def on_subject(question: str, passages: list[Hit], scorer: SupportScorer,
               coverage: float) -> list[Hit]:
    """The passages of the first article (it passed the refusal gate), and those of other
    articles that hold as much of the question's wording as the gate asks of the first
    (``coverage``, rare words weighing most): a passage of a neighbouring study that merely
    shares a word or two costs prompt tokens and leads a small model astray. On the 705
    answerable PubMedQA dev questions this left out 45% of the evidence items from articles
    other than the question's own (526 → 287), while the budget it freed went to the
    question's own article (its items 1,388 → 1,417; median evidence 134 → 126 tokens)."""
    first = passages[0].chunk.article_id if passages else None
    return [p for p in passages
            if p.chunk.article_id == first or scorer.coverage(question, p) >= coverage]


def select_evidence(question: str, hits: list[Hit], scorer: SupportScorer,
                    budget: int) -> list[Hit]:
    """Numbered evidence items for ``question``: its best-supporting sentences, each with the
    sentence before it where it leans back ("These results…"), within ``budget`` tokens and
    within ``RELEVANT_SHARE`` of the best, grouped by passage (best passage first) and merged
    where they touch."""
    evidence = evidence_sentences(hits)
    if not evidence:
        return []
    scores = scorer.scores([question], evidence)[0]
    chosen: set[int] = set()
    used = 0
    floor = RELEVANT_SHARE * float(scores.max())
    for index in np.argsort(-scores):
        if scores[index] < floor:
            break
        wanted = [i for i in _with_context(int(index), evidence) if i not in chosen]
        cost = sum(tokens(evidence[i].text) for i in wanted)
        if chosen and used + cost > budget:
            continue
        chosen.update(wanted)
        used += cost
    return _items(sorted(chosen, key=lambda i: (evidence[i].n, evidence[i].start)), evidence)


def _with_context(index: int, evidence: list[Evidence]) -> list[int]:
    """The sentence, preceded by the one before it in the same passage if it leans back."""
    e = evidence[index]
    before = index - 1
    if _LEANS_BACK.match(e.text) and before >= 0 and evidence[before].n == e.n:
        return [before, index]
    return [index]


def _items(order: list[int], evidence: list[Evidence]) -> list[Hit]:
    """Runs of adjacent chosen sentences of one passage, each as a Hit on its exact span."""
    runs: list[list[Evidence]] = []
    for i in order:
        e = evidence[i]
        last = runs[-1][-1] if runs else None
        if last and last.n == e.n and i - 1 in order and evidence[i - 1] is last:
            runs[-1].append(e)
        else:
            runs.append([e])
    items = []
    for run in runs:
        hit = run[0].hit
        a, b = run[0].start - hit.chunk.start, run[-1].end - hit.chunk.start
        items.append(Hit(Chunk(hit.chunk.article_id, run[0].start, run[-1].end,
                               hit.chunk.text[a:b], hit.chunk.id), hit.title, hit.score,
                         hit.dense_score, hit.sparse_score))
    return items
