"""``python -m rag.cli``: the ``rag`` command (what the tests and the bench run)."""

from rag.cli.main import app

app(prog_name="rag")
