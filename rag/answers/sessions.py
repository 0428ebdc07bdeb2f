"""Named conversations kept next to the index, so ``rag ask --session NAME`` can follow up
from scripts as the chat UI does: ``<index>/sessions/<NAME>.json`` holds the turns."""

from __future__ import annotations

import json
from pathlib import Path

from rag.answers.answer import History, turn
from rag.core.errors import RagError
from rag.core.files import atomic_write, inside
from rag.core.types import Answer
from rag.sources.corpus import ARTICLE_ID

KEPT_TURNS = 20
"""Older turns are dropped: follow-ups only look at the last few questions."""


class Sessions:
    def __init__(self, folder: Path) -> None:
        self.folder = folder

    def _path(self, name: str) -> Path:
        if not ARTICLE_ID.fullmatch(name):
            raise RagError(f"session name {name!r}: use letters, digits, '.', '_' or '-' "
                           "(not starting with '.')")
        return inside(self.folder, f"{name}.json")

    def history(self, name: str) -> History:
        """The conversation so far; empty for a new name."""
        try:
            turns = json.loads(self._path(name).read_text())
        except FileNotFoundError:
            return []
        except (OSError, ValueError):
            raise RagError(f"session {name} is damaged; delete "
                           f"{self._path(name)} to start it afresh") from None
        if not isinstance(turns, list):
            raise RagError(f"session {name} is damaged; delete {self._path(name)}")
        return turns

    def append(self, name: str, answer: Answer) -> None:
        """Add the question and its answer (with the articles it cited) to the session."""
        turns = self.history(name) + turn(answer)
        self.folder.mkdir(parents=True, exist_ok=True)
        atomic_write(self._path(name), json.dumps(turns[-2 * KEPT_TURNS:], indent=2,
                                                  ensure_ascii=False))
