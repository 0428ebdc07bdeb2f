"""Offline question answering and summarization over a folder of articles.

Public API: ``Library`` (open an index, ingest, search, remove), ``Settings``, and the core
types. The CLI and the UI use nothing else.
"""

from rag.access import VisitorPolicy
from rag.errors import IndexCorrupt, IndexMismatch, RagError, UnreadableInput
from rag.library import Library, reindex
from rag.retrieve import Filters
from rag.settings import Settings
from rag.types import Answer, AnswerSentence, Article, Chunk, Citation, Failure, Hit, IngestReport

__all__ = [
    "Answer", "AnswerSentence", "Article", "Chunk", "Citation", "Failure", "Filters", "Hit",
    "IndexCorrupt", "IndexMismatch", "IngestReport", "Library", "RagError", "Settings",
    "UnreadableInput", "VisitorPolicy", "reindex",
]
