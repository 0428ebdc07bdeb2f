"""What the app shows: escaped untrusted text, citation links that resolve to exact spans."""

from __future__ import annotations

import pytest

from rag import Answer, AnswerSentence, Article, Chunk, Citation, Hit
from ui import render

PAYLOAD = '<img src=x onerror="alert(1)">[click](javascript:alert(2))'


def _answer(stage: str = "final") -> Answer:
    hit = Hit(Chunk("a/b c", 10, 60, "x" * 50), PAYLOAD, 0.9)
    citations = [Citation(1, "a/b c", PAYLOAD, 20, 30, "y" * 10, 0.8),
                 Citation(1, "a/b c", PAYLOAD, 40, 50, "z" * 10, 0.7)]
    sentences = [AnswerSentence("First claim.", [1], True, [0]),
                 AnswerSentence("Second claim.", [1], True, [1]),
                 AnswerSentence(PAYLOAD, [], False, [])]
    return Answer("q", "q", "First claim. [1] Second claim. [1]", False, "Quote [1]",
                  sentences, citations, [hit], {}, stage)


def test_each_sentence_links_to_its_own_supporting_span():
    html = render.answer_html(_answer(), {})
    first = render.source_link("a/b c", 20, 30, "[1]")
    second = render.source_link("a/b c", 40, 50, "[1]")
    assert html.index(first) < html.index("Second claim.") < html.index(second)


@pytest.mark.parametrize("stage", ["extractive", "generating", "final"])
def test_untrusted_text_is_escaped_at_every_stage(stage: str):
    answer = _answer(stage)
    answer.answer = answer.extractive = PAYLOAD
    html = render.answer_html(answer, {"a/b c": PAYLOAD})
    assert "<img" not in html and "](javascript" not in html
    assert "&lt;img" in html


def test_unsupported_sentence_is_marked():
    assert "not supported by the articles" in render.answer_html(_answer(), {})


def test_refusal_lists_the_closest_passages():
    answer = _answer()
    answer.refused, answer.answer = True, "The articles do not say."
    html = render.answer_html(answer, {})
    assert "do not say" in html and "Closest passages" in html


def test_source_link_round_trips_odd_article_ids():
    link = render.source_link("dir/ü é#1", 5, 9, "[1]")
    href = link.split('href="')[1].split('"')[0]
    assert render.parse_source_request(f"{href}#12345") == ("dir/ü é#1", 5, 9)
    with pytest.raises(ValueError):
        render.parse_source_request("#source/only-two/parts")


def test_source_panel_marks_exactly_the_span_and_escapes_the_article():
    article = Article("id", "before <b>cited</b> after", title=PAYLOAD)
    html = render.source_panel(article, 7, 19)
    assert "<mark id='cited-span'>&lt;b&gt;cited&lt;/b&gt;</mark>" in html
    assert "<img" not in html


def test_summary_shows_checked_sentences_linked_to_their_spans_and_counts_the_rest():
    summary = {"article_id": "id", "title": "T", "model": "m", "seconds": 1,
               "sentences": [{"text": "Overview here.", "role": "overview",
                              "status": "supported", "spans": [{"start": 0, "end": 5}]}],
               "dropped": [{"text": PAYLOAD, "role": "finding", "status": "contradicted",
                            "reason": "the article says “35%”"}]}
    html = render.summary_html(summary)
    assert render.source_link("id", 0, 5, "[1]") in html
    assert "1 sentence(s) of the draft left out" in html and "<img" not in html


@pytest.mark.parametrize(("url", "linked"), [
    ("https://news.example.org/kelp?a=1&b=2", True),
    ("javascript:alert(1)", False),
    ("file:///etc/passwd", False),
])
def test_source_panel_links_only_the_articles_web_address(url: str, linked: bool):
    article = Article(id="kelp", text="Kelp forests recover.", title="Kelp", url=url)
    html = render.source_panel(article, 0, 4)
    assert (f"href='{url.replace('&', '&amp;')}'" in html) == linked
    assert "href='javascript" not in html and "href='file" not in html


def test_source_panel_offers_each_earlier_version_with_what_changed():
    from rag.index.versions import changes

    old = "The death toll rose to 12. <b>Roads</b> closed."
    article = Article("flood", "The death toll rose to 15. <b>Roads</b> closed.", "Floods")
    version = {"number": 1, "replaced_at": "2026-11-30T10:00:00+00:00", "text": old,
               "changes": changes(old, article.text)}
    html = render.source_panel(article, 0, 5, [version])
    assert "Version 1, replaced 2026-11-30T10:00: death toll rose 12 → 15" in html
    assert "The death toll rose to 12. &lt;b&gt;Roads&lt;/b&gt; closed." in html
    assert "<b>Roads" not in html
    assert "<details" not in render.source_panel(article, 0, 5)


def test_compare_table_escapes_cells_links_each_sentence_and_marks_disagreement():
    table = {"articles": ["a", "b"], "titles": {"a": PAYLOAD, "b": "B"},
             "rows": [{"point": "main outcome", "disagree": True,
                       "cells": {"a": {"text": PAYLOAD, "start": 3, "end": 9,
                                       "status": "supported"}, "b": None}}]}
    html = render.compare_html(table)
    assert "<img" not in html and render.source_link("a", 3, 9, "[open]") in html
    assert "not reported" in html and "the articles disagree" in html


def test_a_verdict_leads_with_its_own_words_as_the_cli_prints_them():
    answer = _answer()
    answer.verdict, answer.route = "no", "extractive"
    answer.answer = "No, not yet: the study was in animals. Quoted from the articles: “y” [1]"
    html = render.answer_html(answer, {})
    assert "<b class='verdict'>No, not yet: the study was in animals.</b>" in html
    answer.verdict, answer.answer = "yes", "Yes. Quoted from the articles: “y” [1]"
    assert "<b class='verdict'>Yes.</b>" in render.answer_html(answer, {})
