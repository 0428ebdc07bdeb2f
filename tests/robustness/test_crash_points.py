"""kill -9 at many seeded random points of a real ingest and a real batch summary: the index
and the summary state stay consistent every time, and rerunning finishes the job."""

from __future__ import annotations

import json
import os
import random
import shutil
import signal
import subprocess
import time
from pathlib import Path

import pytest

from tests.conftest import CORPUS, EVAL_CORPUS, REPO, jsonl_lines
from tests.processes import RAG, rag_json
from tests.robustness.conftest import record

pytestmark = [pytest.mark.integration, pytest.mark.robustness]
INGEST_KILLS, SUMMARIZE_KILLS, SEED = 20, 6, 20261125
SUMMARIZED = 24


def killed_after(args: list[str], seconds: float, env: dict[str, str]) -> bool:
    """Run ``rag ARGS`` and SIGKILL it after ``seconds``; False if it finished first."""
    process = subprocess.Popen([*RAG, *args], cwd=REPO, env=env, stdout=subprocess.DEVNULL,
                               stderr=subprocess.DEVNULL)
    try:
        process.wait(timeout=seconds)
        return False
    except subprocess.TimeoutExpired:
        process.send_signal(signal.SIGKILL)
        process.wait()
        return True


def articles_folder(tmp_path: Path, count: int) -> Path:
    """The bundled corpus plus ``count`` evaluation articles as Markdown files."""
    folder = tmp_path / "articles"
    folder.mkdir()
    for path in CORPUS.glob("*"):
        if path.name != "README.md":
            (folder / path.name).write_bytes(path.read_bytes())
    rows = [json.loads(line) for line in jsonl_lines(EVAL_CORPUS)[:count]]
    # an evaluation article a bundled file already holds under its id (other text) would be
    # refused as a clash with that file: take the bundled one only
    rows = [row for row in rows if not (folder / f"{row['id']}.md").exists()]
    for row in rows:
        (folder / f"{row['id']}.md").write_text(f"---\ntitle: {json.dumps(row['title'])}\n"
                                                f"---\n{row['text']}\n")
    return folder


@pytest.mark.skipif(not EVAL_CORPUS.exists(), reason="needs ../shared/eval (the evaluation data)")
def test_ingest_survives_kill_9_at_20_random_points(tmp_path: Path):
    folder = articles_folder(tmp_path, 160)
    expected = len(list(folder.glob("*")))
    base = tmp_path / "base"  # what a user already had: the bundled articles
    rag_json("ingest", str(CORPUS), "--index", str(base), "--no-progress")
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "RAG_CHECKPOINT_ARTICLES": "16"}
    began = time.monotonic()
    rag_json("ingest", str(folder), "--index", str(tmp_path / "timing"), "--no-progress")
    full = time.monotonic() - began
    rng = random.Random(SEED)
    before = article_ids(base)
    landed, counts, inconsistencies, lost, reruns = 0, [], 0, 0, 0
    for point in range(INGEST_KILLS):
        index = tmp_path / f"index-{point}"
        shutil.copytree(base, index)
        # anywhere from process start-up to the last checkpoint of the whole job; a run that
        # finished first (the machine got faster than when it was timed) says how long the
        # job takes now, and the next kills are drawn within that
        began = time.monotonic()
        killed = killed_after(["ingest", str(folder), "--index", str(index), "--no-progress"],
                              rng.uniform(0.05, 0.95) * full, env)
        landed += killed
        if not killed:
            full = min(full, time.monotonic() - began)
        info = rag_json("info", "--index", str(index), "--check")
        inconsistencies += bool(info["problems"])
        lost += len(before - article_ids(index))  # what was there before is never lost
        counts.append(info["articles"])
        if point % 5 == 4:  # and rerunning the same command finishes the job
            report = rag_json("ingest", str(folder), "--index", str(index), "--no-progress")
            final = rag_json("info", "--index", str(index), "--check")
            reruns += (report["failed"], final["articles"], final["problems"]) == (
                [], expected, [])
        shutil.rmtree(index)
    record("ingest_kill_points", {"tried": INGEST_KILLS, "landed_mid_ingest": landed,
                                  "inconsistencies": inconsistencies, "lost_articles": lost,
                                  "reruns_completed": reruns,
                                  "articles_after_each_kill": counts})
    assert landed >= INGEST_KILLS - 2, "the kills should land inside the ingest"
    assert (inconsistencies, lost, reruns) == (0, 0, INGEST_KILLS // 5)


def test_summarize_new_survives_kill_9_at_random_points(tmp_path: Path):
    folder = tmp_path / "articles"
    folder.mkdir()
    # more articles than the killed runs can finish, so every kill lands inside a batch
    for path in sorted(CORPUS.glob("pubmed-*.md"))[:SUMMARIZED]:
        (folder / path.name).write_bytes(path.read_bytes())
    index = tmp_path / "index"
    rag_json("ingest", str(folder), "--index", str(index), "--no-progress")
    summaries = index / "summaries"
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "RAG_GENERATOR": "smollm2-135m"}
    rng = random.Random(SEED)
    done, claimed_missing, went_back, landed = 0, 0, 0, 0
    for _ in range(SUMMARIZE_KILLS):
        landed += killed_after(["summarize", "--new", "--index", str(index), "--no-progress"],
                               rng.uniform(4, 12), env)
        state = json.loads((summaries / "state.json").read_text()) \
            if (summaries / "state.json").exists() else {}
        claimed_missing += sum(not summary_on_disk(summaries, a) for a in state)
        went_back += len(state) < done
        done = len(state)
    result = rag_json("summarize", "--new", "--index", str(index), "--no-progress", env=env)
    assert result["failed"] == []
    again = rag_json("summarize", "--new", "--index", str(index), "--no-progress", env=env)
    assert again["summaries"] == [] and len(again["skipped"]) == SUMMARIZED
    record("summarize_kill_points", {"tried": SUMMARIZE_KILLS, "landed_mid_batch": landed,
                                     "state_claims_missing_summary": claimed_missing,
                                     "summaries_lost_between_kills": went_back})
    assert landed == SUMMARIZE_KILLS, "every kill should land inside the batch"
    assert (claimed_missing, went_back) == (0, 0)


def article_ids(index: Path) -> set[str]:
    return {a["id"] for a in rag_json("list", "--index", str(index))["articles"]}


def summary_on_disk(folder: Path, article_id: str) -> bool:
    """Both files of a summary exist and read as a whole summary: the JSON holds the drafted
    sentences (shown or left out: a small model's draft may be left out entirely, and the
    files then say so) and the Markdown runs from its title to its last line."""
    try:
        data = json.loads((folder / f"{article_id}.json").read_text())
        markdown = (folder / f"{article_id}.md").read_text()
    except (OSError, ValueError):
        return False
    drafted = data.get("sentences", []) + data.get("dropped", [])
    return bool(drafted) and markdown.startswith("# ") and markdown.endswith("\n")
