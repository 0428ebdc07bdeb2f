from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import CORPUS
from tests.processes import free_port, rag_json, wait_for_http


@pytest.fixture(scope="session")
def sample_index(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict]:
    """The bundled corpus ingested once with the real packaged embedder."""
    index = tmp_path_factory.mktemp("sample") / "index"
    report = rag_json("ingest", str(CORPUS), "--index", str(index), "--no-progress")
    return index, report


@pytest.fixture
def sample_index_copy(sample_index: tuple[Path, dict], tmp_path: Path) -> Path:
    target = tmp_path / "index"
    shutil.copytree(sample_index[0], target)
    return target


@pytest.fixture(scope="session")
def llm_server() -> str:
    """A real OpenAI-compatible server (llama-cpp-python's) serving the packaged SmolLM2."""
    from rag.generation.models import default_cache, resolve_generator_model

    model = resolve_generator_model("smollm2-135m", default_cache())
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "llama_cpp.server", "--model", str(model), "--host",
         "127.0.0.1", "--port", str(port), "--n_ctx", "2048", "--n_threads", "2"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    try:
        wait_for_http(f"http://127.0.0.1:{port}/v1/models", process)
        yield f"http://127.0.0.1:{port}/v1"
    finally:
        process.terminate()
        process.wait(timeout=30)
