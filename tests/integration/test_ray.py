"""Batch work on a real local Ray cluster (started here on 127.0.0.1 with 2 CPUs, stopped
afterwards): the same index and the same summaries as without Ray."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from rag import Library, Settings
from tests.conftest import CORPUS, SAMPLE
from tests.processes import free_port, rag_json

pytestmark = pytest.mark.integration
RAY = str(Path(sys.executable).with_name("ray"))


@pytest.fixture(scope="module")
def ray_cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A one-node Ray cluster of 2 CPUs on 127.0.0.1; its address. Token authentication is
    off for it and its clients (the rag commands inherit the variable): whether Ray turns it
    on otherwise depends on a token file an earlier 'ray.init()' may have left in ~/.ray."""
    port = free_port()
    temp = tmp_path_factory.mktemp("ray")
    with pytest.MonkeyPatch.context() as env:
        env.setenv("RAY_AUTH_MODE", "disabled")
        subprocess.run([RAY, "start", "--head", "--node-ip-address", "127.0.0.1", "--port",
                        str(port), "--num-cpus", "2", "--include-dashboard", "false",
                        "--temp-dir", str(temp), "--disable-usage-stats"],
                       check=True, capture_output=True, timeout=300)
        try:
            yield f"127.0.0.1:{port}"
        finally:
            subprocess.run([RAY, "stop", "--force"], capture_output=True, timeout=300)


@pytest.fixture(scope="module")
def articles(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Six bundled articles, the sample among them."""
    folder = tmp_path_factory.mktemp("articles")
    for path in [SAMPLE, *sorted(CORPUS.glob("*.md"))[:5]]:
        shutil.copy(path, folder / path.name)
    return folder


def vectors_by_chunk(index: Path) -> tuple[list[tuple[int, str, int, int]], np.ndarray]:
    library = Library.open(Settings.load({"index": index}, env={}))
    chunks = library.store.chunks()
    keys = [(c.id, c.article_id, c.start, c.end) for c in chunks]
    return keys, library.store.vectors.vectors([c.id for c in chunks])


def test_ingest_on_ray_gives_the_same_chunks_and_vectors(ray_cluster: str, articles: Path,
                                                         tmp_path: Path):
    local = rag_json("ingest", str(articles), "--index", str(tmp_path / "local"),
                     "--no-progress")
    on_ray = rag_json("ingest", str(articles), "--index", str(tmp_path / "ray"),
                      "--no-progress", "--ray", ray_cluster,
                      env={"RAG_CHECKPOINT_ARTICLES": "2"})
    assert on_ray["failed"] == [] and on_ray["chunks_embedded"] == local["chunks_embedded"]
    keys, vectors = vectors_by_chunk(tmp_path / "local")
    ray_keys, ray_vectors = vectors_by_chunk(tmp_path / "ray")
    assert ray_keys == keys  # same chunk ids, articles and spans
    assert np.allclose(ray_vectors, vectors, atol=0.02)
    assert float(np.min(np.sum(ray_vectors * vectors, axis=1))) > 0.999
    generation = int((tmp_path / "ray" / "CURRENT").read_text().split("-")[1])
    assert generation == 3  # committed in checkpoints of 2 articles


def test_summaries_drafted_on_ray_are_the_ones_drafted_here(ray_cluster: str, articles: Path,
                                                            tmp_path: Path):
    index = tmp_path / "index"
    three = tmp_path / "three"
    three.mkdir()
    for path in sorted(articles.iterdir())[:3]:
        shutil.copy(path, three / path.name)
    rag_json("ingest", str(three), "--index", str(index), "--no-progress")
    shutil.copytree(index, tmp_path / "ray-index")
    # float32: bfloat16 sentence vectors move ~0.001 with how sentences are batched, which
    # could tip a support score across its threshold on one side only
    model = {"RAG_GENERATOR": "smollm2-135m", "RAG_EMBED_PRECISION": "float32"}
    local = rag_json("summarize", "--new", "--index", str(index), "--no-progress", env=model)
    on_ray = rag_json("summarize", "--new", "--index", str(tmp_path / "ray-index"),
                      "--no-progress", "--ray", ray_cluster, env=model)
    # Ray hands drafts back as they finish, in any order
    assert sorted(s["article_id"] for s in on_ray["summaries"]) == \
        sorted(s["article_id"] for s in local["summaries"])
    assert on_ray["failed"] == local["failed"] and len(local["summaries"]) >= 2

    def files(folder: Path) -> dict[str, dict]:
        out = {}
        for path in sorted(folder.glob("*.json")):
            data = json.loads(path.read_text())
            if isinstance(data, dict) and "sentences" in data:
                data.pop("seconds", None)
                out[path.name] = data
        return out

    here, there = files(index / "summaries"), files(tmp_path / "ray-index" / "summaries")
    assert len(here) == len(local["summaries"]) and there == here
    assert {p.name for p in (index / "summaries").glob("*.md")} == \
        {p.name for p in (tmp_path / "ray-index" / "summaries").glob("*.md")}
