"""How well evidence sentences support a claim or a question: the one scoring used by
retrieval (reranking), the refusal gate, the evidence-first prompt and citation checking.

Support is a blend of meaning (embedding cosine) and wording (the share of the claim's content
words, stemmed and weighted by their rarity in the index, found in the evidence sentence).
Cosine alone rates any on-topic sentence as support; word overlap alone misses paraphrase;
rarity weighting keeps generic words ("study", "found") from vouching for a claim about
something the articles never mention.
"""

from __future__ import annotations

import math
import threading
from collections import Counter
from dataclasses import dataclass

import numpy as np
from cachetools import LRUCache

from rag.core.text import content_words, sentence_spans
from rag.core.types import Article, Citation, Hit
from rag.index.embedding import Embedder


@dataclass
class Evidence:
    """One sentence of a retrieved passage, located in its article."""

    n: int  # the passage number the model saw
    hit: Hit
    start: int
    end: int
    text: str

    def citation(self, support: float) -> Citation:
        return Citation(n=self.n, article_id=self.hit.chunk.article_id, title=self.hit.title,
                        start=self.start, end=self.end, text=self.text,
                        support=round(float(support), 4))


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


def article_sentences(article: Article, n: int = 1) -> list[Evidence]:
    """Every sentence of a whole article as evidence, shown to the reader as passage ``n``:
    what a summary is checked against, a verdict read from and a comparison filled from."""
    whole = Hit.whole(article.id, article.text, article.title)
    return [Evidence(n, whole, a, b, article.text[a:b]) for a, b in sentence_spans(article.text)]


def with_article(evidence: list[Evidence], article: Article) -> list[Evidence]:
    """``evidence``, then every other sentence of ``article`` (the one the best passage comes
    from), so what the claim check reads of the whole study (who it was on, whether its
    findings are in animals) reads all of it, not only the passages retrieved."""
    held = {(e.hit.chunk.article_id, e.start, e.end) for e in evidence}
    return evidence + [e for e in article_sentences(article)
                       if (article.id, e.start, e.end) not in held]


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

    def recall(self, claim: set[str], evidence: set[str]) -> float:
        """The rarity-weighted share of ``claim``'s content words found in ``evidence``."""
        total = sum(self(w) for w in claim)
        return sum(self(w) for w in claim & evidence) / total if total else 0.0


class SupportScorer:
    """Scores how well evidence sentences support claims (0..1). Shared by the app's chat
    threads: its sentence-vector cache is a bounded LRU behind a lock."""

    def __init__(self, embedder: Embedder, weights: WordWeights | None = None,
                 cache_size: int = 20_000) -> None:
        self.embedder = embedder
        self.weights = weights or WordWeights([])
        # rerank, gate and citations share sentences
        self._vectors: LRUCache[str, np.ndarray] = LRUCache(maxsize=cache_size)
        self._lock = threading.Lock()

    def embed(self, texts: list[str]) -> np.ndarray:
        """Unit vectors of ``texts``, cached: the sentences a summary's prompt is chosen from
        are the ones its claims are then checked against. Safe to call from several
        threads (each call keeps what it found, whatever another call evicts meanwhile)."""
        with self._lock:
            known = {t: self._vectors[t] for t in texts if t in self._vectors}
        missing = [t for t in dict.fromkeys(texts) if t not in known]
        if missing:
            fresh = dict(zip(missing, self.embedder.embed(missing), strict=True))
            known.update(fresh)
            with self._lock:
                self._vectors.update(fresh)
        return np.vstack([known[t] for t in texts])

    def scores(self, claims: list[str], evidence: list[Evidence]) -> np.ndarray:
        """Matrix [claims x evidence] of support scores."""
        if not claims or not evidence:
            return np.zeros((len(claims), len(evidence)), dtype=np.float32)
        vectors = self.embed(claims + [e.text for e in evidence])
        cosine = np.clip(vectors[: len(claims)] @ vectors[len(claims):].T, 0.0, 1.0)
        claim_words = [content_words(c) for c in claims]
        evidence_words = [content_words(e.text) for e in evidence]
        overlap = np.array([[self.weights.recall(cw, ew) for ew in evidence_words]
                            for cw in claim_words], dtype=np.float32)
        return 0.5 * cosine + 0.5 * overlap

    def coverage(self, question: str, hit: Hit) -> float:
        """How much of the question's wording (rare words weighing most) the passage holds:
        a passage about the same field but not the question's own subject covers little."""
        return self.weights.recall(content_words(question), content_words(hit.chunk.text))
