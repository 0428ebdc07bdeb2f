"""How the CLI reports errors a user can cause."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

import typer

from rag.errors import RagError


def one_line_errors(command: Callable[..., None]) -> Callable[..., None]:
    """User-caused errors print as one line on stderr with exit code 2, never a traceback."""

    @wraps(command)
    def run(*args: Any, **kwargs: Any) -> None:
        try:
            command(*args, **kwargs)
        except RagError as err:
            typer.echo(f"error: {err}", err=True)
            raise typer.Exit(2) from None
        except KeyboardInterrupt:
            typer.echo("interrupted: finished work is saved; run the same command to continue",
                       err=True)
            raise typer.Exit(130) from None

    return run
