"""Offline question answering and summarization over a folder of articles.

Public API: ``Library`` (open an index, ingest, search, remove), ``Settings``, and the core
types. The CLI and the UI use nothing else.

Names are imported on first use (PEP 562), so a command that only talks to a running app
(``rag.answers.serving``) does not pay for the pipeline's imports.
"""

from importlib import import_module
from typing import TYPE_CHECKING, Any

_HOMES = {
    "VisitorPolicy": "rag.sources.access",
    **{name: "rag.core.errors" for name in ("IndexCorrupt", "IndexMismatch", "RagError",
                                            "UnreadableInput")},
    "Library": "rag.library", "reindex": "rag.library",
    "Filters": "rag.core.types",
    "Settings": "rag.core.settings",
    **{name: "rag.core.types" for name in ("Answer", "AnswerSentence", "Article", "Chunk",
                                      "Citation", "Failure", "Hit", "IngestReport")},
}

__all__ = [
    "Answer", "AnswerSentence", "Article", "Chunk", "Citation", "Failure", "Filters", "Hit",
    "IndexCorrupt", "IndexMismatch", "IngestReport", "Library", "RagError", "Settings",
    "UnreadableInput", "VisitorPolicy", "reindex",
]


def __getattr__(name: str) -> Any:
    if name not in _HOMES:
        raise AttributeError(f"module 'rag' has no attribute {name!r}")
    value = getattr(import_module(_HOMES[name]), name)
    globals()[name] = value  # the next lookup is a plain attribute
    return value


if TYPE_CHECKING:  # what type checkers and editors see
    from rag.core.errors import IndexCorrupt, IndexMismatch, RagError, UnreadableInput
    from rag.core.settings import Settings
    from rag.core.types import (
        Answer,
        AnswerSentence,
        Article,
        Chunk,
        Citation,
        Failure,
        Hit,
        IngestReport,
    )
    from rag.library import Library, reindex
    from rag.sources.access import VisitorPolicy
