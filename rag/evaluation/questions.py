"""`rag eval`: measure retrieval, answers, citations and refusals on a labelled question set.

Formats (see ../shared/eval/README.md): a corpus folder or JSONL of articles, and a JSONL of
questions ``{"id","question","answerable","answers":[...],"evidence_article_ids":[...],
"evidence":[...]}``. The report's field names are a contract other tools read.
"""

from __future__ import annotations

import json
import re
import string
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Any

import numpy as np
from tqdm import tqdm

from rag.core.errors import RagError
from rag.core.settings import Settings
from rag.core.types import Answer, Citation
from rag.library import Library
from rag.reading.check import objection
from rag.reading.cite import extractive_answer
from rag.reading.sentences import read

_LABELS = {"yes": "yes", "no": "no", "maybe": "unclear"}
"""PubMedQA labels as verdicts."""
_YES_NO = re.compile(r"\b(yes|no|maybe)\b", re.I)


def load_questions(path: Path, limit: int | None,
                   required: str = "question") -> list[dict[str, Any]]:
    """Rows of a JSONL file, each checked to have the ``required`` field."""
    try:
        # split on "\n" only: str.splitlines() also breaks at U+2028 inside JSON strings
        rows = [json.loads(line) for line in path.read_text().split("\n") if line.strip()]
    except (OSError, json.JSONDecodeError) as err:
        raise RagError(f"cannot read questions from {path}: {err}") from None
    for row in rows:
        if required not in row:
            raise RagError(f"{path}: every line needs a '{required}' field")
    return rows[:limit] if limit else rows


def prepare_library(settings: Settings, corpus: Path, progress: bool) -> Library:
    """The corpus ingested into ``settings.index`` (incremental: a reused index costs little)."""
    library = Library.open(settings)
    report = library.ingest([corpus], progress=progress)
    if report.failed:
        print(f"{len(report.failed)} corpus files failed to ingest; first: "
              f"{report.failed[0].path}: {report.failed[0].reason}", file=sys.stderr)
    return library


def evaluate_qa(library: Library, questions: list[dict[str, Any]], k: int, generate: bool,
                progress: bool) -> dict[str, Any]:
    records = []
    for row in tqdm(questions, desc="questions", unit="q", disable=not progress,
                    file=sys.stderr):
        answer = library.ask(row["question"], k=k, generate=generate)  # first: cold timings
        ranking = [h.chunk.article_id for h in library.search(row["question"], 10)]
        records.append(_judge(row, ranking, answer))
    return {
        "n": len(records),
        "retrieval": _retrieval([r for r in records if r["gold"]]),
        "answer": _answers([r for r in records if r["answerable"]]),
        "citations": _citations([r for r in records if r["answerable"]]),
        "refusal": _refusals(records),
        "latency_s": {stage: _percentiles([r["timings"].get(stage) for r in records])
                      for stage in ("retrieve_s", "first_token_s", "total_s")},
        "tokens_per_s": _percentiles([r["timings"].get("tokens_per_s") for r in records]),
        "config": _config(library.settings, k, generate),
    }


def _judge(row: dict[str, Any], ranking: list[str], answer: Answer) -> dict[str, Any]:
    gold = set(row.get("evidence_article_ids") or [])
    evidence_text = [_normalize(e) for e in row.get("evidence") or []]
    correct = [_citation_correct(c, gold, evidence_text) for c in answer.citations]
    return {
        "id": row.get("id"),
        "answerable": row.get("answerable", True),
        "gold": gold,
        "rank": next((i + 1 for i, a in enumerate(ranking) if a in gold), None),
        "answers": [str(a) for a in row.get("answers") or []],
        "prediction": answer.answer,
        "refused": answer.refused,
        "verdict": answer.verdict,
        "route": answer.route,
        "evidence": answer.timings.get("evidence_score"),
        "coverage": answer.timings.get("coverage"),
        "citations": len(answer.citations),
        "correct_citations": sum(correct),
        "timings": answer.timings,
    }


def _citation_correct(citation: Citation, gold: set[str], evidence_text: list[str]) -> bool:
    """Right article, and (where gold evidence text exists) the span lies inside it."""
    if citation.article_id not in gold:
        return False
    span = _normalize(citation.text)
    return not evidence_text or any(span in e for e in evidence_text)


def _retrieval(records: list[dict[str, Any]]) -> dict[str, float]:
    ranks = [r["rank"] for r in records]
    n = max(len(ranks), 1)
    return {
        "recall@1": sum(1 for r in ranks if r and r <= 1) / n,
        "recall@5": sum(1 for r in ranks if r and r <= 5) / n,
        "recall@10": sum(1 for r in ranks if r and r <= 10) / n,
        "mrr": sum(1 / r for r in ranks if r) / n,
    }


def _answers(records: list[dict[str, Any]]) -> dict[str, float]:
    n = max(len(records), 1)
    exact = f1 = contains = stated = agree = 0.0
    for r in records:
        prediction, golds = _normalize(r["prediction"]), [_normalize(a) for a in r["answers"]]
        exact += any(prediction == g for g in golds if g)
        f1 += max((_f1(prediction, g) for g in golds), default=0.0)
        contains += any(g and _contains_words(prediction, g) for g in golds)
        said = _YES_NO.search(r["prediction"])
        if said and r["answers"] and r["answers"][0].lower() in ("yes", "no", "maybe"):
            stated += 1
            agree += said.group(1).lower() == r["answers"][0].lower()
    return {"exact_match": exact / n, "f1": f1 / n, "contains": contains / n,
            "yes_no_stated": stated / n, "yes_no_accuracy": agree / stated if stated else 0.0,
            "answered": sum(not r["refused"] for r in records) / n,
            "routes": dict(Counter(r["route"] for r in records)), **_verdicts(records)}


def _verdicts(records: list[dict[str, Any]]) -> dict[str, Any]:
    """The answer's verdict against the PubMedQA label (first of ``answers``) over every
    labelled question (no verdict or a refusal counts as wrong; "unclear" matches "maybe"),
    beside always answering the majority label of the same questions; how often a Yes or No
    is given (coverage) and right where given (precision); each question's verdict by id, so
    two runs can be compared question by question."""
    labelled = [r for r in records
                if r["answers"] and r["answers"][0].lower() in ("yes", "no", "maybe")]
    if not labelled:
        return {}
    gold = [r["answers"][0].lower() for r in labelled]
    said = [{"unclear": "maybe"}.get(r["verdict"] or "", r["verdict"]) for r in labelled]
    majority, count = Counter(gold).most_common(1)[0]
    given = [(s, g) for s, g in zip(said, gold, strict=True) if s in ("yes", "no")]
    return {"verdict": {"accuracy": sum(s == g for s, g in zip(said, gold, strict=True))
                        / len(gold),
                        "majority_baseline": count / len(gold), "majority_label": majority,
                        "given": sum(s is not None for s in said) / len(gold),
                        "yes_no_given": len(given) / len(gold),
                        "yes_no_right": sum(s == g for s, g in given) / len(given)
                        if given else None,
                        "n": len(gold),
                        "by_question": {str(r["id"]): r["verdict"] for r in labelled}}}


def _citations(records: list[dict[str, Any]]) -> dict[str, float]:
    total = sum(r["citations"] for r in records)
    correct = sum(r["correct_citations"] for r in records)
    return {"precision": correct / total if total else 0.0,
            "recall": sum(1 for r in records if r["correct_citations"]) / max(len(records), 1),
            "per_answer": total / max(len(records), 1)}


def _refusals(records: list[dict[str, Any]]) -> dict[str, float]:
    """Positives are the unanswerable questions: a refusal there is right."""
    tp = sum(1 for r in records if r["refused"] and not r["answerable"])
    fp = sum(1 for r in records if r["refused"] and r["answerable"])
    fn = sum(1 for r in records if not r["refused"] and not r["answerable"])
    correct = sum(1 for r in records if r["refused"] != r["answerable"])
    return {"precision": tp / (tp + fp) if tp + fp else 0.0,
            "recall": tp / (tp + fn) if tp + fn else 0.0,
            "accuracy": correct / max(len(records), 1),
            "unanswerable": tp + fn}


def evaluate_claims(library: Library, rows: list[dict[str, Any]],
                    progress: bool) -> dict[str, Any]:
    """The claim check on labelled claims, per kind: altered claims flagged (any status but
    supported), unaltered ones kept, each status counted; time per check (search, support
    scores and reading) and per claim-sentence reading."""
    by_kind: dict[str, list[dict[str, Any]]] = {}
    seconds, readings = [], []
    for row in tqdm(rows, desc="claims", unit="claim", disable=not progress, file=sys.stderr):
        began = time.perf_counter()
        result = library.check_statement(row["claim"], row.get("article_id"))
        seconds.append(time.perf_counter() - began)
        if result.evidence:
            read.cache_clear()  # time the reading itself, not the cache
            began = time.perf_counter()
            objection(row["claim"], result.evidence)
            readings.append((time.perf_counter() - began) / len(result.evidence))
        kind = row.get("kind") or row.get("label", "")
        by_kind.setdefault(kind, []).append({**row, "status": result.status,
                                             "reason": result.reason})
    report: dict[str, Any] = {"n": len(rows), "kinds": {}}
    for kind, judged in sorted(by_kind.items()):
        supported = [r["label"] == "supported" for r in judged]
        right = [(r["status"] == "supported") == want for r, want in zip(judged, supported,
                                                                          strict=True)]
        report["kinds"][kind] = {
            "n": len(judged), "label": Counter(r["label"] for r in judged).most_common(1)[0][0],
            "right": round(sum(right) / len(judged), 4),
            "statuses": dict(Counter(r["status"] for r in judged)),
            "misses": [{"claim": r["claim"], "status": r["status"], "reason": r["reason"]}
                       for r, ok in zip(judged, right, strict=True) if not ok][:20]}
    report["seconds_per_check"] = _percentiles(seconds)
    report["ms_per_claim_sentence_reading"] = _percentiles([1000 * s for s in readings])
    report["config"] = {"support_threshold": library.settings.support_threshold,
                        "embedder": library.settings.embedder,
                        "date": time.strftime("%Y-%m-%d")}
    return report


def calibrate_refusal(library: Library, questions: list[dict[str, Any]], keep: float,
                      progress: bool) -> dict[str, Any]:
    """The refusal gate's two thresholds: evidence score and question coverage. Of the pairs
    that still let ``keep`` of the answerable questions through, the one that refuses the most
    unanswerable questions (ties: the lower thresholds). Wrongly refusing an answerable
    question is the costlier mistake, so ``keep`` is the constraint, not a term traded off."""
    scorer = library.scorer()
    evidence, coverage, answerable = [], [], []
    for row in tqdm(questions, desc="scoring", unit="q", disable=not progress,
                    file=sys.stderr):
        hits = library.search(row["question"], library.settings.top_k)
        evidence.append(extractive_answer(row["question"], hits, scorer)[2])
        coverage.append(scorer.coverage(row["question"], hits[0]) if hits else 0.0)
        answerable.append(bool(row.get("answerable", True)))
    e, c, a = np.array(evidence), np.array(coverage), np.array(answerable)
    if a.all() or not a.any():
        raise RagError("calibration needs both answerable and unanswerable questions")

    def outcome(te: float, tc: float) -> tuple[float, float]:
        passed = (e >= te) & (c >= tc)
        return float(passed[a].mean()), float((~passed[~a]).mean())

    grid = [(round(float(te), 3), round(float(tc), 3)) for te in np.arange(0.20, 0.70, 0.01)
            for tc in np.arange(0.0, 0.80, 0.01)]
    feasible = [(outcome(*pair)[1], -pair[0] - pair[1], pair) for pair in grid
                if outcome(*pair)[0] >= keep]
    _, _, (te, tc) = max(feasible)
    kept, refused = outcome(te, tc)
    alone = max((t for t, _ in grid if outcome(t, 0.0)[0] >= keep), default=0.0)
    return {
        "rule": f"evidence >= t_e and coverage >= t_c; of the pairs keeping >= {keep:.1%} of "
                "answerable questions, the one refusing the most unanswerable ones",
        "evidence_threshold": te, "coverage_threshold": tc,
        "answerable_kept": kept, "unanswerable_refused": refused,
        "evidence_alone": {"threshold": alone, "answerable_kept": outcome(alone, 0.0)[0],
                           "unanswerable_refused": outcome(alone, 0.0)[1]},
        "median": {"evidence": {"answerable": float(np.median(e[a])),
                                "unanswerable": float(np.median(e[~a]))},
                   "coverage": {"answerable": float(np.median(c[a])),
                                "unanswerable": float(np.median(c[~a]))}},
        "n": len(e),
    }


def _percentiles(values: list[float | None]) -> dict[str, float | None]:
    present = [v for v in values if v is not None]
    if not present:
        return {"p50": None, "p95": None}
    return {"p50": round(float(np.percentile(present, 50)), 4),
            "p95": round(float(np.percentile(present, 95)), 4)}


def _config(settings: Settings, k: int, generate: bool) -> dict[str, Any]:
    return {"k": k, "generate": generate, "embedder": settings.embedder,
            "generator": settings.generator if generate else None,
            "llm_url": settings.llm_url or None, "runtime": settings.runtime,
            "refusal_threshold": settings.refusal_threshold,
            "coverage_threshold": settings.coverage_threshold,
            "fallback_threshold": settings.fallback_threshold,
            "prompt_style": settings.prompt_style, "evidence_tokens": settings.evidence_tokens,
            "support_threshold": settings.support_threshold,
            "chunk_tokens": settings.chunk_tokens, "date": time.strftime("%Y-%m-%d")}


def _normalize(text: str) -> str:
    text = re.sub(r"\[\d+(?:,\s*\d+)*\]", " ", text.lower())
    text = text.translate(str.maketrans("", "", string.punctuation))
    return " ".join(w for w in text.split() if w not in ("a", "an", "the"))


def _contains_words(text: str, phrase: str) -> bool:
    """Whole-word containment ("yes" is not in "eyes")."""
    return f" {phrase} " in f" {text} "


def _f1(prediction: str, gold: str) -> float:
    p, g = prediction.split(), gold.split()
    common = sum((Counter(p) & Counter(g)).values())
    if not common:
        return 0.0
    precision, recall = common / len(p), common / len(g)
    return 2 * precision * recall / (precision + recall)

