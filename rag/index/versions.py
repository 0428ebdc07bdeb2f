"""What changed between two versions of an article: sentences added and removed, sentences
reworded, and numbers changed ("deaths 12 → 15"), each located in the version it is in, so
a reader can be shown both.

Sentences are matched exactly first; a removed and an added sentence that share most of
their words are one sentence reworded, and a number that took another's place in it is a
changed number, named by the words before it.
"""

from __future__ import annotations

from difflib import SequenceMatcher
from typing import Any

from rag.core.text import STOPWORDS, numbers, sentence_spans, words

REWORDED = 0.6
"""The word-sequence similarity at which a removed and an added sentence are one sentence
reworded rather than two different ones."""
_CONTEXT_WORDS = 3


def changes(old: str, new: str) -> dict[str, Any]:
    """``{"added": [span], "removed": [span], "reworded": [{"old": span, "new": span}],
    "numbers": [{"from", "to", "context", "old": span, "new": span}]}``; a span is
    ``{"text", "start", "end"}`` in its own version (``removed`` and ``old``: the old one)."""
    before = [_span(old, a, b) for a, b in sentence_spans(old)]
    after = [_span(new, a, b) for a, b in sentence_spans(new)]
    kept = {s["text"] for s in before} & {s["text"] for s in after}
    removed = [s for s in before if s["text"] not in kept]
    added = [s for s in after if s["text"] not in kept]
    reworded, found = [], []
    for gone in list(removed):
        match = max(added, key=lambda s: _similarity(gone["text"], s["text"]), default=None)
        if match is None or _similarity(gone["text"], match["text"]) < REWORDED:
            continue
        removed.remove(gone)
        added.remove(match)
        reworded.append({"old": gone, "new": match})
        found += _numbers_changed(gone, match)
    return {"added": added, "removed": removed, "reworded": reworded, "numbers": found}


def describe(change: dict[str, Any]) -> list[str]:
    """The change in short lines a reader scans: numbers first, then counts of sentences."""
    lines = [f"{n['context']} {n['from']} → {n['to']}".strip() for n in change["numbers"]]
    for key, label in (("added", "added"), ("removed", "removed"), ("reworded", "reworded")):
        if change[key]:
            lines.append(f"{len(change[key])} sentence(s) {label}")
    return lines


def _span(text: str, start: int, end: int) -> dict[str, Any]:
    return {"text": text[start:end], "start": start, "end": end}


def _similarity(a: str, b: str) -> float:
    return SequenceMatcher(None, words(a), words(b), autojunk=False).ratio()


def _numbers_changed(old: dict[str, Any], new: dict[str, Any]) -> list[dict[str, Any]]:
    """Numbers of the old sentence whose place the new sentence gives another number."""
    was, now = numbers(old["text"]), numbers(new["text"])
    left = [q for q in was if not any(q.matches(n) or n.matches(q) for n in now)]
    right = [q for q in now if not any(q.matches(w) or w.matches(q) for w in was)]
    out = []
    for first, second in zip(left, right, strict=False):
        before = [w for w in words(new["text"][: second.start]) if w not in STOPWORDS]
        context = " ".join(before[-_CONTEXT_WORDS:])
        out.append({"from": first.text, "to": second.text, "context": context,
                    "old": _span_of(old, first.start, first.end),
                    "new": _span_of(new, second.start, second.end)})
    return out


def _span_of(sentence: dict[str, Any], start: int, end: int) -> dict[str, Any]:
    """A number's span in its version's text (``start``/``end``: within the sentence)."""
    return {"text": sentence["text"][start:end], "start": sentence["start"] + start,
            "end": sentence["start"] + end}
