"""The support scorer shared by the app's chat threads."""

from __future__ import annotations

import sys
from concurrent.futures import ThreadPoolExecutor

import numpy as np

from rag.reading.support import SupportScorer
from tests.fakes import HashingEmbedder


def test_concurrent_scorers_sharing_a_small_cache_give_each_caller_its_own_vectors():
    previous = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)  # threads take turns between any two lines
    scorer = SupportScorer(HashingEmbedder(), cache_size=8)  # evicts all the time
    texts = [[f"sentence {n} about topic {k}" for n in range(6)] for k in range(16)]
    expected = [HashingEmbedder().embed(group) for group in texts]

    def work(k: int) -> bool:
        return all(np.allclose(scorer.embed(texts[k]), expected[k]) for _ in range(200))

    try:
        with ThreadPoolExecutor(8) as pool:
            assert all(pool.map(work, range(16)))
    finally:
        sys.setswitchinterval(previous)
