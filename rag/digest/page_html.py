"""The digest's HTML page, rendered from one Jinja2 template (``templates/digest.html``) with
autoescape on, so an article's ``<script>`` or a title's quote arrives as text whatever the
code that fills it forgets. ``rag.digest.page``, ``updates`` and ``disagreements`` hand it
plain values; only the marks around cited spans and the links are markup, and those come from
the template.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from jinja2 import Environment, PackageLoader

_TEMPLATES = Environment(loader=PackageLoader("rag.digest", "templates"), autoescape=True,
                         trim_blocks=True, lstrip_blocks=True)


@dataclass(frozen=True)
class Segment:
    """A run of an article's text; ``anchor`` is the id of the mark around a cited span
    ("" for plain text between them)."""

    text: str
    anchor: str = ""


def segments(text: str, spans: set[tuple[int, int]],
             anchor: Callable[[int, int], str]) -> list[Segment]:
    """``text`` cut at the cited ``spans``, each span a segment with its anchor id (of
    overlapping spans, the first keeps the mark)."""
    out, at = [], 0
    for start, end in sorted(spans):
        if start < at:
            continue
        out += [Segment(text[at:start]), Segment(text[start:end], anchor(start, end))]
        at = end
    return [*out, Segment(text[at:])]


def render_page(**page: Any) -> str:
    """The whole page: ``when``, ``groups`` (each a name and its stories), ``updates``,
    ``disagreements`` and ``nothing_borne_out`` (see the template for their fields)."""
    return _TEMPLATES.get_template("digest.html").render(**page)
