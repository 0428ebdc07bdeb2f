"""HTML for the app: answers with citation links, the source panel, summaries, reports.

Everything taken from an article or a model (titles, text, answers, file names) is untrusted
and goes through ``escape`` before it reaches the page. Citation links carry the exact span
they point at (``#source/<article id>/<start>/<end>``); ``static/app.js`` turns a click on
one into a request for the source panel.
"""

from __future__ import annotations

import html
import re
from typing import Any
from urllib.parse import quote, unquote

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


def source_link(article_id: str, start: int, end: int, label: str) -> str:
    href = f"{SOURCE_PREFIX}{quote(article_id, safe='')}/{start}/{end}"
    return f'<a class="cite" href="{href}">{escape(label)}</a>'


def parse_source_request(payload: str) -> tuple[str, int, int]:
    """``<article id>/<start>/<end>`` (as built by ``source_link``; anything after a '#' is
    a click counter) -> its parts. Raises ValueError on anything else."""
    quoted, start, end = payload.removeprefix(SOURCE_PREFIX).split("#", 1)[0].split("/")
    return unquote(quoted), int(start), int(end)


def answer_html(answer: Answer, dates: dict[str, str]) -> str:
    """One assistant message: the answer with linked [n] markers, a note on its stage, and
    the sources list (title, date, score) it was drawn from."""
    spans = _passage_spans(answer)
    if answer.refused:
        body = (f"<p class='refusal'><b>{escape(answer.answer)}</b> No passage supports an "
                "answer; the closest passages are listed below.</p>")
    elif answer.stage == "extractive":
        body = (f"<p class='extractive'><i>Quick answer, quoted from the articles (the model "
                f"is still writing):</i><br>{_linked(answer.extractive, spans)}</p>")
    elif answer.stage == "generating":
        body = f"<p class='generating'>{_linked(answer.answer, spans)} <i>…</i></p>"
    else:
        body = "".join(_sentence_html(s, answer) for s in answer.sentences)
        lead = (f"<b class='verdict'>{escape(verdict_opening(answer))}</b> "
                if answer.verdict else "") + (
            "<i>Quoted from the articles:</i> " if answer.route == "extractive" else "")
        body = (f"<p class='final' data-route='{answer.route}'>{lead}"
                f"{body.strip() or _linked(answer.answer, spans)}</p>")
    heading = "Closest passages" if answer.refused else "Sources"
    rows = "".join(
        f"<li>{source_link(hit.chunk.article_id, hit.chunk.start, hit.chunk.end, f'[{n}]')} "
        f"<b>{escape(hit.title or hit.chunk.article_id)}</b>"
        f"{' · ' + escape(dates[hit.chunk.article_id]) if dates.get(hit.chunk.article_id) else ''}"
        f" · score {hit.score:.3f}</li>"
        for n, hit in enumerate(answer.hits, start=1))
    sources = f"<p class='sources-title'><b>{heading}</b></p><ul class='sources'>{rows}</ul>" \
        if rows else ""
    return body + sources




def _sentence_html(sentence: AnswerSentence, answer: Answer) -> str:
    """A checked sentence; each [n] opens the exact sentence of passage n supporting it."""
    links = "".join(
        " " + source_link(c.article_id, c.start, c.end, f"[{n}]")
        for n, c in zip(sentence.citations, (answer.citations[q] for q in sentence.quotes),
                        strict=True))
    if sentence.said:  # the model got it wrong: the source sentence instead, and why
        return (f"<span class='sentence corrected'>{escape(sentence.text)}{links} "
                f"<i class='correction'>(corrected: the answer said “{escape(sentence.said)}”; "
                f"{escape(sentence.reason)})</i></span> ")
    if sentence.supported:
        return f"<span class='sentence'>{escape(sentence.text)}{links}</span> "
    return (f"<span class='unsupported' title='no passage supports this sentence'>"
            f"{escape(sentence.text)} <i>(not supported by the articles)</i></span> ")


def _passage_spans(answer: Answer) -> dict[int, tuple[str, int, int]]:
    """n -> the retrieved passage a [n] marker opens while the answer is still coming."""
    return {n: (hit.chunk.article_id, hit.chunk.start, hit.chunk.end)
            for n, hit in enumerate(answer.hits, start=1)}


def _linked(text: str, spans: dict[int, tuple[str, int, int]]) -> str:
    """Escaped text whose [n] markers are links to their spans (unknown n stay plain)."""
    out, last = [], 0
    for match in _MARKER.finditer(text):
        n = int(match.group(1))
        if n in spans:
            out += [escape(text[last:match.start()]), source_link(*spans[n], f"[{n}]")]
            last = match.end()
    return "".join(out) + escape(text[last:])


def source_panel(article: Article, start: int, end: int,
                 versions: list[dict[str, Any]] = ()) -> str:
    """The whole article with the cited span marked; app.js scrolls the mark into view.
    Earlier ``versions`` (``Library.versions``) follow, newest first, each with what changed
    after it, folded."""
    start, end = max(0, min(start, len(article.text))), max(0, min(end, len(article.text)))
    meta = " · ".join(escape(v) for v in (article.id, article.date, article.doi,
                                          ", ".join(article.authors[:3])) if v)
    text = (f"{escape(article.text[:start])}<mark id='cited-span'>"
            f"{escape(article.text[start:end])}</mark>{escape(article.text[end:])}")
    # only web links: a URL from an article file is never a javascript: or file: link
    link = (f" · <a href='{escape(article.url)}' target='_blank' rel='noopener noreferrer'>"
            f"{escape(article.url)}</a>") if is_web_url(article.url) else ""
    canonical = article.extra.get("canonical", "")
    if canonical and canonical != article.url:  # the page's own claim, shown as text
        link += f" (the page calls itself {escape(canonical)})"
    earlier = "".join(
        f"<details class='version'><summary>Version {int(v['number'])}, replaced "
        f"{escape(v['replaced_at'][:16])}: {escape('; '.join(describe(v['changes'])))}"
        f"</summary><div class='article-text'>{escape(v['text'])}</div></details>"
        for v in reversed(list(versions)))
    return (f"<div class='source'><h3>{escape(article.title or article.id)}</h3>"
            f"<p class='meta'>{meta}{link} · characters {start}–{end}</p>"
            f"<div class='article-text'>{text}</div>{earlier}</div>")


def compare_html(table: dict[str, Any]) -> str:
    """A comparison (``rag compare`` JSON) as a table: one row per point, one column per
    article; each filled cell links to its sentence in the article; a row whose cells
    contradict each other is marked."""
    ids = table["articles"]
    head = "".join(f"<th>{escape(table['titles'].get(a, a))}</th>" for a in ids)
    rows = []
    for row in table["rows"]:
        cells = []
        for article_id in ids:
            cell = row["cells"].get(article_id)
            if not cell:
                cells.append("<td class='not-reported'>not reported</td>")
                continue
            link = source_link(article_id, int(cell["start"]), int(cell["end"]), "[open]")
            cells.append(f"<td data-status='{escape(cell['status'])}'>{escape(cell['text'])} "
                         f"{link}</td>")
        mark = " <b class='disagree'>⚠ the articles disagree</b>" if row["disagree"] else ""
        rows.append(f"<tr{' class=disagree' if row['disagree'] else ''}>"
                    f"<th>{escape(row['point'])}{mark}</th>{''.join(cells)}</tr>")
    return (f"<table class='compare'><thead><tr><th>point</th>{head}</tr></thead>"
            f"<tbody>{''.join(rows)}</tbody></table>")


def digest_frame(page: str) -> str:
    """A digest page (``rag digest`` HTML) in a sandboxed frame: its script may open and
    highlight spans inside the frame, nothing else (no access to the app's origin)."""
    return (f"<iframe title='digest' sandbox='allow-scripts' srcdoc='{html.escape(page)}' "
            "style='width:100%;height:70vh;border:1px solid #ddd'></iframe>")


def summary_html(summary: dict[str, Any]) -> str:
    """A stored summary (``rag summarize`` JSON): each sentence the article bears out, with
    links to the article sentences it rests on; how many draft sentences were left out."""
    article_id = str(summary.get("article_id", ""))
    parts = [f"<h3>{escape(summary.get('title') or article_id)}</h3>"]
    shown = checked_sentences(summary)
    if not shown:
        parts.append(f"<p class='empty-summary'><strong>{escape(NOTHING_BORNE_OUT)}</strong></p>")
    for role, heading in SECTIONS.items():
        sentences = [s for s in shown if s.get("role") == role]
        if not sentences:
            continue
        items = []
        for s in sentences:
            links = " ".join(source_link(article_id, int(span["start"]), int(span["end"]),
                                         f"[{i}]")
                             for i, span in enumerate(s.get("spans", []), start=1))
            items.append(f"<li>{escape(s.get('text', ''))} {links}</li>")
        parts.append(f"<h4>{heading}</h4><ul>{''.join(items)}</ul>")
    trimmed = sum(1 for s in shown if s.get("drafted"))
    if trimmed:
        parts.append(f"<p class='meta'>{trimmed} sentence(s) trimmed to the part the article "
                     "bears out.</p>")
    dropped = summary.get("dropped") or []
    if dropped:
        parts.append(f"<p class='meta'>{len(dropped)} sentence(s) of the draft left out: the "
                     "article does not bear them out.</p>")
    parts.append(f"<p class='meta'>model {escape(summary.get('model', ''))} · "
                 f"{escape(summary.get('seconds', ''))} s</p>")
    return "".join(parts)


_STATUS_TEXT = {"supported": "Supported by the articles",
                "contradicted": "Contradicted by the articles",
                "overstated": "Overstated: the articles are more careful",
                "not found": "Not found in the articles"}


def check_html(result: dict[str, Any]) -> str:
    """A checked statement (``rag check`` JSON): its status, the reason in the article's own
    words, and each sentence it was judged against, linked into its article."""
    status = str(result.get("status", ""))
    reason = f"<p>{escape(result['reason'])}</p>" if result.get("reason") else ""
    quotes = "".join(
        f"<li>“{escape(c['text'])}” "
        f"{source_link(c['article_id'], int(c['start']), int(c['end']), '[open]')} "
        f"<span class='meta'>{escape(c.get('title') or c['article_id'])}</span></li>"
        for c in result.get("citations", []))
    return (f"<div class='check' data-status='{escape(status)}'><p><b class='status'>"
            f"{escape(_STATUS_TEXT.get(status, status))}</b></p>{reason}"
            + (f"<ul class='quotes'>{quotes}</ul>" if quotes else "") + "</div>")


def ingest_report_html(report: IngestReport) -> str:
    counts = (f"Added {report.added}, updated {report.updated}, unchanged {report.unchanged}, "
              f"removed {report.removed}; embedded {report.chunks_embedded} passages.")
    failed = "".join(f"<li><code>{escape(f.path)}</code>: {escape(f.reason)}</li>"
                     for f in report.failed)
    duplicates = "".join(f"<li>{escape(a)} ≈ {escape(b)}</li>" for a, b in report.near_duplicates)
    renamed = "".join(f"<li><code>{escape(r.given)}</code> → <code>{escape(r.used)}</code></li>"
                      for r in report.replaced_ids)
    return (f"<p>{counts}</p>"
            + (f"<p><b>Not ingested:</b></p><ul>{failed}</ul>" if failed else "")
            + (f"<p><b>Stored under the id:</b></p><ul>{renamed}</ul>" if renamed else "")
            + (f"<p><b>Near-duplicates:</b></p><ul>{duplicates}</ul>" if duplicates else ""))


def error_html(message: str) -> str:
    return f"<p class='error'>⚠ {escape(message)}</p>"
