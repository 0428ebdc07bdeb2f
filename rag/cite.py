"""Check an answer against its evidence: split it into sentences, find the passage sentences
that support each one (``rag.support``), keep citations that hold, fix those that point at
the wrong passage, and mark sentences nothing supports.
Citations are built from retrieved chunks only, never from text the model wrote.
"""

from __future__ import annotations

import re

import numpy as np

from rag.chunking import sentence_spans
from rag.support import Evidence, SupportScorer, evidence_sentences
from rag.types import AnswerSentence, Citation, Hit

_MARKER = re.compile(r"\s*\[(\d+(?:\s*[,;]\s*\d+)*)\]")
_REFUSAL = re.compile(
    r"\b(do(es)? not (say|mention|state|contain|answer|provide)|not (mentioned|stated|"
    r"provided|discussed)|no (information|mention)|cannot (be )?(answer|determine))\b", re.I)


def is_refusal(text: str) -> bool:
    return bool(_REFUSAL.search(text))


def split_claims(answer: str) -> list[tuple[str, list[int]]]:
    """Answer sentences with the passage numbers they cite, markers removed from the text."""
    out = []
    for a, b in sentence_spans(answer):
        sentence = answer[a:b]
        cited = [int(n) for group in _MARKER.findall(sentence) for n in re.split(r"[,;]", group)]
        text = _MARKER.sub("", sentence).strip()
        if text and any(ch.isalnum() for ch in text):
            out.append((text, cited))
        elif out and cited:  # a marker that landed after the sentence's full stop
            out[-1][1].extend(cited)
    return out


def check_answer(
    answer: str, hits: list[Hit], scorer: SupportScorer, threshold: float
) -> tuple[list[AnswerSentence], list[Citation]]:
    """Checked sentences and the citations that support them (deduplicated by span)."""
    claims = split_claims(answer)
    evidence = evidence_sentences(hits)
    scores = scorer.scores([text for text, _ in claims], evidence)
    sentences: list[AnswerSentence] = []
    citations: dict[tuple[int, int, int], Citation] = {}
    for row, (text, cited) in enumerate(claims):
        if is_refusal(text):
            sentences.append(AnswerSentence(text, [], True))
            continue
        best = sorted(_best_supporting(scores[row], evidence, cited, threshold),
                      key=lambda i: evidence[i].n)
        for index in best:
            e = evidence[index]
            citations.setdefault((e.n, e.start, e.end), Citation(
                n=e.n, article_id=e.hit.chunk.article_id, title=e.hit.title, start=e.start,
                end=e.end, text=e.text, support=round(float(scores[row, index]), 4)))
        keys = [(evidence[i].n, evidence[i].start, evidence[i].end) for i in best]
        sentences.append(AnswerSentence(text, [key[0] for key in keys], bool(best),
                                        [list(citations).index(key) for key in keys]))
    return sentences, list(citations.values())


def _best_supporting(
    row: np.ndarray, evidence: list[Evidence], cited: list[int], threshold: float
) -> list[int]:
    """Evidence indices that support a claim: in each cited passage its best sentence if it
    clears the threshold; if no cited passage does, the best sentence of any passage."""
    kept = []
    for n in dict.fromkeys(cited):
        candidates = [i for i, e in enumerate(evidence) if e.n == n]
        if candidates:
            best = max(candidates, key=lambda i: row[i])
            if row[best] >= threshold:
                kept.append(best)
    if not kept and len(row):
        best = int(np.argmax(row))
        if row[best] >= threshold:
            kept.append(best)
    return kept


def render(sentences: list[AnswerSentence]) -> str:
    """The answer text with checked citation markers."""
    return " ".join(
        s.text + "".join(f" [{n}]" for n in s.citations) for s in sentences
    ).strip()


def extractive_answer(
    question: str, hits: list[Hit], scorer: SupportScorer, sentences: int = 2
) -> tuple[str, list[Citation], float]:
    """The passage sentences that best match the question, cited, with the best score.
    Costs one small embedding call, so it is ready long before a generated answer."""
    evidence = evidence_sentences(hits)
    if not evidence:
        return "", [], 0.0
    row = scorer.scores([question], evidence)[0]
    top = [int(i) for i in np.argsort(-row)[:sentences]]
    citations = [Citation(n=evidence[i].n, article_id=evidence[i].hit.chunk.article_id,
                          title=evidence[i].hit.title, start=evidence[i].start,
                          end=evidence[i].end, text=evidence[i].text,
                          support=round(float(row[i]), 4)) for i in top]
    text = " ".join(f"{c.text} [{c.n}]" for c in citations)
    return text, citations, float(row[top[0]])
