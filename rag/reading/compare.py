"""Several articles side by side: one row per point (who was studied, the design, how many,
the main outcome, safety, caveats — or the reader's own question first), one column per
article. Each cell is the article's own sentence worded as answering the point (design
words, a count of who was studied, a finding…; for the question, the finding that supports
it best), with its span, checked by the claim check against the article; a point no
sentence answers is "not reported". Cells of one row that contradict each other
(``rag.reading.disagree``) mark the row.
Nothing is written by a model: every filled cell can be opened in its article.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from rag.core.errors import RagError
from rag.core.types import MAX_ARTICLES, MIN_ARTICLES, Article
from rag.reading.check import judge
from rag.reading.disagree import disagree_on
from rag.reading.roles import paragraph_of, role
from rag.reading.support import Evidence, SupportScorer, article_sentences
from rag.reading.verifier import PairReader

_NOT_ANSWERING = ("purpose", "method")
"""Roles whose sentences cannot answer a question or give an outcome (a press article's
findings often read as background to ``rag.reading.roles``: only these are left out)."""

POINTS = {
    "population": re.compile(
        r"\b(patients?|participants?|subjects?|volunteers?|adults?|children|women|men|infants?|"
        r"rats?|mice|mouse|animals?|dogs?|pigs?|cells?|residents?|students?|people|cohort of)\b",
        re.I),
    "design": re.compile(
        r"\b(randomi[sz]ed|trial|cohort|retrospective|prospective|case[- ]control|"
        r"cross[- ]sectional|meta-analysis|systematic review|survey|observational|"
        r"longitudinal|double[- ]blind|placebo|in vitro|in vivo|model|experiment\w*|"
        r"case series|registry|reanaly[sz]\w*)\b", re.I),
    "sample size": None,  # a count of who or what was studied: _WHO
    "main outcome": re.compile(
        r"\b(significant\w*|increased|decreased|reduced|improved|lowered|raised|rose|fell|"
        r"higher|lower|more|fewer|associated|no (significant )?difference|did not|"
        r"effective|restored?d?|recovered|odds ratio|hazard ratio|risk)\b|%", re.I),
    "safety": re.compile(
        r"\b(adverse|side[- ]effects?|safety|safe|complications?|toxicit\w*|tolerated|harms?|"
        r"rejection|tumou?r formation|deaths?|mortality|bleeding|infections?)\b", re.I),
    "caveats": re.compile(
        r"\b(limitations?|limited|caution\w*|further (research|studies|study|work)|"
        r"(is|are|remains?) (unclear|unknown|needed)|needed|larger|small sample|preliminary|"
        r"not yet|long-term effects|should be confirmed|warrant\w*)\b", re.I),
}
"""Each standard point and the wording a sentence answering it has (candidates are then
ranked by their closeness to the point's name)."""
_ENROLLED = re.compile(
    r"\b(studied|enrolled|included|recruited|randomi[sz]ed|participated|followed|assigned|"
    r"underwent|employed|used|involved|consecutive|surveyed|examined)\b", re.I)
_PREFERRED = {"population": _ENROLLED, "sample size": _ENROLLED, "design": _ENROLLED}
"""Of the sentences worded for a point, those that also say what the study did come first
("We studied 25 consecutive patients" over "Of the 10 patients with…")."""
_WHO = re.compile(
    r"\b(\d[\d,]*|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|twenty|thirty|"
    r"forty|fifty|sixty|hundred)\s+(?:[\w-]+\s+){0,3}?(patients?|participants?|subjects?|"
    r"volunteers?|adults?|children|women|men|infants?|rats?|mice|animals?|dogs?|pigs?|"
    r"residents?|students?|people|persons|individuals|respondents|cases|eyes|hospitals?)\b",
    re.I)
"""A count of who or what was studied ("25 consecutive adult patients"), not for how long."""
ASKED = 0.35
"""The support a sentence needs from the reader's question to fill that row's cell (the
refusal threshold of answers): below it, "not reported"."""


@dataclass
class Comparison:
    """The table: ``rows`` of ``{"point", "cells": {id: cell | None}, "disagree"}``, a cell
    being ``{"text", "start", "end", "status"}``."""

    articles: list[str]
    titles: dict[str, str]
    rows: list[dict[str, Any]] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {"articles": self.articles, "titles": self.titles, "rows": self.rows}


def compare_articles(articles: list[Article], scorer: SupportScorer, threshold: float,
                     question: str = "", verifier: PairReader | None = None) -> Comparison:
    """The comparison of ``articles`` (2 to 6), the ``question`` as the first row; each
    cell's status by the claim check (with ``verifier``, the trained one's reading too)."""
    if not MIN_ARTICLES <= len(articles) <= MAX_ARTICLES:
        raise RagError(f"compare takes {MIN_ARTICLES} to {MAX_ARTICLES} articles, "
                       f"not {len(articles)}")
    points = ([question] if question.strip() else []) + list(POINTS)
    table = Comparison([a.id for a in articles], {a.id: a.title or a.id for a in articles})
    sentences = {a.id: article_sentences(a) for a in articles}
    for point in points:
        cells = {}
        for article in articles:
            evidence = sentences[article.id]
            chosen = _asked(point, evidence, scorer) if point == question else \
                _answering(point, evidence, scorer)
            cells[article.id] = _cell(chosen, evidence, scorer, threshold, verifier) \
                if chosen else None
        filled = [c["text"] for c in cells.values() if c]
        disagree = any(disagree_on(a, b, scorer) for i, a in enumerate(filled)
                       for b in filled[i + 1:])
        table.rows.append({"point": point, "cells": cells, "disagree": disagree})
    return table


def _asked(question: str, evidence: list[Evidence], scorer: SupportScorer) -> Evidence | None:
    """The sentence that best answers the reader's question, if it does well enough."""
    usable = [e for e in evidence if role(e.text, paragraph_of(e)) not in _NOT_ANSWERING]
    if not usable:
        return None
    scores = scorer.scores([question], usable)[0]
    best = int(np.argmax(scores))
    return usable[best] if scores[best] >= ASKED else None


def _answering(point: str, evidence: list[Evidence], scorer: SupportScorer) -> Evidence | None:
    """Among the sentences worded as answering ``point``, the one closest to it (a main
    outcome is not a purpose or method, and a conclusion comes first)."""
    if point == "sample size":
        candidates = [e for e in evidence if _WHO.search(e.text)]
    else:
        candidates = [e for e in evidence if POINTS[point].search(e.text)]
    if point in _PREFERRED:
        candidates = [e for e in candidates if _PREFERRED[point].search(e.text)] or candidates
    if point == "main outcome":
        roles = {id(e): role(e.text, paragraph_of(e)) for e in candidates}
        candidates = [e for e in candidates if roles[id(e)] not in _NOT_ANSWERING]
        concluding = [e for e in candidates if roles[id(e)] == "conclusion"]
        candidates = concluding or candidates
    if not candidates:
        return None
    closeness = scorer.embed([point]) @ scorer.embed([e.text for e in candidates]).T
    return candidates[int(np.argmax(closeness[0]))]


def _cell(sentence: Evidence, evidence: list[Evidence], scorer: SupportScorer,
          threshold: float, verifier: PairReader | None) -> dict[str, Any]:
    """A cell: the sentence, its span and what the claim check says of it in its article."""
    check = judge(sentence.text, evidence, scorer.scores([sentence.text], evidence)[0],
                  threshold, verifier=verifier)
    return {"text": sentence.text, "start": sentence.start, "end": sentence.end,
            "status": check.status}


def render_markdown(table: Comparison) -> str:
    """The table in Markdown: a cell is its sentence and its characters in the article."""
    head = "| point | " + " | ".join(_cell_text(table.titles[a]) for a in table.articles) + " |"
    lines = [head, "|" + " --- |" * (len(table.articles) + 1)]
    for row in table.rows:
        cells = [(f"{_cell_text(c['text'])} (`{a}` chars {c['start']}–{c['end']})"
                  if (c := row["cells"][a]) else "not reported") for a in table.articles]
        mark = " ⚠ disagree" if row["disagree"] else ""
        lines.append(f"| {_cell_text(row['point'])}{mark} | " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def _cell_text(text: str) -> str:
    """Text safe in a Markdown table cell: one line, pipes escaped."""
    return " ".join(text.split()).replace("|", "\\|")
