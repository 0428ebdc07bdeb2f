"""`rag eval ...`: the evaluation commands (a group of their own to keep cli.py small)."""

from __future__ import annotations

import json
import tempfile
from pathlib import Path
from typing import Annotated, Any

import typer

from rag.cli.common import GeneratorOption, LlmUrlOption, VectorStoreOption, one_line_errors
from rag.core.errors import RagError
from rag.core.settings import Settings

eval_app = typer.Typer(help="Measure quality on labelled data (formats: ../shared/eval).",
                       no_args_is_help=True, rich_markup_mode="markdown")

CorpusArg = Annotated[Path, typer.Option(help="Folder or JSONL of articles to answer from.")]
QuestionsArg = Annotated[list[Path], typer.Option(
    help="JSONL of questions with gold answers (repeatable: the files are joined).")]
IndexArg = Annotated[Path | None, typer.Option(
    "--index", help="Reuse (and update) this index; default: a temporary one.")]
LimitArg = Annotated[int | None, typer.Option(help="Only the first N questions.")]


VerifierOption = Annotated[str | None, typer.Option(
    help="What reads claims over the rules: 'off' (the rules alone), 'model' (the configured "
         "generator as a judge), 'packaged' (the trained verifier) or a trained folder; "
         "default: as 'rag check' reads (RAG_STATEMENT_VERIFIER, the model when local).")]
SampleOption = Annotated[int | None, typer.Option(
    help="Read at most this many pairs of each set (and source, HealthVer half, kind of "
         "alteration), drawn with a fixed seed: for the slow model judge.")]
SampleDrawOption = Annotated[int, typer.Option(
    help="Which draw of --sample to read. Draws are disjoint: the judge's thresholds are "
         "chosen on draw 0 ('make judge'), so draw 1 scores them on pairs they were not "
         "chosen on. A part no larger than --sample is read whole in every draw.", min=0)]


def _run_with_index(index: Path | None, corpus: Path, overrides: dict[str, Any], job) -> dict:
    from rag.evaluation.questions import prepare_library

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
    from rag.evaluation.questions import evaluate_qa, load_questions

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
    from rag.evaluation.questions import calibrate_refusal, load_questions

    rows = [row for path in questions for row in load_questions(path, limit)]
    _write(_run_with_index(index, corpus, {},
                           lambda library: calibrate_refusal(library, rows, keep, True)), out)


@eval_app.command()
@one_line_errors
def verdicts(
    corpus: Annotated[list[Path] | None, typer.Option(
        help="Folder or JSONL of articles (repeatable: PubMedQA with its conclusions stated, "
             "and without them; the head is fitted on all).")] = None,
    questions: Annotated[list[Path] | None, typer.Option(
        help="JSONL of questions with gold answers (repeatable: the files are joined).")]
    = None,
    out: Annotated[Path | None, typer.Option(help="Write the JSON report here.")] = None,
    head: Annotated[Path | None, typer.Option(
        help="Write the fitted head here (rag/reading/verdict_head.json is what answers read).")]
    = None,
    index: Annotated[list[Path] | None, typer.Option(
        "--index", help="An index per --corpus, in order (reused and updated); default: "
                        "temporary ones.")] = None,
    with_model: Annotated[bool, typer.Option(
        "--with-model/--without-model", help="Also read the local model's judgement of the "
        "best finding (kept only where it raises cross-validated accuracy).")] = True,
    limit: LimitArg = None,
    save_readings: Annotated[Path | None, typer.Option(
        help="Also write each question's reading (the head's inputs) here, as JSONL.")] = None,
    readings: Annotated[Path | None, typer.Option(
        help="Fit on readings written by --save-readings instead of reading the questions "
             "again (minutes instead of the better part of an hour).")] = None,
) -> None:
    """Fit the yes/no verdict head on labelled questions, with cross-validation split by
    question: the claim check's reading of the best findings (and, where it helps, the local
    model's judgement of them) → Yes / No / not settled, the cut-off of each head chosen for
    how often a given Yes or No must be right; reports accuracy, coverage and precision per
    corpus beside the majority label."""
    from rag.evaluation.questions import load_questions, prepare_library
    from rag.evaluation.verdicts import fit_heads, head_file, read_questions

    if readings:
        report = fit_heads(load_questions(readings, None, required="x"))
    else:
        if not corpus or not questions:
            raise RagError("give --corpus and --questions (or --readings saved before)")
        rows = [row for path in questions for row in load_questions(path, limit)]
        indexes = list(index or [])
        if indexes and len(indexes) != len(corpus):
            raise RagError("give one --index per --corpus, or none")
        with tempfile.TemporaryDirectory(prefix="rag-eval-") as scratch:
            libraries = {
                path.stem: prepare_library(Settings.load(
                    {"index": indexes[n] if indexes else Path(scratch) / f"index-{n}"}),
                    path, True)
                for n, path in enumerate(corpus)}
            read = read_questions(libraries, rows, with_model, True)
        if save_readings:
            save_readings.write_text("".join(json.dumps(row) + "\n" for row in read))
            typer.echo(f"wrote {save_readings}", err=True)
        report = fit_heads(read)
    if head:
        head.write_text(json.dumps(head_file(report), indent=2) + "\n")
        typer.echo(f"wrote {head}", err=True)
    _write(report, out)


@eval_app.command()
@one_line_errors
def claims(
    data: Annotated[list[Path], typer.Option(
        help="JSONL of labelled claims (repeatable): {premise, claim, label} pairs as in "
             "../shared/eval/claims/, or {claim, article_id, label, kind?} against --corpus.")],
    corpus: Annotated[Path | None, typer.Option(
        help="Articles the claims of the alteration format name (not needed for pairs).")]
    = None,
    out: Annotated[Path | None, typer.Option(help="Write the JSON report here.")] = None,
    limit: LimitArg = None,
    index: IndexArg = None,
    verifier: VerifierOption = None,
    sample: SampleOption = None,
    sample_draw: SampleDrawOption = 0,
) -> None:
    """How the claim check judges labelled claims. Pairs (premise, claim, label): balanced
    accuracy of supported vs not and recall per label, per dataset and source; each premise is
    the article a claim is checked against. Alterations (claims about --corpus): the share of
    altered claims flagged (not supported) per kind, the share of unaltered ones kept, and
    the time per check."""
    from rag.evaluation.pairs import (
        evaluate_pairs,
        is_pair_file,
        sampled,
        scorer_for,
        sentence_checker,
    )
    from rag.evaluation.questions import evaluate_claims, load_questions

    files = {path: load_questions(path, limit, required="claim") for path in data}
    pairs = sampled([row for rows in files.values() if is_pair_file(rows) for row in rows],
                    sample, sample_draw)
    altered = [row for rows in files.values() if not is_pair_file(rows) for row in rows]
    # read as 'rag check' reads (the statement reader), with --verifier in every place
    overrides = {"claim_verifier": verifier, "statement_verifier": verifier} if verifier else {}
    report: dict[str, Any] = {}
    if pairs:
        from rag.generation.generate import load_configured_generator
        from rag.index.embedding import SentenceTransformerEmbedder
        from rag.reading.judge import configured_reader

        settings = Settings.load(overrides)
        scorer = scorer_for(SentenceTransformerEmbedder.configured(settings), pairs)
        check = sentence_checker(scorer, settings.support_threshold, configured_reader(
            settings.statement_verifier, settings,
            lambda: load_configured_generator(settings)))
        report["pairs"] = evaluate_pairs(check, pairs, True)
        report["pairs"]["claim_verifier"] = settings.statement_verifier
    if altered:
        if corpus is None:
            raise RagError("claims in the alteration format need --corpus (their articles)")
        report["alterations"] = _run_with_index(
            index, corpus, overrides, lambda library: evaluate_claims(library, altered, True))
    # one kind of file: its report as it always was; both kinds: side by side
    _write(next(iter(report.values())) if len(report) == 1 else report, out)


@eval_app.command(name="calibrate-checker")
@one_line_errors
def calibrate_checker(
    data: Annotated[list[Path], typer.Option(
        help="Labelled pairs (repeatable): the dev sets of ../shared/eval/claims/.")],
    verifier: Annotated[str, typer.Option(
        help="'model' (the configured generator as a judge: its thresholds are written to "
             "rag/reading/judge-calibration.json) or a trained verifier's folder (written to its "
             "CALIBRATION.json).")],
    alterations: Annotated[Path | None, typer.Option(
        help="Altered claims ('rag eval alter', e.g. eval/claims-dev.jsonl): the thresholds "
             "must keep flagging them; needs --corpus.")] = None,
    corpus: Annotated[Path | None, typer.Option(
        help="The abstracts (JSONL) the altered claims come from.")] = None,
    sample: SampleOption = None,
    out: Annotated[Path | None, typer.Option(help="Write the JSON report here.")] = None,
) -> None:
    """Choose the thresholds at which a verifier (or the model as a judge) overrules the
    rules: the grid point with the best mean balanced accuracy over the dev sets not trained
    on that still flags the altered claims (see rag/evaluation/calibrate_verifier.py)."""
    from rag.evaluation.calibrate_verifier import alteration_pairs, calibrate
    from rag.evaluation.pairs import is_pair_file, sampled, scorer_for
    from rag.evaluation.questions import load_questions
    from rag.generation.generate import load_configured_generator
    from rag.index.embedding import SentenceTransformerEmbedder
    from rag.reading.judge import CALIBRATION, configured_reader

    rows = [row for path in data for row in load_questions(path, None, required="claim")]
    if not is_pair_file(rows):
        raise RagError("calibrate-checker takes pair files {premise, claim, label} only")
    if alterations is not None:
        if corpus is None:
            raise RagError("--alterations needs --corpus (the abstracts they come from)")
        articles = {r["id"]: r["text"] for r in load_questions(corpus, None, required="text")}
        rows += alteration_pairs(load_questions(alterations, None, required="claim"),
                                 articles)
    rows = sampled(rows, sample)
    if verifier != "model" and not Path(verifier).is_dir():
        raise RagError(f"no trained verifier folder at {verifier}")
    written = CALIBRATION if verifier == "model" else Path(verifier) / "CALIBRATION.json"
    settings = Settings.load({})
    scorer = scorer_for(SentenceTransformerEmbedder.configured(settings), rows)
    reader = configured_reader(verifier, settings, lambda: load_configured_generator(settings))
    report = calibrate(rows, scorer, reader, settings.support_threshold, True)
    written.write_text(json.dumps(report["thresholds"], indent=2) + "\n")
    _write(report, out)


@eval_app.command(name="train-checker")
@one_line_errors
def train_checker(
    out: Annotated[Path, typer.Option(help="Folder for the trained verifier.")],
    shared: Annotated[Path, typer.Option(help="The labelled pairs (../shared/eval/claims).")],
    epochs: Annotated[float, typer.Option(help="Passes over the pairs.")] = 1.0,
) -> None:
    """Train a claim verifier (a cross-encoder from the packaged MiniLM; see
    rag/evaluation/verifier_train.py): about half an hour on 2 cores."""
    from rag.evaluation.verifier_train import train
    from rag.index.embedding import resolve_model

    base = resolve_model(Settings.load({}).embedder)  # the packaged MiniLM by default
    _write(train(shared, base, out, epochs), None)


@eval_app.command()
@one_line_errors
def disagreements(
    corpus: CorpusArg,
    with_conclusions: Annotated[Path, typer.Option(
        help="The same articles, those of the questions ending with their conclusion.")],
    questions: QuestionsArg,
    out: Annotated[Path | None, typer.Option(help="Write the JSON report here.")] = None,
    limit: LimitArg = None,
    index: IndexArg = None,
    verifier: VerifierOption = None,
) -> None:
    """False alarms of the disagreement check on two reports of one study that agree (the
    abstract and its own conclusion), and the share of reports altered one way (a number, a
    negation, a direction) it finds disagreeing. Reads as an answer does: pairs in other
    words confirmed by the statement reader (--verifier off: the rules alone)."""
    from rag.evaluation.disagreements import evaluate_disagreements
    from rag.evaluation.questions import load_questions
    from rag.library import Library

    rows = [row for path in questions for row in load_questions(path, limit)]
    articles = [{r["id"]: r for r in load_questions(path, None, required="text")}
                for path in (corpus, with_conclusions)]
    overrides = {"statement_verifier": verifier} if verifier else {}

    def job(library: Library) -> dict[str, Any]:
        report = evaluate_disagreements(library.scorer(), rows, *articles,
                                        reader=lambda: library.statement_reader)
        return {**report, "statement_verifier": library.settings.statement_verifier}

    _write(_run_with_index(index, corpus, overrides, job), out)


@eval_app.command(name="alter")
@one_line_errors
def alter(
    corpus: Annotated[Path, typer.Option(help="JSONL of articles ({id, text}).")],
    out: Annotated[Path, typer.Option(help="Write the labelled claims (JSONL) here.")],
    per_kind: Annotated[int, typer.Option(help="Altered claims of each kind.")] = 100,
    unaltered: Annotated[int, typer.Option(help="Sentences kept as they are.")] = 300,
    seed: Annotated[int, typer.Option(help="Which sentences and alterations.")] = 1,
) -> None:
    """Make a labelled claim file for 'rag eval claims' from a corpus: sentences as they
    are (supported) and each altered one way — a number changed, a negation dropped or
    added, a direction flipped, a population swapped (contradicted), a hedge dropped
    (overstated)."""
    from rag.evaluation.alterations import make_claims
    from rag.evaluation.questions import load_questions

    articles = load_questions(corpus, None, required="text")
    rows = make_claims(articles, per_kind, unaltered, seed)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows))
    typer.echo(f"wrote {len(rows)} claims to {out}", err=True)


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
    from rag.evaluation.questions import load_questions
    from rag.evaluation.summaries import evaluate_summaries
    from rag.library import Library

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
    """Speed and memory, each beside a baseline from the same run (see rag/evaluation/bench.py)."""
    from rag.evaluation.bench import run

    out.parent.mkdir(parents=True, exist_ok=True)
    report = run(corpus, eval_corpus, questions, repeats, Settings.load(),
                 lambda step: typer.echo(f"bench: {step}", err=True),
                 lambda so_far: out.write_text(json.dumps(so_far, indent=2) + "\n"))
    _write(report, out)
