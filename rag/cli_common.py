"""What every CLI command shares: one-line errors and the common options."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from pathlib import Path
from typing import Annotated, Any

import typer

from rag.errors import RagError

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
