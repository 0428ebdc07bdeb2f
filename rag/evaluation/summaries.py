"""`rag eval summarize`: ROUGE against reference summaries, support of summary sentences by
the source, length and throughput. Data: JSONL ``{"id", "text", "references": [...]}``.

ROUGE is computed on the summary's one-sentence TLDR and, separately, on its overview, each
against the best-matching reference for each metric, as SciTLDR reports it.
"""

from __future__ import annotations

import sys
import time
from typing import Any

import numpy as np
from tqdm import tqdm

from rag.core.errors import RagError
from rag.core.types import Article
from rag.digest.summarize import Summarizer
from rag.library import Library
from rag.reading.support import SupportScorer, WordWeights
from rag.sources.corpus import normalize

METRICS = ("rouge1", "rouge2", "rougeL")


def evaluate_summaries(library: Library, items: list[dict[str, Any]],
                       progress: bool) -> dict[str, Any]:
    texts = [normalize(str(item.get("text", ""))) for item in items]
    scorer = SupportScorer(library.embedder, WordWeights(texts))
    summarizer = Summarizer(lambda: library.generator, scorer, library.embedder,
                            library.settings, verifier=library.verifier)
    from rouge_score import rouge_scorer  # loads nltk (~1 s): only the summary eval needs it

    rouge = rouge_scorer.RougeScorer(list(METRICS), use_stemmer=True)
    scores: dict[str, list[float]] = {m: [] for m in METRICS}
    tldr_scores: dict[str, list[float]] = {m: [] for m in METRICS}
    tldr_words: list[int] = []
    supported, trimmed, sentences, words, failed = 0, 0, 0, [], []
    started = time.perf_counter()
    for item, text in tqdm(list(zip(items, texts, strict=True)), desc="summaries",
                           unit="article", disable=not progress, file=sys.stderr):
        try:
            summary = summarizer.summarize(Article(str(item.get("id", "")), text), "")
        except RagError as err:
            failed.append({"id": item.get("id"), "reason": str(err)})
            continue
        overview = " ".join(summary.of_role("overview")) or " ".join(
            s.text for s in summary.sentences)
        # the TLDR, where the model wrote none, counts as empty: it scores 0
        tldr = " ".join(summary.of_role("tldr"))
        for metric in METRICS:
            for bucket, text in ((scores, overview), (tldr_scores, tldr)):
                bucket[metric].append(max(rouge.score(str(ref), text)[metric].fmeasure
                                          for ref in item.get("references") or [""]))
        tldr_words.append(len(tldr.split()))
        supported += sum(s.supported for s in summary.sentences)
        trimmed += sum(bool(s.drafted) for s in summary.sentences)
        sentences += len(summary.sentences)
        words.append(len(overview.split()))
    minutes = (time.perf_counter() - started) / 60
    return {
        "n": len(words),
        "rouge": {m: round(100 * float(np.mean(v)), 2) if v else 0.0
                  for m, v in scores.items()},
        "tldr": {"rouge": {m: round(100 * float(np.mean(v)), 2) if v else 0.0
                           for m, v in tldr_scores.items()},
                 "written": sum(1 for w in tldr_words if w) / max(len(tldr_words), 1),
                 "mean_words": round(float(np.mean(tldr_words)), 1) if tldr_words else 0.0},
        "supported_share": round(supported / sentences, 4) if sentences else 0.0,
        # the same before trimming: sentences the article bears out as the model drafted them
        "supported_as_drafted": round((supported - trimmed) / sentences, 4) if sentences else 0.0,
        "trimmed": trimmed,
        "mean_words": round(float(np.mean(words)), 1) if words else 0.0,
        "articles_per_min": round(len(words) / minutes, 3) if minutes else 0.0,
        "failed": failed,
        "config": {"generator": library.settings.generator,
                   "llm_url": library.settings.llm_url or None,
                   "runtime": library.settings.runtime,
                   "support_threshold": library.settings.support_threshold,
                   "rouge_on": "overview; tldr separately", "date": time.strftime("%Y-%m-%d")},
    }
