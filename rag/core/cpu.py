"""What this machine's CPU is, from /proc/cpuinfo: its name for reports, its instruction-set
flags for the choices that depend on them (the llama.cpp build, the embedder's precision)."""

from __future__ import annotations

import platform
from pathlib import Path

CPUINFO = Path("/proc/cpuinfo")


def flags(cpuinfo: Path = CPUINFO) -> set[str]:
    """The instruction-set flags of this machine's CPU (empty where /proc/cpuinfo is not)."""
    return set(_field(cpuinfo, "flags").split())


def name(cpuinfo: Path = CPUINFO) -> str:
    """The CPU's model name ("AMD EPYC …"), or what the platform says where /proc/cpuinfo is
    not."""
    return _field(cpuinfo, "model name") or platform.processor()


def _field(cpuinfo: Path, key: str) -> str:
    """The first value of ``key`` in a cpuinfo file ("" where the file or the key is not)."""
    try:
        text = cpuinfo.read_text()
    except OSError:
        return ""
    for line in text.splitlines():
        if line.split(":", 1)[0].strip() == key:
            return line.split(":", 1)[1].strip()
    return ""
