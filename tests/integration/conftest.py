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
