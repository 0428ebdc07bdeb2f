"""Near-duplicate articles (the same press release from two feeds): MinHash signatures of word
5-gram shingles, found through locality-sensitive hashing instead of a scan of every stored
article.

A signature is cut into ``BANDS`` bands of ``ROWS`` values — datasketch's ``MinHashLSH``
optimum for ``DESIGN_JACCARD``, weighted so that a pair at the threshold is missed less than
1 time in 100 (a missed duplicate costs more than an extra candidate, which is checked) —
and each band is stored as a key beside the article in the
index's own metadata (so it is written, committed and swept with the index generation, like
everything else of an article). Articles sharing any band key are the candidates; each is then
confirmed by its estimated Jaccard similarity. A lookup costs a few indexed queries however
large the library, where the scan read every signature. For a threshold below the design one
the bands would miss pairs, so the scan is used.
"""

from __future__ import annotations

from typing import Protocol

import numpy as np

from rag.core.text import words

PERMUTATIONS = 64
DESIGN_JACCARD = 0.8
BANDS, ROWS = 12, 5
"""What datasketch's ``MinHashLSH(threshold=DESIGN_JACCARD, num_perm=PERMUTATIONS,
weights=(0.01, 0.99))`` chooses (a test checks it), written out so that importing this module
does not import datasketch and scipy (0.4 s on every command). Changing them needs a schema
migration that recomputes the stored band keys (``rag.index.schema``)."""


class Signatures(Protocol):
    """What the lookup needs of a store."""

    def signature(self, article_id: str) -> np.ndarray | None: ...

    def sharing_a_band(self, keys: list[tuple[int, bytes]]) -> set[str]: ...

    def signatures(self) -> tuple[list[str], np.ndarray]: ...


def signature(text: str) -> np.ndarray:
    """MinHash of word 5-gram shingles: equal positions estimate Jaccard similarity."""
    said = words(text)
    shingles = {" ".join(said[i: i + 5]) for i in range(max(1, len(said) - 4))}
    from datasketch import MinHash

    minhash = MinHash(num_perm=PERMUTATIONS, seed=1)
    minhash.update_batch([s.encode() for s in shingles])
    return minhash.hashvalues.astype(np.uint64)


def band_keys(signature: np.ndarray) -> list[tuple[int, bytes]]:
    """(band, key) pairs of a signature, as the store keeps them."""
    values = np.asarray(signature, np.uint64)
    return [(band, values[band * ROWS:(band + 1) * ROWS].tobytes()) for band in range(BANDS)]


def near_duplicates(store: Signatures, article_ids: list[str],
                    threshold: float) -> list[tuple[str, str]]:
    """Pairs (sorted) of the given articles with any stored article whose signatures agree
    on at least ``threshold`` of their positions."""
    if threshold < DESIGN_JACCARD:
        return scan(store, article_ids, threshold)
    pairs = set()
    for article_id in article_ids:
        mine = store.signature(article_id)
        if mine is None:
            continue
        for other in store.sharing_a_band(band_keys(mine)) - {article_id}:
            theirs = store.signature(other)
            if theirs is not None and float((theirs == mine).mean()) >= threshold:
                pairs.add(tuple(sorted((article_id, other))))
    return sorted(pairs)


def scan(store: Signatures, article_ids: list[str], threshold: float) -> list[tuple[str, str]]:
    """The same pairs by comparing with every stored signature (the baseline ``make bench``
    times the bands against, and the way for thresholds below the design one)."""
    if not article_ids:
        return []
    ids, matrix = store.signatures()
    row_of = {article_id: row for row, article_id in enumerate(ids)}
    pairs = set()
    for article_id in article_ids:
        if article_id not in row_of:
            continue
        similarity = (matrix == matrix[row_of[article_id]]).mean(axis=1)
        for row in np.flatnonzero(similarity >= threshold):
            if ids[row] != article_id:
                pairs.add(tuple(sorted((article_id, ids[row]))))
    return sorted(pairs)
