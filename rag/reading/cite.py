"""Check an answer against its evidence: split it into sentences, find the passage sentences
that support each one (``rag.reading.support``), keep citations that hold, fix those that point at
the wrong passage, trim a sentence to the part they bear out, and mark sentences nothing
supports.
Citations are built from retrieved chunks only, never from text the model wrote.
"""

from __future__ import annotations

import re

import numpy as np

from rag.core.text import sentence_spans, trimmings
from rag.core.types import AnswerSentence, Citation, Hit
from rag.reading.check import ClaimCheck, close_rival, context_of, objection, reconcile
from rag.reading.claims import NOT_FOUND, SUPPORTED, Finding
from rag.reading.support import Evidence, SupportScorer, evidence_sentences
from rag.reading.verifier import PairReader, read_claim

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
    answer: str, hits: list[Hit], scorer: SupportScorer, threshold: float,
    verifier: PairReader | None = None,
) -> tuple[list[AnswerSentence], list[Citation]]:
    """Checked sentences and the citations that support them (deduplicated by span).

    A sentence is checked twice: the support score finds the sentences it rests on, and the
    claim check (``rag.reading.claims``) reads whether they say what it says. Where they do not, a
    passage sentence almost as close that bears it out alone is cited instead, as ``rag
    check`` and summaries judge a sentence (``close_rival``); else a sentence they
    contradict or that overstates them is replaced by the source sentence itself, quoted
    and cited, with the reason kept (``status``, ``reason``, ``said``), and one with a
    number or a name they do not give is trimmed to the part they bear out (``_trimmed``,
    the model's sentence kept in ``said``) or else marked as not supported. With a trained
    ``verifier``, its reading goes over the rules' as in ``rag check`` (``reconcile``)."""
    claims = split_claims(answer)
    evidence = evidence_sentences(hits)
    scores = scorer.scores([text for text, _ in claims], evidence)
    sentences: list[AnswerSentence] = []
    citations: dict[tuple[int, int, int], Citation] = {}

    def cite(index: int, score: float) -> int:
        e = evidence[index]
        key = (e.n, e.start, e.end)
        citations.setdefault(key, e.citation(score))
        return list(citations).index(key)

    for row, (text, cited) in enumerate(claims):
        if is_refusal(text):
            sentences.append(AnswerSentence(text, [], True))
            continue
        reading = _read_against(text, scores[row], evidence, cited, threshold)
        if reading is None:
            sentences.append(AnswerSentence(text, [], False, status=NOT_FOUND,
                                            reason="no passage says this"))
            continue
        strongest, found = reading
        best = list(strongest)
        if found is not None:
            rival = close_rival(text, evidence, scores[row], strongest[0], threshold)
            if rival is not None:
                best, found = [rival], None
        if verifier is not None:
            best, found = _verified(text, best, found, evidence, scores[row], verifier)
            strongest = sorted(best, key=lambda i: -scores[row, i])
        if found is None:
            best.sort(key=lambda i: evidence[i].n)
            sentences.append(AnswerSentence(text, [evidence[i].n for i in best], True,
                                            [cite(i, scores[row, i]) for i in best]))
        elif found.status == NOT_FOUND:
            trim = _trimmed(text, cited, evidence, scorer, threshold)
            if trim is None:
                sentences.append(AnswerSentence(text, [], False, status=NOT_FOUND,
                                                reason=found.reason))
                continue
            short, best, support = trim
            sentences.append(AnswerSentence(
                short, [evidence[i].n for i in best], True,
                [cite(i, support[i]) for i in best], status=NOT_FOUND,
                reason=f"trimmed to the part the passages bear out: {found.reason}",
                said=text))
        else:  # corrected from the source: its own words, quoted
            source = strongest[0]
            sentences.append(AnswerSentence(f"“{evidence[source].text}”", [evidence[source].n],
                                            True, [cite(source, scores[row, source])],
                                            status=found.status, reason=found.reason,
                                            said=text))
    return sentences, list(citations.values())


def _verified(text: str, best: list[int], found: Finding | None, evidence: list[Evidence],
              scores: np.ndarray, verifier: PairReader) -> tuple[list[int], Finding | None]:
    """The sentences a checked answer sentence rests on and the objection to it, once the
    verifier's reading has gone over the rules' (``reconcile``)."""
    check = ClaimCheck(text, found.status if found else SUPPORTED, found.reason if found else "",
                       [evidence[i] for i in best], [float(scores[i]) for i in best],
                       found.kind if found else "")
    after = reconcile(check, read_claim(verifier, text, evidence, scores), evidence, scores,
                      verifier.thresholds)
    if after is check:
        return best, found
    kept = [i for e in after.evidence for i, candidate in enumerate(evidence) if candidate is e]
    return kept, None if after.supported else Finding(after.kind, after.status, after.reason)


def _trimmed(text: str, cited: list[int], evidence: list[Evidence], scorer: SupportScorer,
             threshold: float) -> tuple[str, list[int], np.ndarray] | None:
    """The longest shortening of ``text`` (``trimmings``: a trailing detail cut off) that
    the passages bear out, the evidence sentences it rests on (in passage order) and its
    support scores; None when none is. A sentence that adds a number or a name no passage
    gives at its end ("…, with 89% accuracy") keeps its checked part instead of being
    shown whole as unsupported; a sentence the passages contradict is corrected from the
    source instead."""
    shorter = trimmings(text)
    if not shorter:
        return None
    for short, row in zip(shorter, scorer.scores(shorter, evidence), strict=True):
        reading = _read_against(short, row, evidence, cited, threshold)
        if reading is not None and reading[1] is None:
            return short, sorted(reading[0], key=lambda i: evidence[i].n), row
    return None


def _read_against(text: str, row: np.ndarray, evidence: list[Evidence], cited: list[int],
                  threshold: float) -> tuple[list[int], Finding | None] | None:
    """The evidence sentences that support ``text`` (``_best_supporting``, strongest
    first) and what the claim check objects to in them (None: they bear it out); None when
    no sentence supports it at all."""
    best = _best_supporting(row, evidence, cited, threshold)
    if not best:
        return None
    strongest = sorted(best, key=lambda i: -row[i])
    return strongest, objection(text, [evidence[i] for i in strongest],
                                context_of(evidence[strongest[0]], evidence))


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
    citations = [evidence[i].citation(row[i]) for i in top]
    text = " ".join(f"{c.text} [{c.n}]" for c in citations)
    return text, citations, float(row[top[0]])
