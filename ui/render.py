"""HTML for the app: answers with citation links, the source panel, summaries, reports.

Everything taken from an article or a model (titles, text, answers, file names) is untrusted:
the markup comes from Jinja2 macros (``templates/fragments.html``) that escape every value
they are given, and these functions only gather the values. Citation links carry the exact span
they point at (``#source/<article id>/<start>/<end>``); ``static/app.js`` turns a click on
one into a request for the source panel.
"""

from __future__ import annotations

import html
import re
from pathlib import Path
from typing import Any
from urllib.parse import quote, unquote

from jinja2 import Environment, FileSystemLoader
from markupsafe import Markup

from rag import Answer, AnswerSentence, Article, IngestReport
from rag.answers.answer import verdict_opening
from rag.digest.summarize import NOTHING_BORNE_OUT, SECTIONS, checked_sentences
from rag.index.versions import describe
from rag.sources.web import is_web_url

SOURCE_PREFIX = "#source/"
_MARKER = re.compile(r"\[(\d{1,2})\]")


def escape(value: object) -> str:
    """Escape for HTML and defuse Markdown link/image syntax (the chat renders Markdown)."""
    return html.escape(str(value), quote=True).replace("[", "&#91;").replace("]", "&#93;")


def _escaped(value: object) -> Markup:
    """What the templates print of a value: markup a macro made stays, anything else is
    escaped as ``escape`` does (autoescape alone would leave Markdown's brackets)."""
    return value if isinstance(value, Markup) else Markup(escape(value))


_FRAGMENTS = Environment(
    loader=FileSystemLoader(Path(__file__).with_name("templates")), autoescape=True,
    finalize=_escaped, trim_blocks=True, lstrip_blocks=True,
).get_template("fragments.html").module


def _href(article_id: str, start: int, end: int) -> str:
    return f"{SOURCE_PREFIX}{quote(article_id, safe='')}/{start}/{end}"


def _cited(article_id: str, start: int, end: int, label: str) -> dict[str, str]:
    return {"href": _href(article_id, start, end), "label": label}


def source_link(article_id: str, start: int, end: int, label: str) -> str:
    return str(_FRAGMENTS.cite(_href(article_id, start, end), label))


def parse_source_request(payload: str) -> tuple[str, int, int]:
    """``<article id>/<start>/<end>`` (as built by ``source_link``; anything after a '#' is
    a click counter) -> its parts. Raises ValueError on anything else."""
    quoted, start, end = payload.removeprefix(SOURCE_PREFIX).split("#", 1)[0].split("/")
    return unquote(quoted), int(start), int(end)


def answer_html(answer: Answer, dates: dict[str, str]) -> str:
    """One assistant message: the answer with linked [n] markers, a note on its stage, and
    the sources list (title, date, score) it was drawn from."""
    spans = _passage_spans(answer)
    stage = "refused" if answer.refused else answer.stage
    shown = answer.extractive if stage == "extractive" else answer.answer
    sources = [{**_cited(hit.chunk.article_id, hit.chunk.start, hit.chunk.end, f"[{n}]"),
                "title": hit.title or hit.chunk.article_id,
                "date": dates.get(hit.chunk.article_id, ""), "score": f"{hit.score:.3f}"}
               for n, hit in enumerate(answer.hits, start=1)]
    return str(_FRAGMENTS.answer({
        "stage": stage, "text": answer.answer, "route": answer.route,
        "segments": _segments(shown, spans),
        "verdict": verdict_opening(answer) if answer.verdict else "",
        "quoted": answer.route == "extractive",
        "sentences": [_sentence(s, answer) for s in answer.sentences],
        "sources": sources,
        "sources_heading": "Closest passages" if answer.refused else "Sources"}))


def _sentence(sentence: AnswerSentence, answer: Answer) -> dict[str, Any]:
    """A checked sentence; each [n] opens the exact sentence of passage n supporting it.
    One the model got wrong carries what it said (``said``) and why it was corrected."""
    return {"text": sentence.text, "said": sentence.said, "reason": sentence.reason,
            "supported": sentence.supported,
            "cited": [_cited(c.article_id, c.start, c.end, f"[{n}]") for n, c in zip(
                sentence.citations, (answer.citations[q] for q in sentence.quotes),
                strict=True)]}


def _passage_spans(answer: Answer) -> dict[int, tuple[str, int, int]]:
    """n -> the retrieved passage a [n] marker opens while the answer is still coming."""
    return {n: (hit.chunk.article_id, hit.chunk.start, hit.chunk.end)
            for n, hit in enumerate(answer.hits, start=1)}


def _segments(text: str, spans: dict[int, tuple[str, int, int]]) -> list[dict[str, str]]:
    """``text`` cut at its [n] markers, each marker a link to its span (unknown n stay
    plain text)."""
    out, last = [], 0
    for match in _MARKER.finditer(text):
        n = int(match.group(1))
        if n in spans:
            out += [{"text": text[last:match.start()]},
                    {"text": f"[{n}]", "href": _href(*spans[n])}]
            last = match.end()
    return [*out, {"text": text[last:]}]


def source_panel(article: Article, start: int, end: int,
                 versions: list[dict[str, Any]] = ()) -> str:
    """The whole article with the cited span marked; app.js scrolls the mark into view.
    Earlier ``versions`` (``Library.versions``) follow, newest first, each with what changed
    after it, folded. Only web links are links: a URL from an article file is never a
    javascript: or file: link; the page's own canonical address is shown as text."""
    start, end = max(0, min(start, len(article.text))), max(0, min(end, len(article.text)))
    canonical = article.extra.get("canonical", "")
    return str(_FRAGMENTS.source_panel({
        "title": article.title or article.id,
        "meta": [v for v in (article.id, article.date, article.doi,
                             ", ".join(article.authors[:3])) if v],
        "url": article.url if is_web_url(article.url) else "",
        "canonical": canonical if canonical != article.url else "",
        "start": start, "end": end, "before": article.text[:start],
        "cited": article.text[start:end], "after": article.text[end:],
        "versions": [{"number": int(v["number"]), "replaced_at": v["replaced_at"][:16],
                      "changes": "; ".join(describe(v["changes"])), "text": v["text"]}
                     for v in reversed(list(versions))]}))


def compare_html(table: dict[str, Any]) -> str:
    """A comparison (``rag compare`` JSON) as a table: one row per point, one column per
    article; each filled cell links to its sentence in the article; a row whose cells
    contradict each other is marked."""
    ids = table["articles"]

    def cell(article_id: str, found: dict[str, Any] | None) -> dict[str, Any] | None:
        return {"text": found["text"], "status": found["status"],
                "href": _href(article_id, int(found["start"]), int(found["end"]))} \
            if found else None

    return str(_FRAGMENTS.compare({
        "titles": [table["titles"].get(a, a) for a in ids],
        "rows": [{"point": row["point"], "disagree": row["disagree"],
                  "cells": [cell(a, row["cells"].get(a)) for a in ids]}
                 for row in table["rows"]]}))


def digest_frame(page: str) -> str:
    """A digest page (``rag digest`` HTML) in a sandboxed frame: its script may open and
    highlight spans inside the frame, nothing else (no access to the app's origin)."""
    return str(_FRAGMENTS.digest_frame(page))


def summary_html(summary: dict[str, Any]) -> str:
    """A stored summary (``rag summarize`` JSON): each sentence the article bears out, with
    links to the article sentences it rests on; how many draft sentences were left out."""
    article_id = str(summary.get("article_id", ""))
    shown = checked_sentences(summary)
    sections = [(heading, [{"text": s.get("text", ""), "cited": [
        _cited(article_id, int(span["start"]), int(span["end"]), f"[{i}]")
        for i, span in enumerate(s.get("spans", []), start=1)]}
        for s in shown if s.get("role") == role]) for role, heading in SECTIONS.items()]
    return str(_FRAGMENTS.summary({
        "title": summary.get("title") or article_id, "empty": not shown,
        "nothing_borne_out": NOTHING_BORNE_OUT,
        "sections": [(heading, items) for heading, items in sections if items],
        "trimmed": sum(1 for s in shown if s.get("drafted")),
        "dropped": len(summary.get("dropped") or []),
        "model": summary.get("model", ""), "seconds": summary.get("seconds", "")}))


_STATUS_TEXT = {"supported": "Supported by the articles",
                "contradicted": "Contradicted by the articles",
                "overstated": "Overstated: the articles are more careful",
                "not found": "Not found in the articles"}


def check_html(result: dict[str, Any]) -> str:
    """A checked statement (``rag check`` JSON): its status, the reason in the article's own
    words, and each sentence it was judged against, linked into its article."""
    status = str(result.get("status", ""))
    return str(_FRAGMENTS.check({
        "status": status, "status_text": _STATUS_TEXT.get(status, status),
        "reason": result.get("reason") or "",
        "quotes": [{"text": c["text"], "title": c.get("title") or c["article_id"],
                    "href": _href(c["article_id"], int(c["start"]), int(c["end"]))}
                   for c in result.get("citations", [])]}))


def ingest_report_html(report: IngestReport) -> str:
    return str(_FRAGMENTS.ingest_report(report))


def error_html(message: str) -> str:
    return str(_FRAGMENTS.error(message))
