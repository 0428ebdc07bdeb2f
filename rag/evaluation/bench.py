"""`make bench`: speed and memory, each figure beside a baseline measured in the same run.

These machines are noisy, so every timing is a median over repeats and is also given as a
ratio to its baseline (ratios survive noise better than seconds do). Baselines:

- ingest: plain ``SentenceTransformer.encode`` (float32, batch 32) on the very chunks
  our ingest embeds, so the ratio is what the pipeline adds or saves around the model;
- retrieval: numpy brute-force inner product over the same vectors;
- generation: the raw generator on a one-line prompt (what our passages prompt costs);
- summarize: the earlier summary prompt on the whole article, with a 320-token cap;
- memory: the ``rag serve`` process before its first question.
"""

from __future__ import annotations

import json
import tempfile
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

from rag.core.settings import Settings
from rag.evaluation.bench_answers import (
    QUESTIONS,
    bench_across_articles,
    bench_claims,
    bench_follow_ups,
    bench_generation,
    bench_summarize,
    bench_verdicts,
    bench_verifier,
    ids_by_length,
    median_to_longest,
)
from rag.evaluation.bench_processes import (
    bench_cli_first_token,
    bench_cli_whole_command,
    bench_llama_builds,
    bench_serve_memory,
)
from rag.evaluation.bench_store import (
    bench_ingest,
    bench_near_duplicates,
    bench_ray_ingest,
    bench_retrieval,
    bench_search,
    bench_vector_stores,
)
from rag.evaluation.measure import machine
from rag.generation.generate import cpu_backend
from rag.index.vectorstores import VectorBackend
from rag.library import Library

CLAIMS = Path(__file__).resolve().parents[2] / "eval" / "claims-dev.jsonl"
"""The labelled claims (each with its source sentence) the claim check is timed on."""




def run(corpus: Path, eval_corpus: Path | None, questions: Path | None, repeats: int,
        settings: Settings, log: Callable[[str], None],
        save: Callable[[dict[str, Any]], None] = lambda report: None) -> dict[str, Any]:
    """Every benchmark, in an order where later steps reuse what earlier ones built. The
    report so far is handed to ``save`` after each step (``finished`` false until the last),
    so a step that fails late loses only its own figures."""
    report: dict[str, Any] = {"machine": machine(), "repeats": repeats, "finished": False}

    def record(key: str, figures: Any) -> None:
        report[key] = figures
        save(report)

    with tempfile.TemporaryDirectory(prefix="rag-bench-") as scratch:
        log("ingest throughput")
        source = eval_corpus if eval_corpus and eval_corpus.exists() else None
        if source is not None:
            record("ingest", bench_ingest(source, 300, repeats, settings))
        log("near-duplicate lookup at 10k / 100k articles")
        record("near_duplicates", bench_near_duplicates([10_000, 100_000],
                                                        Path(scratch) / "duplicates"))
        log("vector search at 1k / 10k / 100k vectors")
        record("retrieval", bench_retrieval([1_000, 10_000, 100_000], 200, 384,
                                            VectorBackend.from_settings(settings),
                                            Path(scratch) / "retrieval"))
        if source is not None:
            # Ray first: Ray's raylet did not start within its 30 s while Milvus Lite's
            # threads still indexed 100k vectors (2026-12-01, twice on 2 cores)
            log("ingest with embedding on Ray (local) beside in-process")
            record("ray_ingest", bench_ray_ingest(source, 300, settings,
                                                  Path(scratch) / "ray", repeats))
            log("Milvus Lite beside FAISS")
            record("vector_stores", bench_vector_stores(
                source, 300, settings, Path(scratch) / "stores", [10_000, 100_000], log))
        sample = Library.open(replace(settings, index=Path(scratch) / "sample"))
        sample.ingest([corpus])
        if source is not None and questions is not None and questions.exists():
            log("hybrid search over the evaluation corpus")
            big = Library.open(replace(settings, index=Path(scratch) / "eval"))
            big.ingest([source])
            asked = [json.loads(line)["question"] for line in
                     questions.read_text().split("\n") if line.strip()][:100]
            record("search", bench_search(big, asked))
        if cpu_backend() is not None:
            log("llama.cpp built for this CPU beside the portable AVX2 build")
            record("llama_build", bench_llama_builds(
                settings, Path(scratch), Path("~/.cache/rag/wheels").expanduser()))
        log("time to first token and tokens/s")
        record("generation", bench_generation(sample, repeats))
        log("follow-ups that resume from the last answer's evidence")
        record("follow_ups", bench_follow_ups(sample))
        log("rag ask from a fresh process, with and without the saved system prompt")
        record("cli_first_token", bench_cli_first_token(Path(scratch) / "sample", settings))
        log("the whole rag ask: in its own process, and through a running rag serve")
        record("cli_whole_command", bench_cli_whole_command(Path(scratch) / "sample"))
        log("yes/no answers read from the evidence")
        record("verdicts", bench_verdicts(sample, repeats))
        if CLAIMS.exists():
            log("the claim check per claim-sentence pair")
            claims = [json.loads(line) for line in CLAIMS.read_text().split("\n")
                      if line.strip()]
            record("claim_check", bench_claims(sample, claims))
            log("the statement reader (the model as a judge) per pair, and a warm check")
            record("statement_reader", bench_verifier(sample, claims))
        log("compare and the disagreement check beside a plain answer")
        record("across_articles", bench_across_articles(sample, repeats))
        log("summaries per minute")
        ranked = ids_by_length(sample)
        record("summarize", {  # the two shortest were the sample of the earlier figures
            "shortest_2": bench_summarize(sample, ranked[:2]),
            "median_to_longest_3": bench_summarize(sample, median_to_longest(ranked, 3))})
        log("peak memory of rag serve")
        record("serve_memory", bench_serve_memory(Path(scratch) / "sample", QUESTIONS[0]))
    record("finished", True)
    return report
