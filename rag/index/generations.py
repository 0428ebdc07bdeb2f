"""The index folder's generations: each write makes a complete new ``gen-NNNNNN`` folder and
then names it in ``CURRENT`` (replaced atomically); these helpers read ``CURRENT``, list,
number and sweep the folders and hold the one writer's lock. ``rag.index.store`` does the
copying and publishing with them."""

from __future__ import annotations

import fcntl
import json
import shutil
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from rag.core.errors import IndexCorrupt, RagError
from rag.index.vectorstores import kind_of as vector_store_of

FORMAT = 1
CURRENT = "CURRENT"
MANIFEST = "manifest.json"
METADATA = "meta.sqlite"


def manifest_or_empty(folder: Path) -> dict[str, Any]:
    """A generation's manifest; empty for a half-written or damaged one."""
    try:
        return dict(json.loads((folder / MANIFEST).read_text()))
    except (OSError, ValueError):
        return {}


def recorded_store(folder: Path) -> str:
    """The vector store a generation's manifest names; faiss when it does not read."""
    return vector_store_of(manifest_or_empty(folder))


def read_current(root: Path) -> str | None:
    try:
        name = (root / CURRENT).read_text().strip()
    except FileNotFoundError:
        return None
    except OSError as err:
        raise IndexCorrupt(f"cannot read {root / CURRENT}: {err.strerror}") from None
    if not name.startswith("gen-"):
        raise IndexCorrupt(f"{root / CURRENT} is damaged; run 'rag reindex'")
    return name


def current_generation(root: Path) -> str | None:
    """The live generation's name, None when there is none or CURRENT is damaged."""
    try:
        return read_current(root)
    except IndexCorrupt:
        return None


def generations(root: Path) -> list[str]:
    return sorted(p.name for p in root.glob("gen-*") if p.is_dir())


def next_generation_number(root: Path) -> int:
    names = generations(root)
    return int(names[-1].split("-")[1]) + 1 if names else 1


def previous_generation(root: Path, current: str) -> list[str]:
    """The newest complete generation before ``current``, kept for readers still using it."""
    older = [g for g in generations(root) if g < current and (root / g / MANIFEST).is_file()]
    return older[-1:]


def sweep(root: Path, keep: set[str]) -> None:
    for name in generations(root):
        if name not in keep:
            shutil.rmtree(root / name, ignore_errors=True)


@contextmanager
def exclusive_lock(root: Path) -> Iterator[None]:
    try:
        root.mkdir(parents=True, exist_ok=True)
        handle = open(root / ".lock", "w")  # noqa: SIM115 - held for the whole block
    except OSError as err:
        raise RagError(f"cannot write the index at {root}: {err.strerror}") from None
    with handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            print(f"waiting for another process writing {root} ...", file=sys.stderr)
            fcntl.flock(handle, fcntl.LOCK_EX)
        yield
