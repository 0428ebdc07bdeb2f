"""Hybrid retrieval: dense FAISS search and BM25, fused by reciprocal rank, diversified.

Reciprocal rank fusion needs no score calibration between the two retrievers, and on the
sample questions it beat either alone (see ../shared/MODELS.md). It rewards agreement, so a
passage only one retriever finds (a short meta question such as "which journal published
it?" is lexical, not semantic) can sink below passages both find at middling ranks; the
sentence reranker then reorders the fused pool by how well each passage's best sentence
answers the query. A per-article cap keeps one long article from filling every slot.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable

import bm25s
import numpy as np

from rag.core.errors import RagError
from rag.core.text import content_words, keyword_terms
from rag.core.types import Filters, Hit
from rag.index.catalog import unit_rows
from rag.index.store import Store
from rag.index.vectorstores import Where
from rag.reading.support import WordWeights, evidence_sentences

Reranker = Callable[[str, list[Hit]], list[float]]


class SentenceReranker:
    """Scores each passage by its best sentence's share of the query's words (rare words
    weighing most), blended with the passage's dense cosine: rewards the one sentence that
    answers over a paragraph that is merely on topic. Embedding-free, so a search costs one
    query embedding (the earlier version embedded ~100 sentences a search: 160-330 ms)."""

    def __init__(self, weights: Callable[[], WordWeights]) -> None:
        self.weights = weights  # the current index's word rarity

    def __call__(self, query: str, hits: list[Hit]) -> list[float]:
        weights, asked = self.weights(), content_words(query)
        best = [0.0] * len(hits)
        for e in evidence_sentences(hits, shared_once=False):
            best[e.n - 1] = max(best[e.n - 1], weights.recall(asked, content_words(e.text)))
        return [0.5 * b + 0.5 * float(h.dense_score or 0.0) for b, h in zip(best, hits,
                                                                            strict=True)]


class SparseIndex:
    """BM25 over every chunk of one store generation, built on first use."""

    def __init__(self, store: Store) -> None:
        chunks = store.chunks()
        self.generation = store.generation
        self.chunk_ids = np.array([c.id for c in chunks], dtype=np.int64)
        self._bm25 = bm25s.BM25()
        if chunks:
            self._bm25.index(keyword_terms([c.text for c in chunks]), show_progress=False)

    def search(self, query: str, k: int, allowed: np.ndarray | None) -> list[tuple[int, float]]:
        tokens = keyword_terms([query])
        if not len(self.chunk_ids) or not tokens[0]:
            return []
        mask = None
        if allowed is not None:
            mask = np.isin(self.chunk_ids, allowed).astype(np.float32)
        positions, scores = self._bm25.retrieve(
            tokens, k=min(k, len(self.chunk_ids)), weight_mask=mask, show_progress=False
        )
        return [
            (int(self.chunk_ids[p]), float(s))
            for p, s in zip(positions[0], scores[0], strict=True)
            if s > 0
        ]


class Retriever:
    def __init__(
        self,
        store: Store,
        embed_query: Callable[[str], np.ndarray],
        candidates: int,
        per_article_cap: int,
        rrf_k: int,
        reranker: Reranker | None = None,
        rerank_pool: int = 0,
        fusion_weight: float = 0.0,
    ) -> None:
        self.store = store
        self.embed_query = embed_query
        self.candidates = candidates
        self.per_article_cap = per_article_cap
        self.rrf_k = rrf_k
        self.reranker = reranker
        self.rerank_pool = rerank_pool
        self.fusion_weight = fusion_weight  # how much fused-rank agreement counts in reranking
        self._sparse: SparseIndex | None = None

    def search(self, query: str, k: int, filters: Filters | None = None) -> list[Hit]:
        """The ``k`` best chunks for ``query``, at most ``per_article_cap`` per article."""
        query = query.strip()
        if not query:
            raise RagError("the query is empty; type a question or some keywords")
        if self.store.vectors is None or len(self.store.vectors) == 0:
            return []
        where = self.store.where(filters.article_ids, filters.date_from, filters.date_to) \
            if filters and filters.active else None
        query_vector = unit_rows(self.embed_query(query))
        dense = self.store.vectors.search(query_vector, self.candidates, where)
        sparse = self._keyword_search(query, where)
        fused = self._fuse([dense, sparse])
        chunks = {c.id: c for c in self.store.chunks(list(fused))}
        fused = {i: s for i, s in fused.items() if i in chunks}  # a row just deleted
        dense_scores = dict(dense)
        missing = [i for i in fused if i not in dense_scores]
        if missing:
            dense_scores.update(zip(missing, self.store.vectors.vectors(missing) @ query_vector,
                                    strict=True))
        sparse_scores = dict(sparse)
        titles = self.store.titles({c.article_id for c in chunks.values()})
        ranked = [
            Hit(
                chunk=chunks[chunk_id],
                title=titles.get(chunks[chunk_id].article_id, chunks[chunk_id].article_id),
                score=score,
                dense_score=float(dense_scores[chunk_id]),
                sparse_score=sparse_scores.get(chunk_id),
            )
            for chunk_id, score in sorted(fused.items(), key=lambda item: -item[1])
        ]
        if self.reranker is not None and self.rerank_pool > 0 and ranked:
            pool, top = ranked[: self.rerank_pool], ranked[0].score
            for hit, score in zip(pool, self.reranker(query, pool), strict=True):
                hit.score = score + self.fusion_weight * hit.score / top
            ranked = sorted(pool, key=lambda h: -h.score) + ranked[self.rerank_pool :]
        return self._diversify(ranked, k)

    def _diversify(self, ranked: list[Hit], k: int) -> list[Hit]:
        picked, per_article = [], Counter[str]()
        for hit in ranked:
            if per_article[hit.chunk.article_id] < self.per_article_cap:
                per_article[hit.chunk.article_id] += 1
                picked.append(hit)
                if len(picked) == k:
                    break
        return picked

    def _keyword_search(self, query: str, where: Where | None) -> list[tuple[int, float]]:
        """BM25: the vector store's own where it has one (Milvus), else a local index."""
        assert self.store.vectors is not None
        found = self.store.vectors.keyword_search(query, self.candidates, where)
        if found is not None:
            return found
        allowed = where.allowed_ids() if where is not None else None
        return self._sparse_index().search(query, self.candidates, allowed)

    def _sparse_index(self) -> SparseIndex:
        if self._sparse is None or self._sparse.generation != self.store.generation:
            self._sparse = SparseIndex(self.store)
        return self._sparse

    def _fuse(self, rankings: list[list[tuple[int, float]]]) -> dict[int, float]:
        fused: dict[int, float] = {}
        for ranking in rankings:
            for rank, (chunk_id, _) in enumerate(ranking):
                fused[chunk_id] = fused.get(chunk_id, 0.0) + 1.0 / (self.rrf_k + rank + 1)
        return fused
