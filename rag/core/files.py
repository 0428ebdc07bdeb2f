"""Writing files safely: atomically, durably, and only inside the folder they belong to.

Every file the tool writes for an article (summaries, their downloads) is named after the
article's id, and ids come from article files that anyone may have written; ``inside``
refuses a name that would resolve outside its folder, so a hostile id can never write
elsewhere, whatever slipped past the id rule.
"""

from __future__ import annotations

import os
from pathlib import Path

from rag.core.errors import RagError


def inside(folder: Path, name: str) -> Path:
    """``folder / name``, refused unless it resolves to a direct child of ``folder``."""
    target = (folder / name).resolve()
    if target.parent != folder.resolve():
        raise RagError(f"refusing to write {name!r}: it would land outside {folder}")
    return folder / name


def atomic_write(path: Path, data: str | bytes) -> None:
    """Replace ``path`` with ``data`` so a reader sees the old file or the new one, never a
    torn one, and the new one survives a crash once this returns (fsync of file and folder).
    The temporary name is per process, so concurrent writers never share one."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    with open(tmp, "wb") as handle:
        handle.write(data.encode() if isinstance(data, str) else data)
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(tmp, path)
    fsync_path(path.parent)


def fsync_path(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
