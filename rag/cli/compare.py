"""`rag compare`: several articles side by side (its own module to keep cli.py small)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from rag.cli.common import IndexOption, JsonOption, one_line_errors, open_library
from rag.core.errors import RagError
from rag.core.files import atomic_write
from rag.core.settings import Settings
from rag.core.types import MAX_ARTICLES, MIN_ARTICLES


@one_line_errors
def compare(
    ids: Annotated[list[str], typer.Argument(
        help=f"{MIN_ARTICLES} to {MAX_ARTICLES} article ids (see 'rag list').",
        show_default=False)],
    question: Annotated[str, typer.Option(
        help="A point to compare first, e.g. \"How much did blood pressure fall?\".")] = "",
    out: Annotated[Path | None, typer.Option(
        help="Also write the table as Markdown to this file.", show_default=False)] = None,
    index: IndexOption = None,
    as_json: JsonOption = False,
) -> None:
    """Compare articles point by point: who was studied, the design, how many, the main
    outcome, safety and caveats (and --question first), one column per article.

    Each cell is the article's own sentence for that point, with its characters in the
    article and the claim check's status, or "not reported"; a row whose cells contradict
    each other (a different number, the opposite direction or finding) is marked.
    """
    from rag.reading.compare import render_markdown
    library = open_library(Settings.load({"index": index}))
    table = library.compare(ids, question)
    markdown = render_markdown(table)
    if out is not None:
        try:
            atomic_write(out, markdown)
        except OSError as err:
            raise RagError(f"cannot write {out}: {err.strerror or err}") from None
    if as_json:
        typer.echo(json.dumps(table.to_dict(), ensure_ascii=False, indent=2))
    else:
        typer.echo(markdown, nl=False)
