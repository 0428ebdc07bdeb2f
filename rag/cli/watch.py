"""`rag watch`: follow feeds, pages and folders on a schedule (its own module to keep cli.py
small; the work is in ``rag.sources.watch``)."""

from __future__ import annotations

import json
import threading
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated

import typer

from rag.cli.common import IndexOption, JsonOption, one_line_errors, open_library
from rag.core.errors import RagError
from rag.core.settings import Settings

watch_app = typer.Typer(
    help="Follow feeds, pages and folders: on a schedule, take what is new or changed and "
         "write a digest when a run found something (sources kept in INDEX/watch/).",
    no_args_is_help=True, rich_markup_mode="markdown")

EveryOption = Annotated[str, typer.Option(
    "--every", help="How often to look: 90s, 15m, 2h, 1d.")]


def _index(index: Path | None) -> Path:
    return Path(Settings.load({"index": index}).index)


@watch_app.command()
@one_line_errors
def add(
    source: Annotated[str, typer.Argument(help="A page's URL, a folder (or file), or with "
                                               "--feed an RSS/Atom feed's URL or file.")],
    feed: Annotated[bool, typer.Option("--feed", help="SOURCE is a feed: take its new and "
                                                      "updated entries.")] = False,
    every: EveryOption = "1h",
    index: IndexOption = None,
) -> None:
    """Watch SOURCE (again: with a new interval, due at the next run)."""
    from rag.sources.watch import Source, Watchlist, parse_every
    from rag.sources.web import is_url

    seconds = parse_every(every)
    if feed:
        kind, location = "feed", source if is_url(source) else str(Path(source).resolve())
    elif is_url(source):
        kind, location = "page", source
    else:
        if not Path(source).exists():
            raise RagError(f"{source} does not exist; give a folder, a file or a URL")
        kind, location = "files", str(Path(source).resolve())
    Watchlist(_index(index)).add(Source(location, kind, seconds))
    typer.echo(f"watching {kind} {location} every {every}")


@watch_app.command(name="import")
@one_line_errors
def import_opml(
    opml: Annotated[Path, typer.Argument(help="A feed reader's subscription list (.opml).")],
    every: EveryOption = "1h",
    index: IndexOption = None,
) -> None:
    """Watch every feed of an OPML subscription list, keeping its folders and titles; a list
    that does not parse changes nothing."""
    from rag.sources.watch import Watchlist, parse_every, read_opml

    try:
        data = opml.read_bytes()
    except OSError as err:
        raise RagError(f"cannot read {opml}: {err.strerror or err}") from None
    sources = read_opml(data, parse_every(every))
    Watchlist(_index(index)).add(*sources)
    typer.echo(f"watching {len(sources)} feeds from {opml} every {every}")


@watch_app.command(name="export")
@one_line_errors
def export_opml(
    opml: Annotated[Path, typer.Argument(help="Where to write the subscription list.")],
    index: IndexOption = None,
) -> None:
    """Write the watched feeds as an OPML subscription list, in their folders, for a feed
    reader (pages and folders of files are not feeds and are left out)."""
    from rag.core.files import atomic_write
    from rag.sources.watch import Watchlist, opml_feeds, write_opml

    sources = Watchlist(_index(index)).sources()
    atomic_write(opml, write_opml(sources))
    typer.echo(f"wrote {len(opml_feeds(sources))} feeds to {opml}")


@watch_app.command(name="list")
@one_line_errors
def list_sources(index: IndexOption = None, as_json: JsonOption = False) -> None:
    """The watched sources: when each last ran, what it found, when it is next due."""
    from rag.sources.watch import Watchlist

    sources = Watchlist(_index(index)).sources()
    if as_json:
        typer.echo(json.dumps({"sources": [vars(s) for s in sources]}, indent=2))
        return
    if not sources:
        typer.echo("nothing is watched; add a source with 'rag watch add'")
    for s in sources:
        due = datetime.fromtimestamp(s.next_run, UTC).strftime("%Y-%m-%d %H:%M:%S UTC") \
            if s.next_run else "at the next run"
        typer.echo(f"{s.kind} {s.location} (every {s.every_s:g} s; next {due})")
        if s.last_run:
            typer.echo(f"  last run {s.last_run}: {s.last_result}")


@watch_app.command()
@one_line_errors
def remove(source: Annotated[str, typer.Argument(help="A source as 'rag watch list' shows "
                                                      "it.")],
           index: IndexOption = None) -> None:
    """Stop watching SOURCE (what it brought stays in the index)."""
    from rag.sources.watch import Watchlist

    watchlist = Watchlist(_index(index))
    # a URL as given, or a folder as `add` stored it (resolved)
    if not (watchlist.remove(source) or watchlist.remove(str(Path(source).resolve()))):
        raise RagError(f"{source} is not watched; see 'rag watch list'")
    typer.echo(f"no longer watching {source}")


@watch_app.command()
@one_line_errors
def run(
    once: Annotated[bool, typer.Option("--once", help="One run over the due sources, then "
                                                      "exit (for cron or a timer).")] = False,
    index: IndexOption = None,
    as_json: JsonOption = False,
) -> None:
    """Look at each source when it is due, take what is new or changed, and write a digest
    after each run that found something; runs until interrupted (Ctrl-C), or once. One line
    per source and run on stderr."""
    from rag.sources.watch import keep_watching, next_due, run_due

    library = open_library(Settings.load({"index": index}))
    if next_due(Path(library.settings.index)) is None:
        raise RagError("nothing is watched; add a source with 'rag watch add'")
    if not once:
        keep_watching(library, threading.Event(), lambda line: typer.echo(line, err=True))
        return
    done = run_due(library, log=lambda line: typer.echo(line, err=True))
    if as_json:
        typer.echo(json.dumps(done.to_dict(), indent=2))
