"""`rag check`: whether the articles say what a statement says (its own module to keep cli.py
small)."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from rag.cli.common import (
    IndexOption,
    JsonOption,
    ServerOption,
    from_server,
    one_line_errors,
    open_library,
)
from rag.core.errors import RagError
from rag.core.settings import Settings

if TYPE_CHECKING:
    from rag.library import Library

Statement = Annotated[str | None, typer.Argument(
    help="A sentence to check against the articles, e.g. \"Survival was 53% after 5 years\".",
    show_default=False)]


@one_line_errors
def check(
    statement: Statement = None,
    article: Annotated[str | None, typer.Option(
        help="Check against this article only (an id from 'rag list').", show_default=False)]
    = None,
    file: Annotated[Path | None, typer.Option(
        help="Check every line of this JSONL file ({\"claim\": ..., \"article_id\": ...}) in one "
             "process; prints one JSON line per statement, in order.", show_default=False)]
    = None,
    index: IndexOption = None,
    as_json: JsonOption = False,
    server: ServerOption = True,
) -> None:
    """Say whether the articles bear out STATEMENT: supported, contradicted (a different
    number, the opposite finding, another population), overstated (the article hedges: "may",
    "in rats") or not found, with the reason in the article's own words and the sentences it
    rests on.

    Every number, negation, direction of change, population and hedge of the statement is
    compared with the best-matching sentence of the articles, not only its topic; with a
    local model, the model also reads the statement against its two best sentences as a judge
    (about a second more; RAG_STATEMENT_VERIFIER=off: the rules alone). Exit code 0 whatever
    the verdict; 1 when a line of --file could not be read. A single STATEMENT over all
    articles goes to a 'rag serve' running on this index when there is one.
    """
    if (statement is None) == (file is None):
        raise RagError("give a STATEMENT or --file FILE.jsonl (not both)")
    settings = Settings.load({"index": index, "use_server": server})
    if file is not None:
        if not _check_file(open_library(settings), file):
            raise typer.Exit(1)
        return
    result = from_server(settings, "check", statement or "") if article is None else None
    if result is None:
        result = open_library(settings).check_statement(statement or "", article).to_dict()
    if as_json:
        typer.echo(json.dumps(result, ensure_ascii=False, indent=2))
        return
    typer.echo(f"{result['status']}{': ' + result['reason'] if result['reason'] else ''}")
    for c in result["citations"]:
        typer.echo(f"  [{c['article_id']}, chars {c['start']}-{c['end']}] {c['text']}")


def _check_file(library: Library, file: Path) -> bool:
    """One JSON line out per line in; a line that cannot be checked gets an ``error``.
    Returns whether every line was checked."""
    try:
        lines = [line for line in file.read_text().split("\n") if line.strip()]
    except OSError as err:
        raise RagError(f"cannot read {file}: {err.strerror or err}") from None
    every = True
    for number, line in enumerate(lines, start=1):
        out: dict[str, Any]
        try:
            row = json.loads(line)
            if not isinstance(row, dict) or not isinstance(row.get("claim"), str):
                raise RagError("each line needs a \"claim\" string")
            out = library.check_statement(row["claim"], row.get("article_id")).to_dict()
        except (ValueError, RagError) as err:
            every = False
            out = {"line": number, "error": str(err)}
        sys.stdout.write(json.dumps(out, ensure_ascii=False) + "\n")
        sys.stdout.flush()
    return every
