"""The ``rag`` command. Formats output and maps flags onto Settings; no pipeline logic here.

Every command takes ``--index DIR`` and ``--json``. With ``--json`` stdout holds exactly one
JSON document; progress bars and messages go to stderr. Exit code 0 means nothing failed.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any

import typer

from rag.cli.check import check
from rag.cli.common import (
    GeneratorOption,
    IndexOption,
    JsonOption,
    LlmUrlOption,
    ProgressOption,
    RayOption,
    ServerOption,
    VectorStoreOption,
    from_server,
    one_line_errors,
    open_library,
)
from rag.cli.compare import compare
from rag.cli.evaluate import bench, eval_app
from rag.cli.watch import watch_app
from rag.core.errors import RagError
from rag.core.settings import Settings
from rag.core.types import IngestReport

STARTED = time.perf_counter()
"""When this command began, near enough: once the interpreter and typer are up (about 0.1 s
after the process started), before any of the pipeline is imported."""

app = typer.Typer(
    help="Ask questions of, and summarize, a folder of articles — offline, with citations.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode="markdown",  # docstring paragraphs reflow to the terminal's width
)

app.add_typer(eval_app, name="eval")
app.add_typer(watch_app, name="watch")
app.command(help="Speed and memory, each beside a baseline from the same run.")(bench)
app.command()(check)
app.command()(compare)


def _settings(index: Path | None, **overrides: Any) -> Settings:
    return Settings.load({"index": index, **overrides})


def _emit(as_json: bool, document: dict[str, Any], human: Callable[[], None]) -> None:
    if as_json:
        typer.echo(json.dumps(document, ensure_ascii=False, indent=2))
    else:
        human()


@app.command()
@one_line_errors
def ingest(
    paths: Annotated[list[str] | None, typer.Argument(
        help="Files or folders of articles, or http(s) URLs of pages.")] = None,
    feed: Annotated[list[str] | None, typer.Option(
        help="An RSS/Atom feed (URL or saved file) whose new entries are fetched and "
             "ingested; repeatable.")] = None,
    index: IndexOption = None,
    vector_store: VectorStoreOption = None,
    ray: RayOption = None,
    allow_private_links: Annotated[bool | None, typer.Option(
        "--allow-private-links", help="Let a feed's links (and redirects) reach loopback and "
        "private-network addresses too; off: only public addresses or the feed's own origin "
        "(also $RAG_ALLOW_PRIVATE_LINKS).", show_default=False)] = None,
    as_json: JsonOption = False,
    progress: ProgressOption = True,
) -> None:
    """Add new and changed articles (.txt .md .html .pdf .json .jsonl, web pages, feed
    entries) to the index.

    Unchanged articles are skipped (content hash), changed ones replace their old chunks, and
    articles whose file was deleted from an ingested folder are removed. Files that cannot be
    read are listed with a reason; the rest of the batch is still ingested. A page URL is
    fetched (bounded: RAG_FETCH_TIMEOUT_S, RAG_MAX_FILE_MB, RAG_FETCH_MAX_REDIRECTS) and its
    main text kept with its title, author, date and URL. A feed remembers the entries it
    gave; the next run takes only new ones, and retries entries whose page failed.
    """
    from rag.sources.web import FetchLimits, ingest_feed, ingest_pages, is_url

    if not paths and not feed:
        raise RagError("nothing to ingest: give files, folders, URLs or --feed")
    library = open_library(_settings(index, vector_store=vector_store, ray_address=ray,
                                     allow_private_links=allow_private_links or None))
    limits = FetchLimits.of(library.settings)
    files = [Path(p) for p in paths or [] if not is_url(p)]
    urls = [p for p in paths or [] if is_url(p)]
    report = library.ingest(files, progress=progress) if files else IngestReport()
    if urls:
        report.merge(ingest_pages(library, urls, limits, progress))
    feeds = []
    for source in feed or []:
        feed_report, ingested = ingest_feed(library, source, limits, progress)
        feeds.append(feed_report)
        report.merge(ingested)

    def human() -> None:
        typer.echo(
            f"added {report.added}, updated {report.updated}, unchanged {report.unchanged}, "
            f"removed {report.removed}; embedded {report.chunks_embedded} chunks"
        )
        for failure in report.failed:
            typer.echo(f"  failed: {failure.path}: {failure.reason}")
        for a, b in report.near_duplicates:
            typer.echo(f"  near-duplicate: {a} ~ {b}")
        for r in report.replaced_ids:
            typer.echo(f"  unsafe id {r.given!r} in {r.path} replaced by {r.used!r}")
        for f in feeds:
            typer.echo(f"  feed {f.feed}: {f.entries} entries, {f.new} new, "
                       f"{len(f.taken)} taken, {len(f.failed)} failed (retried next run)")

    _emit(as_json, {**report.to_dict(), **({"feeds": [f.to_dict() for f in feeds]}
                                           if feeds else {})}, human)
    if report.failed:
        raise typer.Exit(1)


@app.command()
@one_line_errors
def search(
    query: Annotated[str, typer.Argument(help="Question or keywords.")],
    k: Annotated[int | None, typer.Option("--k", help="Number of passages (default 5).")] = None,
    article: Annotated[list[str] | None, typer.Option(help="Only this article id (repeatable).")]
    = None,
    date_from: Annotated[str, typer.Option(help="Only articles dated on/after (YYYY[-MM-DD]).")]
    = "",
    date_to: Annotated[str, typer.Option(help="Only articles dated on/before (YYYY[-MM-DD]).")]
    = "",
    index: IndexOption = None,
    as_json: JsonOption = False,
    server: ServerOption = True,
) -> None:
    """Show the passages that best match QUERY (dense + BM25, fused), best first (from a
    'rag serve' running on this index when there is one and no filter is given)."""
    settings = _settings(index, use_server=server)
    plain = k is None and not article and not date_from and not date_to
    found = from_server(settings, "search", query) if plain else None
    if found is None:
        from rag.core.types import Filters

        hits = open_library(settings).search(query, k, Filters(article, date_from, date_to))
        found = {"hits": [h.to_dict() for h in hits]}

    def human() -> None:
        if not found["hits"]:
            typer.echo("no matching passages")
        for rank, hit in enumerate(found["hits"], start=1):
            text = " ".join(hit["text"].split())
            typer.echo(f"[{rank}] {hit['title']} ({hit['article_id']}, chars "
                       f"{hit['start']}-{hit['end']}, score {hit['score']:.4f})")
            typer.echo(f"    {text[:300]}{'…' if len(text) > 300 else ''}")

    _emit(as_json, found, human)


@app.command()
@one_line_errors
def ask(
    question: Annotated[str, typer.Argument(help="A question about your articles.")],
    k: Annotated[int | None, typer.Option("--k", help="Passages to retrieve (default 5).")]
    = None,
    llm_url: LlmUrlOption = None,
    generator: GeneratorOption = None,
    generate: Annotated[bool, typer.Option(
        "--generate/--no-generate", help="--no-generate answers with the best-matching "
        "sentences only (instant, no language model).")] = True,
    session: Annotated[str | None, typer.Option(
        help="Continue this named conversation (kept in INDEX/sessions), so follow-ups such "
        "as 'what about its safety?' refer to the earlier questions.", show_default=False)]
    = None,
    index: IndexOption = None,
    as_json: JsonOption = False,
    server: ServerOption = True,
) -> None:
    """Answer QUESTION from the articles, citing [n] passages; every citation is checked.

    A yes/no question gets a verdict first: Yes or No only where the findings say so surely
    enough, else "The articles don't settle this" with what they do report. When the articles
    do not support an answer, says so and lists the closest passages. When 'rag serve' runs
    on this index, the question goes to it (its models are loaded): the same answer, sooner.
    """
    settings = _settings(index, llm_url=llm_url, generator=generator, use_server=server)
    plain = k is None and generate and not session and not llm_url and not generator
    served = from_server(settings, "ask", question) if plain else None
    if served is not None:
        served["timings"]["command_s"] = round(time.perf_counter() - STARTED, 3)
        _emit(as_json, served, lambda: _print_answer(served))
        return
    library = open_library(settings)
    # nothing may be printed while the model loads: llama-cpp-python silences the process's
    # stdout and stderr meanwhile (see Library.warm_generator), so output waits for it
    loading = library.warm_generator() if generate else None
    history = library.sessions.history(session) if session else None
    asked = time.perf_counter()
    shown = 0
    answer = None
    for answer in library.ask_stream(question, history, k=k, generate=generate):
        if as_json:
            continue
        if answer.stage == "extractive" and loading is not None:
            loading.join()
            typer.echo(f"Quick answer (extracted): {answer.extractive}\n", err=True)
        elif answer.stage == "generating":
            typer.echo(answer.answer[shown:], err=True, nl=False)
            shown = len(answer.answer)
    assert answer is not None
    if loading is not None:
        loading.join()
    if session:
        library.sessions.append(session, answer)
    if shown:
        typer.echo("\n", err=True)
    document = answer.to_dict()
    # the command's own stages beside the answer's: start-up (imports, opening the index)
    # before the question, and the whole command as a reader waits for it
    document["timings"] |= {"startup_s": round(asked - STARTED, 3),
                            "command_s": round(time.perf_counter() - STARTED, 3)}
    _emit(as_json, document, lambda: _print_answer(document))


def _print_answer(answer: dict[str, Any]) -> None:
    """An answer (its JSON form: from this process or a running app) for a reader."""
    typer.echo(answer["answer"])
    for s in answer["sentences"]:
        if s["said"]:
            typer.echo(f"  (corrected: the answer said “{s['said']}”; {s['reason']})")
        elif not s["supported"]:
            typer.echo(f"  (not found in the articles: {s['text']}"
                       f"{'; ' + s['reason'] if s['reason'] else ''})")
    typer.echo("Closest passages:" if answer["refused"] else "Sources:")
    if answer["refused"]:
        for n, hit in enumerate(answer["hits"], start=1):
            typer.echo(f"  [{n}] {hit['title']} ({hit['article_id']}): "
                       f"{' '.join(hit['text'].split())[:200]}")
    for c in answer["citations"]:
        typer.echo(f"  [{c['n']}] {c['title']} ({c['article_id']}, chars {c['start']}-"
                   f"{c['end']}, support {c['support']:.2f}): {c['text']}")


@app.command()
@one_line_errors
def summarize(
    targets: Annotated[list[str] | None, typer.Argument(
        help="Article ids, or files/folders (ingested first). Omit with --new.")] = None,
    new: Annotated[bool, typer.Option(
        "--new", help="Every article not yet summarized, or changed since its summary.")]
    = False,
    out: Annotated[Path | None, typer.Option(
        help="Folder for the Markdown/JSON files (default: INDEX/summaries).")] = None,
    llm_url: LlmUrlOption = None,
    generator: GeneratorOption = None,
    ray: RayOption = None,
    index: IndexOption = None,
    as_json: JsonOption = False,
    progress: ProgressOption = True,
) -> None:
    """Summarize articles: a TLDR, an overview, key findings and caveats, each sentence
    linked to the article sentences it rests on. Writes OUT/ID.md, OUT/ID.json and
    OUT/index.md."""
    if not targets and not new:
        raise typer.BadParameter("give article ids or paths, or --new")
    library = open_library(_settings(index, llm_url=llm_url, generator=generator, summaries=out,
                                     ray_address=ray))
    ids: list[str] | None = None
    if targets:
        paths = [Path(t) for t in targets if Path(t).exists()]
        if paths:
            library.ingest(paths, progress=progress)
        ids = [t for t in targets if not Path(t).exists()] + library.article_ids_from(paths)
    report = library.summarize(ids, progress=progress)

    def human() -> None:
        for s in report.summaries:
            left_out = len(s.sentences) - len(s.shown)
            typer.echo(f"{s.article_id}: {len(s.shown)} sentences"
                       f"{f', {left_out} left out (not borne out)' if left_out else ''}")
        typer.echo(f"summarized {len(report.summaries)}, up to date {len(report.skipped)}, "
                   f"failed {len(report.failed)} in {report.seconds:.0f} s -> "
                   f"{library.summaries_folder}")
        for failure in report.failed:
            typer.echo(f"  failed: {failure.path}: {failure.reason}")

    _emit(as_json, report.to_dict(), human)
    if report.failed:
        raise typer.Exit(1)


@app.command()
@one_line_errors
def digest(
    new: Annotated[bool, typer.Option(
        "--new", help="The articles not in an earlier digest.")] = False,
    since: Annotated[str, typer.Option(
        help="Instead: the articles dated on or after this day (YYYY-MM-DD).")] = "",
    out: Annotated[Path | None, typer.Option(
        help="Folder for the digest's .md and .html, named by the time of the run (default: "
             "INDEX/digests).")] = None,
    llm_url: LlmUrlOption = None,
    generator: GeneratorOption = None,
    index: IndexOption = None,
    as_json: JsonOption = False,
    progress: ProgressOption = True,
) -> None:
    """One page of what arrived: the articles grouped by topic, each with its TLDR and key
    findings linked to the article spans (articles are summarized first where needed).
    With nothing new, writes nothing, says so, and exits 0 (safe to schedule)."""
    library = open_library(_settings(index, llm_url=llm_url, generator=generator))
    report = library.digest(new, since, out, progress)

    def human() -> None:
        typer.echo(report.message)
        for path in report.written:
            typer.echo(f"  wrote {path}")
        for failure in report.failed:
            typer.echo(f"  failed: {failure['path']}: {failure['reason']}")

    _emit(as_json, report.to_dict(), human)
    if report.failed:
        raise typer.Exit(1)


@app.command(name="list")
@one_line_errors
def list_articles(index: IndexOption = None, as_json: JsonOption = False) -> None:
    """List the ingested articles."""
    articles = open_library(_settings(index)).articles()

    def human() -> None:
        for a in articles:
            earlier = f"\t{len(a.versions)} earlier version(s)" if a.versions else ""
            typer.echo(f"{a.id}\t{a.date or '-'}\t{a.chunks} chunks\t{a.title}{earlier}")
        typer.echo(f"{len(articles)} articles", err=True)

    _emit(as_json, {"articles": [vars(a) for a in articles]}, human)


@app.command()
@one_line_errors
def info(
    index: IndexOption = None,
    as_json: JsonOption = False,
    check: Annotated[bool, typer.Option(help="Also verify metadata and vectors agree.")] = False,
) -> None:
    """Summarize the index: articles, chunks, embedder, dimension, size on disk."""
    library = open_library(_settings(index))
    problems = library.check() if check else []
    # a damaged catalog cannot be counted: its problem is all there is to say
    document = {"problems": problems} if any("damaged" in p for p in problems) else \
        {**library.info(), **({"problems": problems} if check else {})}

    def human() -> None:
        for key, value in document.items():
            typer.echo(f"{key}: {value}")

    _emit(as_json, document, human)
    if document.get("problems"):
        raise typer.Exit(1)


@app.command()
@one_line_errors
def remove(
    article_ids: Annotated[list[str], typer.Argument(help="Article ids (see 'rag list').")],
    index: IndexOption = None,
    as_json: JsonOption = False,
) -> None:
    """Delete articles and their passages from the index."""
    result = open_library(_settings(index)).remove(article_ids)

    def human() -> None:
        typer.echo(f"removed {result['removed']}")
        for missing in result["not_found"]:
            typer.echo(f"  not found: {missing}")

    _emit(as_json, result, human)
    if result["not_found"]:
        raise typer.Exit(1)


@app.command(name="reindex")
@one_line_errors
def reindex_command(
    index: IndexOption = None,
    vector_store: VectorStoreOption = None,
    as_json: JsonOption = False,
    progress: ProgressOption = True,
) -> None:
    """Re-chunk and re-embed every article with the configured embedder, into the configured
    vector store.

    Use it after changing RAG_EMBEDDER, when the index reports damaged vectors, or with
    --vector-store to move the index to another store (e.g. from FAISS files to Milvus).
    """
    from rag import reindex

    result = reindex(_settings(index, vector_store=vector_store), progress=progress)
    _emit(as_json, result, lambda: typer.echo(
        f"reindexed {result['articles']} articles ({result['chunks_embedded']} chunks) "
        f"with {result['embedder']}"))


@app.command()
@one_line_errors
def serve(
    index: IndexOption = None,
    host: Annotated[str, typer.Option(help="Address to bind; keep 127.0.0.1 unless you mean "
                                           "to share the app on your network.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port of the web app.")] = 7860,
    auth: Annotated[str | None, typer.Option(
        help="USER:PASSWORD; visitors must log in (Gradio's login page).")] = None,
    llm_url: LlmUrlOption = None,
    generator: GeneratorOption = None,
    vector_store: VectorStoreOption = None,
    library_dirs: Annotated[list[Path] | None, typer.Option(
        "--library", help="A folder visitors may ingest from by path (repeatable; default: "
        "corpus/). Uploads go to INDEX/uploads.", show_default=False)] = None,
    allow_llm_url: Annotated[list[str] | None, typer.Option(
        help="Another OpenAI-compatible server visitors may pick (repeatable). Your API key "
        "is only sent to --llm-url.", show_default=False)] = None,
    watch: Annotated[bool, typer.Option(
        "--watch", help="Also follow the sources of 'rag watch' while serving (as 'rag watch "
        "run' does), one line per source and run on stderr.")] = False,
) -> None:
    """Start the web app on http://HOST:PORT: chat with cited answers, ingest and remove
    articles, summaries. Also serves the /ask, /search and /chat API (gradio_client).

    Visitors can read and write only inside the library folders and the index (see the
    README's threat model); share it beyond this computer only with --auth.
    """
    from ui.app import launch

    login = None
    if auth is not None:
        user, sep, password = auth.partition(":")
        if not (user and sep and password):
            raise typer.BadParameter("use --auth USER:PASSWORD")
        login = (user, password)
    elif host not in ("127.0.0.1", "localhost", "::1"):
        typer.echo(f"warning: serving on {host} without --auth: anyone who can reach it can "
                   "ask, upload and summarize; add --auth USER:PASSWORD", err=True)
    library = open_library(_settings(
        index, llm_url=llm_url, generator=generator, vector_store=vector_store,
        library=tuple(library_dirs) if library_dirs else None,
        allow_llm_url=tuple(allow_llm_url) if allow_llm_url else None))
    from rag.digest.feed import FEED

    typer.echo(f"serving {library.info()['articles']} articles on http://{host}:{port}; "
               "the digests' feed is at /gradio_api/file="
               f"{(library.digests_folder / FEED).resolve()}", err=True)
    # the model loads now, not at the first question, and before anything else may print:
    # llama-cpp-python silences the process's output while it loads (Library.warm_generator)
    library.warm_generator().join()
    if watch:
        import threading

        from rag.sources.watch import keep_watching

        threading.Thread(target=keep_watching, name="watch", daemon=True, args=(
            library, threading.Event(), lambda line: typer.echo(f"watch: {line}", err=True)),
        ).start()
    launch(library, host=host, port=port, auth=login)
