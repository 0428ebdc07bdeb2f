"""The ``rag`` command: one module per command group, flags mapped onto ``Settings``, output
formatted; no pipeline logic. Imports the library and the pipeline only inside the commands
that run them, so a question a running app answers starts in a tenth of a second."""

from rag.cli.main import app

__all__ = ["app"]
