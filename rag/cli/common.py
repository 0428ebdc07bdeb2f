"""What every CLI command shares: one-line errors and the common options."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from rag.answers import serving
from rag.core.errors import RagError
from rag.core.settings import Settings

if TYPE_CHECKING:
    from rag.library import Library

IndexOption = Annotated[
    Path | None,
    typer.Option("--index", help="Index folder (default: index/, or $RAG_INDEX).",
                 show_default=False),
]
JsonOption = Annotated[
    bool, typer.Option("--json", help="Print one JSON document on stdout (logs go to stderr).")
]
LlmUrlOption = Annotated[str | None, typer.Option(
    help="OpenAI-compatible server (vLLM, llama.cpp server, Ollama), e.g. "
         "http://127.0.0.1:8080/v1; default: the local packaged model.", show_default=False)]
GeneratorOption = Annotated[str | None, typer.Option(
    help="Local model: qwen2.5-coder-1.5b (default), qwen2.5-coder-0.5b, smollm2-135m, a "
         ".gguf file or a model folder; with --llm-url, the server's model name.",
    show_default=False)]

VectorStoreOption = Annotated[str | None, typer.Option(
    help="Where chunk vectors live: faiss (files in the index folder) or milvus (the Milvus "
         "server or Milvus Lite file in $RAG_MILVUS_URI; default INDEX/milvus.db). Default: "
         "the store the index was built with, faiss for a new index.", show_default=False)]

RayOption = Annotated[str | None, typer.Option(
    "--ray", metavar="ADDRESS",
    help="Do the model work on a Ray cluster (needs the 'scale' extra): its address "
         "(127.0.0.1:6379, ray://host:10001), 'auto', or 'local' for Ray in this process. "
         "Default: $RAG_RAY_ADDRESS, else no Ray.", show_default=False)]


ServerOption = Annotated[bool, typer.Option(
    "--server/--no-server", help="Send the question to a 'rag serve' running on this index "
    "(models already loaded; same JSON) when there is one. --no-server: answer here.")]


def open_library(settings: Settings) -> Library:
    """The index ``settings`` name, opened. The pipeline is imported only here, so a command
    that a running app answers (``from_server``) never pays for it."""
    from rag.library import Library

    return Library.open(settings)


def from_server(settings: Settings, endpoint: str, text: str) -> dict[str, Any] | None:
    """The running app's answer to ``text`` (the JSON the command prints), or None when no
    app serves this index (or it does not answer: then a note says so and the caller
    answers in its own process)."""
    if not settings.use_server:
        return None
    server = serving.find(settings.index)
    if server is None:
        return None
    try:
        answered = serving.call(server, endpoint, text, settings.server_login)
        typer.echo(f"(answered by the app serving this index, {server.url})", err=True)
        return answered
    except serving.ServerUnavailable as why:
        typer.echo(f"note: the app serving this index ({server.url}) did not answer "
                   f"({why}); answering in this process", err=True)
        return None


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
ProgressOption = Annotated[bool, typer.Option(help="Show progress bars on stderr.")]
