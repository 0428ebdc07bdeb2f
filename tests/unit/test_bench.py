"""The bench's own measurements: sizes, index kinds and baselines are what the report says."""

from __future__ import annotations

from rag.bench import bench_retrieval, median_seconds


def test_retrieval_bench_reports_exact_and_ann_beside_a_numpy_baseline():
    report = bench_retrieval([300, 3000], queries=20, dimension=16, ann_threshold=1000)
    assert report["300"]["index"] == "exact" and report["3000"]["index"] == "ivf"
    for row in report.values():
        assert row["p95_ms"] >= row["p50_ms"] > 0
        assert row["baseline_numpy_p95_ms"] > 0 and row["ratio_p95_vs_baseline"] > 0
    assert report["300"]["recall@10_vs_exact"] == 1.0
    assert report["3000"]["recall@10_vs_exact"] >= 0.9


def test_median_runs_the_job_once_per_repeat():
    calls = []
    assert median_seconds(lambda: calls.append(1), 5) >= 0 and len(calls) == 5
