"""The bench's own measurements: sizes, index kinds and baselines are what the report says."""

from __future__ import annotations

import json

import pytest

from rag.bench import EARLIER_SUMMARY_PROMPT, bench_retrieval, bench_summarize, median_seconds
from rag.vectorstores import VectorBackend
from tests.fakes import ScriptedGenerator


@pytest.mark.parametrize(("kind", "indexes"), [("faiss", ("flat", "ivf")),
                                               ("milvus", ("milvus", "milvus"))])
def test_retrieval_bench_reports_each_store_beside_a_numpy_baseline(tmp_path, kind, indexes):
    backend = VectorBackend(kind, tmp_path, ann_threshold=1000)
    report = bench_retrieval([300, 3000], queries=20, dimension=16, backend=backend,
                             scratch=tmp_path)
    assert (report["300"]["index"], report["3000"]["index"]) == indexes
    for row in report.values():
        assert row["p95_ms"] >= row["p50_ms"] > 0
        assert row["baseline_numpy_p95_ms"] > 0 and row["ratio_p95_vs_baseline"] > 0
    assert report["300"]["recall@10_vs_exact"] == 1.0
    assert report["3000"]["recall@10_vs_exact"] >= 0.9


def test_median_runs_the_job_once_per_repeat():
    calls = []
    assert median_seconds(lambda: calls.append(1), 5) >= 0 and len(calls) == 5


def test_summarize_bench_puts_key_sentence_drafts_beside_the_earlier_whole_article_ones(
        library, tmp_path):
    sentences = [f"Finding number {n} concerns protein {n} in mice." for n in range(40)]
    (tmp_path / "long.txt").write_text(" ".join(sentences))
    library.ingest([tmp_path / "long.txt"])
    generator = ScriptedGenerator("FINDING: Finding number 3 concerns protein 3 in mice.")
    library.use_generator(generator)
    report = bench_summarize(library.configured(summary_input_tokens=60), ["long"])
    earlier, ours = generator.prompts  # the baseline runs first
    assert earlier[0]["content"] == EARLIER_SUMMARY_PROMPT != ours[0]["content"]
    assert all(s in earlier[1]["content"] for s in sentences)
    assert len(ours[1]["content"]) < len(earlier[1]["content"]) / 3
    baseline = report["baseline_earlier_prompt_whole_article"]
    assert report["articles"] == baseline["articles"] == 1
    assert report["summary_input_tokens"] == 60 and report["supported_share"] == 1.0
    assert report["ratio_vs_baseline"] == round(
        report["articles_per_min"] / baseline["articles_per_min"], 2)


def test_bench_saves_each_step_so_a_late_failure_keeps_the_earlier_figures(
        monkeypatch, tmp_path, library):
    import rag.bench as bench

    def crash(*args):
        raise RuntimeError("the model crashed")

    monkeypatch.setattr(bench, "bench_retrieval", lambda *args: {"1000": {"p50_ms": 0.1}})
    monkeypatch.setattr(bench.Library, "open", lambda *args: library)
    monkeypatch.setattr(bench, "bench_generation", crash)
    saved: list[dict] = []
    with pytest.raises(RuntimeError, match="crashed"):
        bench.run(tmp_path, None, None, 1, library.settings, lambda step: None,
                  lambda report: saved.append(json.loads(json.dumps(report))))
    assert saved[-1]["retrieval"] == {"1000": {"p50_ms": 0.1}}
    assert saved[-1]["finished"] is False and "generation" not in saved[-1]
