"""`rag eval ...`: the evaluation commands (a group of their own to keep cli.py small)."""

from __future__ import annotations

import json
import tempfile
from pathlib import Path
from typing import Annotated, Any

import typer

from rag.cli_common import GeneratorOption, LlmUrlOption, VectorStoreOption, one_line_errors
from rag.errors import RagError
from rag.evaluate import (
    calibrate_refusal,
    calibrate_verdicts,
    evaluate_qa,
    load_questions,
    prepare_library,
)
from rag.evaluate_summaries import evaluate_summaries
from rag.library import Library
from rag.settings import Settings

eval_app = typer.Typer(help="Measure quality on labelled data (formats: ../shared/eval).",
                       no_args_is_help=True)

CorpusArg = Annotated[Path, typer.Option(help="Folder or JSONL of articles to answer from.")]
QuestionsArg = Annotated[list[Path], typer.Option(
    help="JSONL of questions with gold answers (repeatable: the files are joined).")]
IndexArg = Annotated[Path | None, typer.Option(
    "--index", help="Reuse (and update) this index; default: a temporary one.")]
LimitArg = Annotated[int | None, typer.Option(help="Only the first N questions.")]


def _run_with_index(index: Path | None, corpus: Path, overrides: dict[str, Any], job) -> dict:
    with tempfile.TemporaryDirectory(prefix="rag-eval-") as scratch:
        settings = Settings.load({"index": index or Path(scratch) / "index", **overrides})
        return job(prepare_library(settings, corpus, progress=True))


def _write(report: dict, out: Path | None) -> None:
    text = json.dumps(report, indent=2)
    if out:
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(text + "\n")
        typer.echo(f"wrote {out}", err=True)
    typer.echo(text)


@eval_app.command()
@one_line_errors
def qa(
    corpus: CorpusArg,
    questions: QuestionsArg,
    out: Annotated[Path | None, typer.Option(help="Write the JSON report here.")] = None,
    k: Annotated[int, typer.Option("--k", help="Passages per question.")] = 5,
    limit: LimitArg = None,
    generate: Annotated[bool, typer.Option("--generate/--no-generate",
                                           help="--no-generate scores extractive answers.")]
    = True,
    llm_url: LlmUrlOption = None,
    generator: GeneratorOption = None,
    prompt_style: Annotated[str | None, typer.Option(
        help="evidence (best sentences, default) or passages (whole chunks).")] = None,
    vector_store: VectorStoreOption = None,
    index: IndexArg = None,
) -> None:
    """Retrieval recall@k/MRR, answer EM/F1, citation precision/recall, refusal accuracy and
    latency percentiles over a question set; prints and writes a JSON report."""
    rows = [row for path in questions for row in load_questions(path, limit)]
    overrides = {"llm_url": llm_url, "generator": generator, "prompt_style": prompt_style,
                 "vector_store": vector_store}
    report = _run_with_index(index, corpus, overrides,
                             lambda library: evaluate_qa(library, rows, k, generate, True))
    _write(report, out)


@eval_app.command()
@one_line_errors
def calibrate(
    corpus: CorpusArg,
    questions: QuestionsArg,
    out: Annotated[Path | None, typer.Option(help="Write the JSON result here.")] = None,
    limit: LimitArg = None,
    keep: Annotated[float, typer.Option(
        help="Share of answerable questions the refusal gate must let through.")] = 0.98,
    index: IndexArg = None,
) -> None:
    """Find the evidence-score threshold below which answers become refusals (set it with
    RAG_REFUSAL_THRESHOLD)."""
    rows = [row for path in questions for row in load_questions(path, limit)]
    _write(_run_with_index(index, corpus, {},
                           lambda library: calibrate_refusal(library, rows, keep, True)), out)


@eval_app.command()
@one_line_errors
def verdicts(
    corpus: CorpusArg,
    questions: QuestionsArg,
    out: Annotated[Path | None, typer.Option(help="Write the JSON result here.")] = None,
    limit: LimitArg = None,
    skip: Annotated[list[Path] | None, typer.Option(
        help="Leave out questions whose ids are in this JSONL (the set you report on).")]
    = None,
    keep: Annotated[float, typer.Option(
        help="Share of answerable questions that must still be answered.")] = 0.97,
    generator: GeneratorOption = None,
    index: IndexArg = None,
) -> None:
    """Calibrate yes/no answers on labelled questions: the model's first-word probabilities
    of Yes / No / Not clear / its refusal against the labels and the unanswerable questions
    (set the result with RAG_VERDICT_BIAS, RAG_VERDICT_UNCLEAR_MARGIN and
    RAG_VERDICT_REFUSAL_MARGIN)."""
    skipped = {row.get("id") for path in skip or [] for row in load_questions(path, None)}
    rows = [row for path in questions for row in load_questions(path, None)
            if row.get("id") not in skipped][:limit]
    _write(_run_with_index(index, corpus, {"generator": generator},
                           lambda library: calibrate_verdicts(library, rows, keep, True)), out)


@eval_app.command(name="summarize")
@one_line_errors
def summarize_eval(
    data: Annotated[Path, typer.Option(help="JSONL of {id, text, references}.")],
    out: Annotated[Path | None, typer.Option(help="Write the JSON report here.")] = None,
    limit: LimitArg = None,
    llm_url: LlmUrlOption = None,
    generator: GeneratorOption = None,
) -> None:
    """ROUGE-1/2/L of summary overviews against references, share of summary sentences
    supported by the source, mean words, articles per minute."""
    items = load_questions(data, limit, required="text")
    with tempfile.TemporaryDirectory(prefix="rag-eval-") as scratch:
        settings = Settings.load({"index": Path(scratch) / "index", "llm_url": llm_url,
                                  "generator": generator})
        report = evaluate_summaries(Library.open(settings), items, progress=True)
    _write(report, out)


@eval_app.command()
@one_line_errors
def combine(
    reports: Annotated[list[Path], typer.Argument(help="JSON reports of 'rag eval'.")],
    out: Annotated[Path, typer.Option(help="Write the combined report here.")],
) -> None:
    """One JSON document holding several reports, each under its file's stem."""
    combined = {}
    for path in reports:
        try:
            combined[path.stem] = json.loads(path.read_text())
        except (OSError, ValueError) as err:
            raise RagError(f"cannot read report {path}: {err}") from None
    _write(combined, out)


@one_line_errors
def bench(
    out: Annotated[Path, typer.Option(help="Write the JSON report here.")]
    = Path("bench/report.json"),
    corpus: Annotated[Path, typer.Option(help="Small corpus for answers, summaries, memory.")]
    = Path("corpus"),
    eval_corpus: Annotated[Path | None, typer.Option(
        help="Larger JSONL corpus for ingest throughput and search latency.")]
    = Path("../shared/eval/pubmedqa/corpus.jsonl"),
    questions: Annotated[Path | None, typer.Option(help="Questions to time search with.")]
    = Path("../shared/eval/pubmedqa/questions-dev.jsonl"),
    repeats: Annotated[int, typer.Option(help="Repeats per timing (medians).")] = 3,
) -> None:
    """Speed and memory, each beside a baseline from the same run (see rag/bench.py)."""
    from rag.bench import run

    out.parent.mkdir(parents=True, exist_ok=True)
    report = run(corpus, eval_corpus, questions, repeats, Settings.load(),
                 lambda step: typer.echo(f"bench: {step}", err=True),
                 lambda so_far: out.write_text(json.dumps(so_far, indent=2) + "\n"))
    _write(report, out)
