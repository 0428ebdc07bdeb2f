"""The bench's own measurements: sizes, index kinds and baselines are what the report says."""

from __future__ import annotations

import itertools
import json

import pytest

from rag.evaluation.bench_answers import (
    EARLIER_SUMMARY_PROMPT,
    bench_across_articles,
    bench_claims,
    bench_summarize,
    bench_verdicts,
)
from rag.evaluation.bench_processes import _median_rate
from rag.evaluation.bench_store import bench_near_duplicates, bench_retrieval
from rag.evaluation.measure import median_seconds, ratio
from rag.index.vectorstores import VectorBackend
from tests.fakes import CachingGenerator, ScriptedGenerator, ScriptedVerifier


class Clock:
    """A stand-in for the bench's clock: each call to perf_counter advances it by the next
    step, so what the bench measures is known exactly."""

    def __init__(self, steps) -> None:
        self.now = 0.0
        self.steps = iter(steps)

    def perf_counter(self) -> float:
        self.now += next(self.steps)
        return self.now


@pytest.mark.parametrize(("kind", "indexes"), [("faiss", ("flat", "ivf")),
                                               ("milvus", ("milvus", "milvus"))])
def test_retrieval_bench_reports_each_store_beside_a_numpy_baseline(
        tmp_path, monkeypatch, kind, indexes):
    import rag.evaluation.bench_store as bench

    # each query: the store's search takes 2 ms, the numpy baseline 1 ms
    monkeypatch.setattr(bench, "time", Clock(itertools.cycle([0.0, 0.002, 0.0, 0.001])))
    backend = VectorBackend(kind, tmp_path, ann_threshold=1000)
    report = bench_retrieval([300, 3000], queries=20, dimension=16, backend=backend,
                             scratch=tmp_path)
    assert (report["300"]["index"], report["3000"]["index"]) == indexes
    for row in report.values():
        assert (row["p50_ms"], row["baseline_numpy_p50_ms"]) == (2.0, 1.0)
        assert row["ratio_p95_vs_baseline"] == 0.5  # baseline / ours: below 1 is slower
    assert report["300"]["recall@10_vs_exact"] == 1.0
    assert report["3000"]["recall@10_vs_exact"] >= 0.9


def test_median_runs_the_job_once_per_repeat_and_takes_the_middle_time(monkeypatch):
    import rag.evaluation.measure as bench

    monkeypatch.setattr(bench, "time", Clock([0, 1.0, 0, 3.0, 0, 2.0]))
    calls = []
    assert median_seconds(lambda: calls.append(1), 3) == 2.0 and len(calls) == 3


def test_a_ratio_far_below_one_keeps_its_digits():
    assert ratio(0.0042, 1.0) == 0.0042 and ratio(3.0, 0.0) is None


def test_summarize_bench_puts_key_sentence_drafts_beside_the_earlier_whole_article_ones(
        library, tmp_path, monkeypatch):
    sentences = [f"Finding number {n} concerns protein {n} in mice." for n in range(40)]
    (tmp_path / "long.txt").write_text(" ".join(sentences))
    library.ingest([tmp_path / "long.txt"])
    generator = ScriptedGenerator("FINDING: Finding number 3 concerns protein 3 in mice.")
    library.use_generator(generator)
    import rag.evaluation.bench_answers as bench

    monkeypatch.setattr(bench, "time", Clock([0, 4.0, 0, 1.0]))  # the baseline takes 4 s
    report = bench_summarize(library.configured(summary_input_tokens=60), ["long"])
    earlier, ours = generator.prompts  # the baseline runs first
    assert earlier[0]["content"] == EARLIER_SUMMARY_PROMPT != ours[0]["content"]
    assert all(s in earlier[1]["content"] for s in sentences)
    assert len(ours[1]["content"]) < len(earlier[1]["content"]) / 3
    baseline = report["baseline_earlier_prompt_whole_article"]
    assert report["articles"] == baseline["articles"] == 1
    assert report["summary_input_tokens"] == 60 and report["supported_share"] == 1.0
    assert (report["articles_per_min"], baseline["articles_per_min"]) == (60.0, 15.0)
    assert report["ratio_vs_baseline"] == 4.0  # ours per minute over the baseline's


def test_bench_saves_each_step_so_a_late_failure_keeps_the_earlier_figures(
        monkeypatch, tmp_path, library):
    import rag.evaluation.bench as bench

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


def test_the_claim_check_is_timed_per_pair_beside_the_support_score(library, tmp_path,
                                                                    monkeypatch):
    import rag.evaluation.bench_answers as bench

    (tmp_path / "a.txt").write_text("Survival was 35% after five years.")
    library.ingest([tmp_path / "a.txt"])
    claims = [{"claim": "Survival was 53% after five years.",
               "source": "Survival was 35% after five years."}] * 3
    # each pair: reading 1 ms, then the support score 4 ms
    monkeypatch.setattr(bench, "time", Clock(itertools.cycle([0.0, 0.001, 0.0, 0.004])))
    report = bench_claims(library, claims)
    assert (report["pairs"], report["ms_per_pair_p50"]) == (3, 1.0)
    assert report["baseline_support_score_ms_p50"] == 4.0
    assert report["ratio_p50_vs_support_score"] == 0.25


def test_the_statement_reader_is_timed_per_pair_and_a_check_beside_the_rules_alone(
        library, tmp_path, monkeypatch):
    import rag.evaluation.bench_answers as bench

    (tmp_path / "a.txt").write_text("Survival was 35% after five years.")
    library.ingest([tmp_path / "a.txt"])
    read_by: list[str] = []

    class Counting(ScriptedVerifier):
        def probabilities(self, pairs):
            read_by.extend(claim for _, claim in pairs)
            return super().probabilities(pairs)

    monkeypatch.setattr("rag.reading.judge.configured_verifier",
                        lambda name, threads: None if name == "off" else Counting({}))
    claims = [{"claim": "Survival was 35% after five years.",
               "source": "Survival was 35% after five years."}] * 3
    report = bench.bench_verifier(library.configured(statement_verifier="packaged"), claims)
    assert (report["pairs"], report["checks"]) == (3, 3)
    assert report["ms_per_pair_p50"] > 0 and report["baseline_rules_only_check_s_p50"] > 0
    assert report["ratio_p50_vs_rules_only"] > 0
    assert len(read_by) >= 3 + 1 + 3  # the pairs, then each check with the verifier
    assert report["statement_verifier"] == "Counting"
    assert bench.bench_verifier(library, claims) == {"statement_verifier": "off"}


def test_near_duplicate_lookup_is_timed_beside_the_scan_and_finds_the_same_pairs(tmp_path):
    report = bench_near_duplicates([500], tmp_path, queries=20)["500"]
    assert report["lookups"] == 20 and report["same_pairs_as_scan"] is True
    assert report["pairs_found"] >= 10  # the planted copies, at least
    assert report["ms_per_lookup"] > 0 and report["baseline_scan_ms_per_lookup"] > 0


def test_verdicts_bench_takes_first_words_from_verdicts_and_refusals_only_in_total():
    from types import SimpleNamespace

    times = iter([None, None, 0.5, None, None, None, None])
    totals = iter([0.1, 0.2, 0.9, 0.3, 0.4, 0.5, 0.6])

    class Library:
        def ask(self, question):
            return SimpleNamespace(timings={"first_token_s": next(times),
                                            "total_s": next(totals)})

    report = bench_verdicts(Library(), 3)  # one warm-up ask, then three timed
    assert report == {"answers": 3, "with_verdict": 1, "first_token_s": 0.5, "total_s": 0.3}


def test_compare_and_the_disagreement_check_are_timed_beside_a_plain_answer(library, tmp_path):
    for n in range(6):
        (tmp_path / f"a{n}.txt").write_text(
            f"We studied {20 + n} patients. Blood pressure fell by {n + 2} mmHg after walking.")
    library.ingest([tmp_path])
    report = bench_across_articles(library, repeats=1)
    assert report["compare_articles"] == 5
    assert report["compare_s"] > 0 and report["compare_with_question_s"] > 0
    assert report["check_share_of_plain_answer"] == pytest.approx(
        report["disagreement_check_s"] / report["plain_answer_no_generate_s"], rel=0.01)



def test_answers_bench_reports_the_prompt_tokens_each_question_evaluated():
    from types import SimpleNamespace

    from rag.evaluation.bench_answers import _answer_timings

    generator = CachingGenerator()  # the fake library adds each ask's tokens
    cost = iter([900, 120, 300, 180])  # the warm-up pays for the system prompt too

    class Library:
        def __init__(self):
            self.generator = generator

        def ask(self, question, history=None):
            generator.evaluated += next(cost)
            return SimpleNamespace(timings={"first_token_s": 1.0, "total_s": 2.0,
                                            "tokens_per_s": 20.0})

    report = _answer_timings(Library(), 3)
    assert report["uncached_prompt_tokens_p50"] == 180


def test_follow_ups_are_timed_beside_the_same_follow_ups_without_the_carried_evidence():
    from types import SimpleNamespace

    from rag.evaluation.bench_answers import FOLLOW_UPS, bench_follow_ups

    class Library:
        generator = CachingGenerator()  # the fake library adds each ask's tokens

        def ask(self, question, history=None):
            carried = bool(history and history[-1]["evidence"])
            self.generator.evaluated += 50 if carried else 200
            return SimpleNamespace(question=question, answer="A [1].", citations=[],
                                   evidence=[SimpleNamespace(chunk=SimpleNamespace(
                                       article_id="a", start=0, end=9))],
                                   timings={"first_token_s": 1.0 if carried else 2.0})

    report = bench_follow_ups(Library())
    assert report["conversations"] == len(FOLLOW_UPS)
    assert report["uncached_prompt_tokens_p50"] == 50
    assert report["baseline_without_carried_evidence"] == {
        "uncached_prompt_tokens_p50": 200, "first_token_s": 2.0}
    assert report["ratio_first_token_vs_baseline"] == 0.5  # ours / baseline


def test_a_build_is_reported_at_its_median_round_not_its_first_or_best():
    rounds = [{"prompt_tokens_per_s": 74.0, "cpu": "slow spell"},
              {"prompt_tokens_per_s": 103.0, "cpu": "quiet"},
              {"prompt_tokens_per_s": 99.0, "cpu": "typical"}]
    median = _median_rate(rounds)
    assert median["prompt_tokens_per_s"] == 99.0 and median["cpu"] == "typical"
    assert median["each_prompt_tokens_per_s"] == [74.0, 103.0, 99.0]


def test_first_token_of_a_fresh_rag_ask_is_also_counted_from_the_process_start(
        tmp_path, monkeypatch):
    from types import SimpleNamespace

    import rag.evaluation.bench_processes as bench

    # each question: first without the saved system prompt (slow), then with it
    runs = iter([(0.9, 3.0), (0.5, 1.0)] * 3)  # (startup_s, first_token_s)

    def run(command, **kwargs):
        startup, first = next(runs)
        timings = {"startup_s": startup, "first_token_s": first}
        return SimpleNamespace(stdout=json.dumps({"timings": timings}))

    monkeypatch.setattr(bench.subprocess, "run", run)
    monkeypatch.setattr(bench, "time", Clock(itertools.cycle([0.0, 4.0, 0.0, 2.0])))
    settings = SimpleNamespace(model_cache=tmp_path)
    report = bench.bench_cli_first_token(tmp_path / "index", settings)
    assert (report["first_token_s"], report["baseline_without_saved_state_s"]) == (1.0, 3.0)
    assert report["first_token_from_process_start_s"] == 1.5
    assert report["process_wall_s"] == 2.0 and report["ratio_vs_baseline"] == 0.333
