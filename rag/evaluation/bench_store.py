"""`make bench`, the index side: ingest, vector search, near-duplicate lookup, hybrid search,
Milvus Lite and Ray beside the in-process defaults."""

from __future__ import annotations

import os
import shutil
import tempfile
import time
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np

from rag.core.settings import Settings
from rag.core.types import Article
from rag.evaluation.measure import median_seconds, ms, ratio
from rag.index.duplicates import PERMUTATIONS
from rag.index.embedding import precision_reason, resolve_model
from rag.index.store import Store
from rag.index.vectorstores import ChunkRow, VectorBackend
from rag.library import Library


def bench_ingest(corpus: Path, articles: int, repeats: int, settings: Settings) -> dict[str, Any]:
    """Chunks/s of a full ingest into a fresh index vs encoding the same chunks plainly."""
    from sentence_transformers import SentenceTransformer

    with tempfile.TemporaryDirectory(prefix="rag-bench-") as scratch:
        source, count = first_articles(corpus, articles, Path(scratch))
        first = Library.open(replace(settings, index=Path(scratch) / "i0"))
        first.ingest([source])
        texts = [chunk.text for chunk in first.store.chunks()]
        embedder = first.document_embedder

        def ingest_fresh() -> None:
            index = Path(scratch) / f"i{time.monotonic_ns()}"
            Library.open(replace(settings, index=index), embedder).ingest([source])
            shutil.rmtree(index)

        plain = SentenceTransformer(resolve_model(settings.embedder), device="cpu")
        baseline = median_seconds(lambda: plain.encode(texts, batch_size=32), repeats)
        ours = median_seconds(ingest_fresh, repeats)
    return {"articles": count, "chunks": len(texts), "repeats": repeats,
            "embed_precision": getattr(embedder, "precision", None),
            "embed_precision_why": precision_reason(settings.embed_precision),
            "chunks_per_s": round(len(texts) / ours, 1),
            "baseline_encode_chunks_per_s": round(len(texts) / baseline, 1),
            "ratio_vs_baseline": ratio(baseline, ours)}


def bench_retrieval(sizes: list[int], queries: int, dimension: int, backend: VectorBackend,
                    scratch: Path, seed: int = 0) -> dict[str, Any]:
    """Vector search latency at each size (clustered synthetic unit vectors, like real
    embeddings) in the backend's store, with recall@10 against exact search."""
    rng = np.random.default_rng(seed)
    out = {}
    for size in sizes:
        centres = rng.normal(size=(max(8, size // 200), dimension)).astype(np.float32)
        vectors = centres[rng.integers(0, len(centres), size)] + \
            0.5 * rng.normal(size=(size, dimension)).astype(np.float32)
        vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
        asked = vectors[rng.integers(0, size, queries)] + \
            0.1 * rng.normal(size=(queries, dimension)).astype(np.float32)
        asked /= np.linalg.norm(asked, axis=1, keepdims=True)
        folder = scratch / f"{backend.kind}-{size}"
        folder.mkdir(parents=True)
        index = backend.create(dimension)
        index.add([ChunkRow(i + 1, "a", "", "") for i in range(size)], vectors)
        manifest = {**index.commit(folder), "dimension": dimension}
        index = backend.load(folder, manifest, max_id=size)
        ours, exact, hits = [], [], 0
        for query in asked:
            began = time.perf_counter()
            found = [(i - 1, s) for i, s in index.search(query, 10, None)]
            ours.append(time.perf_counter() - began)
            began = time.perf_counter()
            scores = vectors @ query
            best = np.argpartition(-scores, 10)[:10]
            exact.append(time.perf_counter() - began)
            hits += len({i for i, _ in found} & set(best.tolist()))
        out[str(size)] = {
            "index": manifest["vector_index"],
            "p50_ms": ms(ours, 50), "p95_ms": ms(ours, 95),
            "baseline_numpy_p50_ms": ms(exact, 50), "baseline_numpy_p95_ms": ms(exact, 95),
            "ratio_p95_vs_baseline": ratio(ms(exact, 95), ms(ours, 95)),
            "recall@10_vs_exact": round(hits / (10 * queries), 4)}
    return out


def bench_vector_stores(corpus: Path, articles: int, settings: Settings, scratch: Path,
                        sizes: list[int], log: Callable[[str], None]) -> dict[str, Any]:
    """Milvus (Milvus Lite: a local file, one process) beside FAISS on the same machine: a whole
    ingest of the same articles into each (the embedder, loaded once, is shared; most of an
    ingest is embedding), then vector search latency at each size. Both ingests run before any
    search: building 100k vectors leaves background work (Milvus Lite's indexing, threads of
    this process) that slows whatever runs next on 2 cores, so its servers are stopped at
    the end."""
    source, count = first_articles(corpus, articles, scratch)
    out: dict[str, Any] = {"articles": count}
    embedder = None
    for kind in ("faiss", "milvus"):
        log(f"  {kind}: ingest")
        library = Library.open(replace(settings, index=scratch / f"ingest-{kind}",
                                       vector_store=kind, milvus_uri=""), embedder)
        embedder = library.document_embedder
        library.ingest([source])  # warm: loads the embedder, opens the store
        library.remove([a.id for a in library.articles()])
        began = time.perf_counter()
        report = library.ingest([source])
        seconds = time.perf_counter() - began
        out[kind] = {"ingest_chunks": report.chunks_embedded,
                     "ingest_chunks_per_s": round(report.chunks_embedded / seconds, 1)}
    for kind in ("faiss", "milvus"):
        log(f"  {kind}: search at {', '.join(map(str, sizes))} vectors")
        backend = replace(VectorBackend.from_settings(settings), kind=kind,
                          index=scratch / f"search-{kind}", milvus_uri="")
        out[kind]["search"] = bench_retrieval(sizes, 200, 384, backend,
                                              scratch / f"search-{kind}")
    from milvus_lite.server_manager import server_manager_instance

    server_manager_instance.release_all()
    out["ingest_ratio_milvus_vs_faiss"] = round(
        out["milvus"]["ingest_chunks_per_s"] / out["faiss"]["ingest_chunks_per_s"], 2)
    for size in map(str, sizes):
        out[f"search_p50_ratio_milvus_vs_faiss_{size}"] = round(
            out["milvus"]["search"][size]["p50_ms"] / out["faiss"]["search"][size]["p50_ms"], 1)
    return out


def bench_ray_ingest(corpus: Path, articles: int, settings: Settings, scratch: Path,
                     repeats: int) -> dict[str, Any]:
    """A whole ingest with embedding on Ray Data actors (Ray started inside this process, as
    many actors as cores) beside the same ingest embedding in this process. On one machine
    this is Ray's overhead; its gain needs more machines (docs/scaling.md)."""
    source, count = first_articles(corpus, articles, scratch)
    cores = os.cpu_count() or 1
    local = Library.open(replace(settings, index=scratch / "warm"))
    local.ingest([source])  # loads the embedder once for both
    chunks = local.info()["chunks"]

    def ingest_with(ray_address: str) -> None:
        index = scratch / f"i{time.monotonic_ns()}"
        Library.open(replace(settings, index=index, ray_address=ray_address,
                             ray_workers=cores), local.document_embedder).ingest([source])
        shutil.rmtree(index)

    here = median_seconds(lambda: ingest_with(""), repeats)  # before Ray's processes start
    ingest_with("local")  # warm: starts Ray, its workers import torch
    on_ray = median_seconds(lambda: ingest_with("local"), repeats)
    import ray

    ray.shutdown()
    return {"articles": count, "chunks": chunks, "ray_actors": cores, "repeats": repeats,
            "ray_chunks_per_s": round(chunks / on_ray, 1),
            "baseline_in_process_chunks_per_s": round(chunks / here, 1),
            "ratio_vs_baseline": ratio(here, on_ray)}


def first_articles(corpus: Path, articles: int, folder: Path) -> tuple[Path, int]:
    """The first ``articles`` rows of a JSONL corpus as ``folder/articles.jsonl`` (made if
    missing), and how many there were: the same sample for every ingest figure."""
    rows = [line for line in corpus.read_text().split("\n") if line.strip()][:articles]
    folder.mkdir(parents=True, exist_ok=True)
    source = folder / "articles.jsonl"
    source.write_text("\n".join(rows) + "\n")
    return source, len(rows)


def bench_search(library: Library, questions: list[str]) -> dict[str, Any]:
    """Whole hybrid search (embed query, FAISS, BM25, fusion, sentence rerank) on a real
    index, beside the same search without the rerank (what reranking costs)."""
    plain = library.configured(rerank_pool=0)

    def timed(lib: Library) -> list[float]:
        lib.search(questions[0])  # warm: models and BM25 load once per process
        times = []
        for question in questions:
            began = time.perf_counter()
            lib.search(question)
            times.append(time.perf_counter() - began)
        return times

    ours, baseline = timed(library), timed(plain)
    return {"queries": len(ours), "chunks": library.info()["chunks"],
            "p50_ms": ms(ours, 50), "p95_ms": ms(ours, 95),
            "baseline_no_rerank_p50_ms": ms(baseline, 50),
            "ratio_p50_vs_no_rerank": ratio(ms(ours, 50), ms(baseline, 50))}


def bench_near_duplicates(sizes: list[int], scratch: Path, queries: int = 100,
                          seed: int = 5) -> dict[str, Any]:
    """Near-duplicate lookup (LSH bands in the index metadata) beside the scan of every
    stored signature, per article looked up, in libraries of ``sizes`` articles with planted
    near-duplicates (both must find the same pairs)."""
    from rag.index.duplicates import near_duplicates, scan

    rng = np.random.default_rng(seed)
    out = {}
    for size in sizes:
        store = Store.open(scratch / f"duplicates-{size}", "bench", VectorBackend("faiss",
                                                                                  scratch))
        signatures = rng.integers(0, 2**63, size=(size, PERMUTATIONS), dtype=np.uint64)
        planted = rng.choice(size, queries // 2, replace=False)
        for row in planted:  # a syndicated copy: 90% of its positions the same
            copy = signatures[(row + 1) % size]
            signatures[row] = np.where(rng.random(PERMUTATIONS) < 0.9, copy, signatures[row])
        with store.transaction(1) as writer:
            for n, values in enumerate(signatures):
                writer.upsert(Article(f"a{n}", ""), "", values, [], np.zeros((0, 1)))
        others = rng.choice(size, queries - len(planted), replace=False)
        asked = [f"a{n}" for n in [*planted.tolist(), *others.tolist()]]
        began = time.perf_counter()
        ours = near_duplicates(store, asked, 0.8)
        banded = time.perf_counter() - began
        began = time.perf_counter()
        baseline = scan(store, asked, 0.8)
        scanned = time.perf_counter() - began
        out[str(size)] = {"lookups": len(asked), "pairs_found": len(ours),
                          "same_pairs_as_scan": ours == baseline,
                          "ms_per_lookup": round(1000 * banded / len(asked), 3),
                          "baseline_scan_ms_per_lookup": round(1000 * scanned / len(asked), 3),
                          "ratio_vs_scan": ratio(banded, scanned)}
    return out
