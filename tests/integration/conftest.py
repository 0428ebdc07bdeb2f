from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import CORPUS, REPO

RAG = [sys.executable, "-m", "rag.cli"]


def run_rag(*args: str, env: dict[str, str] | None = None, check: bool = True,
            timeout: float = 900) -> subprocess.CompletedProcess[str]:
    """Run the real ``rag`` command in a subprocess, as a user would."""
    result = subprocess.run(
        [*RAG, *args], capture_output=True, text=True, cwd=REPO, timeout=timeout,
        env={**os.environ, "HF_HUB_OFFLINE": "1", **(env or {})},
    )
    if check and result.returncode != 0:
        raise AssertionError(f"rag {' '.join(args)} exited {result.returncode}:\n"
                             f"{result.stderr[-2000:]}")
    return result


def rag_json(*args: str, **kwargs) -> dict:
    return json.loads(run_rag(*args, "--json", **kwargs).stdout)


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


def free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_for_http(url: str, process: subprocess.Popen, timeout: float = 180) -> None:
    import time

    import httpx

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError(f"server exited with {process.returncode}")
        try:
            if httpx.get(url, timeout=2).status_code < 500:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.5)
    raise AssertionError(f"{url} did not answer within {timeout} s")


@pytest.fixture(scope="session")
def llm_server() -> str:
    """A real OpenAI-compatible server (llama-cpp-python's) serving the packaged SmolLM2."""
    from rag.models import default_cache, resolve_generator_model

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
