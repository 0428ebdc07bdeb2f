"""Errors a user can cause. Each message is one line and says what to do."""


class RagError(Exception):
    """Base for errors shown to the user as a single line, never as a traceback."""


class IndexMismatch(RagError):
    """The index was built with another embedder than the one configured now."""


class IndexCorrupt(RagError):
    """Index files are missing, truncated or disagree with each other."""


class UnreadableInput(RagError):
    """An input file cannot become an article (empty, binary, bad encoding, malformed...)."""
