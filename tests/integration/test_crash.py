"""A kill -9 in the middle of a real ingest leaves the previous index usable and consistent,
and running the same command again finishes the job. Also: the whole evaluation corpus
ingests in one command."""

from __future__ import annotations

import json
import os
import signal
import subprocess
from pathlib import Path

import pytest

from rag import Library, Settings
from tests.conftest import EVAL_CORPUS, REPO, SAMPLE
from tests.processes import RAG, rag_json, wait_until

pytestmark = pytest.mark.integration


def current_generation(index: Path) -> str:
    try:
        return (index / "CURRENT").read_text().strip()
    except FileNotFoundError:
        return ""


def wait_for_generation(index: Path, known: set[str], process: subprocess.Popen,
                        live: bool = True) -> str:
    """The first generation not in ``known``: the live one (``live``), or any folder the
    running ingest has started writing. Fails if the ingest ends first."""
    def appeared() -> str:
        assert process.poll() is None, "ingest finished before it could be killed"
        names = {current_generation(index)} if live else {p.name for p in index.glob("gen-*")}
        return next(iter(names - known - {""}), "")

    wait_until(lambda: bool(appeared()), 300, "the ingest's next generation")
    return appeared()


@pytest.mark.skipif(not EVAL_CORPUS.exists(), reason="needs ../shared/eval (the evaluation data)")
@pytest.mark.parametrize("vector_store", ["faiss", "milvus"])
def test_kill_during_ingest_keeps_index_consistent_and_rerun_completes(tmp_path: Path,
                                                                      vector_store: str):
    index = tmp_path / "index"
    # the index remembers its store: later commands need no --vector-store
    rag_json("ingest", str(SAMPLE), "--index", str(index), "--no-progress",
             "--vector-store", vector_store)
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "RAG_CHECKPOINT_ARTICLES": "100"}
    before = current_generation(index)
    process = subprocess.Popen(
        [*RAG, "ingest", str(EVAL_CORPUS), "--index", str(index), "--no-progress"],
        cwd=REPO, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    first = wait_for_generation(index, {before}, process)  # some work is committed
    # kill as soon as the next checkpoint's folder appears: while it is written or just after
    wait_for_generation(index, {before, first}, process, live=False)
    process.send_signal(signal.SIGKILL)
    process.wait()

    info = rag_json("info", "--index", str(index), "--check")
    assert info["problems"] == []
    committed = info["articles"]
    assert 1 < committed < 895  # the first checkpoint landed, the whole job did not

    report = rag_json("ingest", str(EVAL_CORPUS), "--index", str(index), "--no-progress")
    assert report["unchanged"] == committed - 1 and report["added"] == 894 - (committed - 1)
    assert report["failed"] == []
    final = rag_json("info", "--index", str(index), "--check")
    assert (final["articles"], final["problems"], final["vector_store"]) == (895, [],
                                                                              vector_store)
    assert len(list(index.glob("gen-*"))) == 2  # half-written generations were swept

    hits = rag_json("search", "Are the long-term results of the transanal pull-through equal "
                    "to those of the transabdominal pull-through?", "--index", str(index))
    assert hits["hits"][0]["article_id"] == "pubmed-17208539"
    library = Library.open(Settings.load({"index": index}))  # last: Milvus Lite serves one process
    for chunk in library.store.chunks():
        assert library.article(chunk.article_id).text[chunk.start : chunk.end] == chunk.text
    assert json.loads((index / final["generation"] / "manifest.json").read_text())[
        "embedder"] == "all-MiniLM-L6-v2"
