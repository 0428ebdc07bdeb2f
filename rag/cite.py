"""Check an answer against its evidence: split it into sentences, find the passage sentences
that support each one, keep citations that hold, fix those that point at the wrong passage,
and mark sentences nothing supports.

Support is a blend of meaning (embedding cosine) and wording (the share of the claim's content
words, stemmed and weighted by their rarity in the index, found in the evidence sentence).
Cosine alone rates any on-topic sentence as support; word overlap alone misses paraphrase;
rarity weighting keeps generic words ("study", "found") from vouching for a claim about
something the articles never mention.
Citations are built from retrieved chunks only, never from text the model wrote.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from dataclasses import dataclass

import numpy as np
import Stemmer
from bm25s.stopwords import STOPWORDS_EN_PLUS

from rag.chunking import sentence_spans
from rag.embedding import Embedder
from rag.types import AnswerSentence, Citation, Hit

_MARKER = re.compile(r"\s*\[(\d+(?:\s*[,;]\s*\d+)*)\]")
_WORD = re.compile(r"\w+")
_REFUSAL = re.compile(
    r"\b(do(es)? not (say|mention|state|contain|answer|provide)|not (mentioned|stated|"
    r"provided|discussed)|no (information|mention)|cannot (be )?(answer|determine))\b", re.I)
_STOPWORDS = set(STOPWORDS_EN_PLUS)
_STEMMER = Stemmer.Stemmer("english")


@dataclass
class Evidence:
    """One sentence of a retrieved passage, located in its article."""

    n: int  # the passage number the model saw
    hit: Hit
    start: int
    end: int
    text: str


def evidence_sentences(hits: list[Hit], shared_once: bool = True) -> list[Evidence]:
    """Sentences of the passages. With ``shared_once``, a sentence that overlapping chunks
    share counts once, under the first (best-ranked) passage that holds it."""
    out, seen = [], set()
    for n, hit in enumerate(hits, start=1):
        chunk = hit.chunk
        for a, b in sentence_spans(chunk.text):
            key = (chunk.article_id, chunk.start + a, chunk.start + b)
            if not shared_once or key not in seen:
                seen.add(key)
                out.append(Evidence(n, hit, key[1], key[2], chunk.text[a:b]))
    return out


def content_words(text: str) -> set[str]:
    words = [w for w in _WORD.findall(text.lower()) if w not in _STOPWORDS and len(w) > 1]
    return set(_STEMMER.stemWords(words))


class WordWeights:
    """Inverse document frequency of content words over a set of passages; a word never seen
    weighs most, since nothing in the articles can vouch for it."""

    def __init__(self, passages: list[str]) -> None:
        counts: Counter[str] = Counter()
        for text in passages:
            counts.update(content_words(text))
        self._n = len(passages)
        self._idf = {w: math.log((1 + self._n) / (1 + df)) + 1 for w, df in counts.items()}
        self.unseen = math.log(1 + self._n) + 1

    def __call__(self, word: str) -> float:
        return self._idf.get(word, self.unseen)


class SupportScorer:
    """Scores how well evidence sentences support claims (0..1)."""

    def __init__(self, embedder: Embedder, weights: WordWeights | None = None,
                 cache_size: int = 20_000) -> None:
        self.embedder = embedder
        self.weights = weights or WordWeights([])
        self._vectors: dict[str, np.ndarray] = {}  # rerank, gate and citations share sentences
        self._cache_size = cache_size

    def _embed(self, texts: list[str]) -> np.ndarray:
        missing = list(dict.fromkeys(t for t in texts if t not in self._vectors))
        if missing:
            if len(self._vectors) + len(missing) > self._cache_size:
                self._vectors.clear()
            self._vectors.update(zip(missing, self.embedder.embed(missing), strict=True))
        return np.vstack([self._vectors[t] for t in texts])

    def scores(self, claims: list[str], evidence: list[Evidence]) -> np.ndarray:
        """Matrix [claims x evidence] of support scores."""
        if not claims or not evidence:
            return np.zeros((len(claims), len(evidence)), dtype=np.float32)
        vectors = self._embed(claims + [e.text for e in evidence])
        cosine = np.clip(vectors[: len(claims)] @ vectors[len(claims):].T, 0.0, 1.0)
        claim_words = [content_words(c) for c in claims]
        evidence_words = [content_words(e.text) for e in evidence]
        overlap = np.array([[self._weighted_recall(cw, ew) for ew in evidence_words]
                            for cw in claim_words], dtype=np.float32)
        return 0.5 * cosine + 0.5 * overlap

    def _weighted_recall(self, claim: set[str], evidence: set[str]) -> float:
        total = sum(self.weights(w) for w in claim)
        return sum(self.weights(w) for w in claim & evidence) / total if total else 0.0


def passage_scores(question: str, hits: list[Hit], scorer: SupportScorer) -> list[float]:
    """Each passage's best sentence score against the question: a reranker that rewards the
    one sentence that answers over a paragraph that is merely on topic."""
    best = [0.0] * len(hits)
    evidence = evidence_sentences(hits, shared_once=False)
    for e, score in zip(evidence, scorer.scores([question], evidence)[0], strict=True):
        best[e.n - 1] = max(best[e.n - 1], float(score))
    return best


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
