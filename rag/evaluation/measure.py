"""How a benchmark figure is taken: medians over repeats, ratios to a baseline from the same
run, percentiles in milliseconds, a process's memory, the machine it ran on."""

from __future__ import annotations

import os
import platform
import statistics
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np

from rag.core import cpu
from rag.generation.generate import cpu_backend


def ratio(ours: float, baseline: float) -> float | None:
    """``ours / baseline`` to three significant digits (a ratio of 0.004 stays 0.004, not
    0.0); None without a baseline."""
    return float(f"{ours / baseline:.3g}") if baseline else None


def median_seconds(run: Callable[[], object], repeats: int) -> float:
    """The median wall time of ``repeats`` calls of ``run``."""
    times = []
    for _ in range(repeats):
        began = time.perf_counter()
        run()
        times.append(time.perf_counter() - began)
    return statistics.median(times)


def status_kb(pid: int, field: str) -> int:
    """A field of a running process's /proc status in kB (VmRSS now, VmHWM its peak)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    raise RuntimeError(f"no {field} for process {pid}")


def ms(seconds: list[float], percentile: int) -> float:
    """A percentile of timings in seconds, as milliseconds to three decimals."""
    return round(1000 * float(np.percentile(seconds, percentile)), 3)


def machine() -> dict[str, Any]:
    return {"cpu": cpu.name(), "cores": os.cpu_count(), "python": platform.python_version(),
            "date": datetime.now(UTC).date().isoformat(), "llama_cpp_cpu": cpu_backend()}
