"""The words BM25 counts: bm25s's English tokenizer (stop words out, Snowball stems), shared by
the local BM25 index and by Milvus's built-in BM25, so both backends match the same words.
(Milvus Lite ignores its analyzers' stemmer filters: measured, "fertilizer" did not find
"fertilizers"; so Milvus is given these terms, not the raw text.)"""

from __future__ import annotations

import bm25s
import Stemmer

_STEMMER = Stemmer.Stemmer("english")


def keyword_terms(texts: list[str]) -> list[list[str]]:
    return bm25s.tokenize(texts, stopwords="en", stemmer=_STEMMER, return_ids=False,
                          show_progress=False)
