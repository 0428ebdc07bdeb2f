"""`make bench`, what only a whole process shows: `rag ask` from a fresh shell and through a
running app, the memory of `rag serve`, the llama.cpp build for this CPU beside the portable
one."""

from __future__ import annotations

import json
import os
import shutil
import statistics
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from rag.answers import serving
from rag.core.settings import Settings
from rag.evaluation.measure import ratio, status_kb
from rag.generation.models import resolve_generator_model

CLI_QUESTIONS = ["What did the researchers monitor for safety?",
                 "Which hormones recovered after treatment?",
                 "What do hUCMSCs secrete?"]


def bench_cli_first_token(index: Path, settings: Settings) -> dict[str, Any]:
    """Time to first token of ``rag ask`` from a fresh process (from the question's start, as
    the answer's timings say; from the process's start; and the whole process's wall time),
    each question once with the system prompt's evaluated state on disk and once without it
    (the same question, in turn), medians."""
    states = settings.model_cache.expanduser() / "states"
    command = [sys.executable, "-m", "rag.cli", "ask", "--json", "--index", str(index)]

    walls: list[float] = []
    from_start: list[float] = []

    def first_token(question: str) -> float:
        began = time.perf_counter()
        done = subprocess.run([*command, question], capture_output=True, text=True,
                              check=True, env={**os.environ, "HF_HUB_OFFLINE": "1"})
        walls.append(time.perf_counter() - began)
        timings = json.loads(done.stdout)["timings"]
        from_start.append(float(timings["startup_s"]) + float(timings["first_token_s"]))
        return float(timings["first_token_s"])

    ours, baseline = [], []
    for question in CLI_QUESTIONS:
        shutil.rmtree(states, ignore_errors=True)
        baseline.append(first_token(question))  # evaluates the system prompt, keeps it
        ours.append(first_token(question))
    return {"questions": len(ours), "first_token_s": round(statistics.median(ours), 2),
            # from the process's start: comparable across runs whatever moves between
            # start-up and the question's start (models loading before or after it)
            "first_token_from_process_start_s": round(statistics.median(from_start[1::2]), 2),
            # the whole command as a reader waits for it: start-up, models, answer, exit
            "process_wall_s": round(statistics.median(walls[1::2]), 2),
            "baseline_without_saved_state_s": round(statistics.median(baseline), 2),
            "ratio_vs_baseline": ratio(statistics.median(ours), statistics.median(baseline))}


def bench_cli_whole_command(index: Path) -> dict[str, Any]:
    """The whole ``rag ask`` as a reader waits for it, each time a fresh process: answering in
    its own process (``--no-server``: imports, models, answer, exit) and through a running
    ``rag serve`` on the index, beside the answer's own time inside the app (the model's
    speed, which no start-up saving removes), medians over the same questions."""
    command = [sys.executable, "-m", "rag.cli", "ask", "--json", "--index", str(index)]

    def asked(question: str, *flags: str) -> dict[str, float]:
        began = time.perf_counter()
        done = subprocess.run([*command, question, *flags], capture_output=True, text=True,
                              check=True, env={**os.environ, "HF_HUB_OFFLINE": "1"})
        return {**json.loads(done.stdout)["timings"], "wall_s": time.perf_counter() - began}

    alone = [asked(q, "--no-server") for q in CLI_QUESTIONS]
    with _running_app(index):
        asked("What was studied?")  # the app's first question pays for its first evaluation
        through = [asked(q) for q in CLI_QUESTIONS]

    def median(runs: list[dict[str, float]], key: str) -> float:
        return round(statistics.median(r[key] for r in runs), 2)

    answer = median(through, "total_s")
    return {"questions": len(CLI_QUESTIONS),
            "alone_wall_s": median(alone, "wall_s"),
            "alone_startup_s": median(alone, "startup_s"),
            "alone_answer_s": median(alone, "total_s"),
            "through_app_wall_s": median(through, "wall_s"),
            "baseline_answer_in_app_s": answer,
            "ratio_alone_vs_answer": ratio(median(alone, "wall_s"), answer),
            "ratio_through_app_vs_answer": ratio(median(through, "wall_s"), answer)}


def bench_serve_memory(index: Path, question: str) -> dict[str, Any]:
    """Peak RSS of a real ``rag serve`` after one question through its API."""
    from gradio_client import Client

    with _running_app(index) as (url, process):
        started = status_kb(process.pid, "VmRSS")
        Client(url, verbose=False, download_files=False).predict(question, api_name="/ask")
        peak = status_kb(process.pid, "VmHWM")
    return {"peak_rss_mb": round(peak / 1024, 1),
            "baseline_rss_after_start_mb": round(started / 1024, 1),
            "ratio_vs_baseline": ratio(peak, started)}


@contextmanager
def _running_app(index: Path) -> Iterator[tuple[str, subprocess.Popen]]:
    """A real ``rag serve`` on ``index`` and a free local port, once its note is left (then
    ``rag ask`` on the index uses it); stopped afterwards."""
    import socket

    import httpx

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    process = subprocess.Popen(
        [sys.executable, "-m", "rag.cli", "serve", "--index", str(index), "--port", str(port)],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}/"
    try:
        deadline = time.monotonic() + 300
        while serving.find(index) is None:
            try:
                httpx.get(url, timeout=2)
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline or process.poll() is not None:
                raise RuntimeError("rag serve did not start")
            time.sleep(0.2)
        yield url, process
    finally:
        process.terminate()
        process.wait(timeout=60)


_PROMPT_EVAL = """
import json, statistics, sys, time
from llama_cpp import Llama, llama_print_system_info
llama = Llama(model_path=sys.argv[1], n_ctx=2048, n_threads=int(sys.argv[2]),
              n_threads_batch=int(sys.argv[2]), verbose=False)
tokens = llama.tokenize(("The study followed patients for five years. " * 60).encode())[:300]
rates = []
for _ in range(3):
    llama.reset()
    began = time.perf_counter()
    llama.eval(tokens)
    rates.append(len(tokens) / (time.perf_counter() - began))
print(json.dumps({"prompt_tokens_per_s": round(statistics.median(rates), 1),
                  "cpu": llama_print_system_info().decode()}))
"""


def bench_llama_builds(settings: Settings, scratch: Path, wheels: Path) -> dict[str, Any]:
    """Prompt evaluation tokens/s (300 tokens, median of 3 in a process, median over
    ``BUILD_ROUNDS`` processes) of the llama.cpp build installed for this CPU beside the
    portable AVX2 build of the same version, the two in turn; the AVX2 wheel is built into the
    wheel cache if it is not there. Where both report the same kernels (``same_build``: on a
    CPU without AVX-512 the installed build is that very wheel) their ratio shows only the
    machine's noise."""
    from importlib.metadata import version

    from rag.generation.llama_build import PORTABLE

    model = resolve_generator_model(settings.generator, settings.model_cache.expanduser())
    portable = wheels / "llama-avx2"
    llama_version = version("llama_cpp_python")
    if not list(portable.glob(f"llama_cpp_python-{llama_version}-*.whl")):
        subprocess.run([sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps",
                        "--no-cache-dir", "-w", str(portable),
                        f"llama-cpp-python=={llama_version}"],
                       env={**os.environ, "CMAKE_ARGS": PORTABLE}, check=True)
    target = scratch / "avx2"
    wheel = next(portable.glob(f"llama_cpp_python-{llama_version}-*.whl"))
    subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", "--target",
                    str(target), str(wheel)], check=True)

    def measure(path: str | None) -> dict[str, Any]:
        env = {**os.environ, **({"PYTHONPATH": path} if path else {})}
        done = subprocess.run([sys.executable, "-c", _PROMPT_EVAL, str(model),
                               str(settings.threads)], env=env, capture_output=True, text=True,
                              check=True)
        return json.loads(done.stdout.strip().splitlines()[-1])

    rounds: list[tuple[dict[str, Any], dict[str, Any]]] = []
    for _ in range(BUILD_ROUNDS):  # in turn, so a slow spell of the machine hits both builds
        rounds.append((measure(None), measure(str(target))))
    ours, baseline = (_median_rate([r[i] for r in rounds]) for i in (0, 1))
    return {"installed": ours, "same_build": ours["cpu"] == baseline["cpu"],
            "baseline_portable_avx2": baseline, "rounds": len(rounds),
            "ratio_vs_portable": ratio(ours["prompt_tokens_per_s"],
                                       baseline["prompt_tokens_per_s"])}


BUILD_ROUNDS = 3
"""Processes per build in ``bench_llama_builds``, alternating: this machine's speed swings by
a third between minutes (74 and 103 prompt tokens/s for one build, a few minutes apart)."""


def _median_rate(measured: list[dict[str, Any]]) -> dict[str, Any]:
    """The measurement of median prompt speed (its CPU line with it)."""
    ranked = sorted(measured, key=lambda m: m["prompt_tokens_per_s"])
    return {**ranked[len(ranked) // 2],
            "each_prompt_tokens_per_s": [m["prompt_tokens_per_s"] for m in measured]}
