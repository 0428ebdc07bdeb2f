"""Running the real ``rag`` command and the real app in subprocesses, as a user would."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx

from tests.conftest import REPO

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


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_until(condition: Callable[[], bool], timeout: float, what: str) -> None:
    """Poll ``condition`` until it holds; fail naming ``what`` after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout} s waiting for {what}")
        time.sleep(0.02)


def wait_for_http(url: str, process: subprocess.Popen, timeout: float = 180) -> None:
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


@contextmanager
def serving(index: Path, *args: str, log: Path | None = None,
            env: dict[str, str] | None = None) -> Iterator[str]:
    """``rag serve`` on a free local port; yields its URL, stops it afterwards."""
    port = free_port()
    out = open(log, "w") if log else subprocess.DEVNULL  # noqa: SIM115 - closed below
    process = subprocess.Popen(
        [*RAG, "serve", "--index", str(index), "--port", str(port), *args], cwd=REPO,
        stdout=out, stderr=subprocess.STDOUT,
        env={**os.environ, "HF_HUB_OFFLINE": "1", **(env or {})})
    try:
        url = f"http://127.0.0.1:{port}/"
        wait_for_http(url, process)
        yield url
    finally:
        process.terminate()
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
        if log:
            out.close()
