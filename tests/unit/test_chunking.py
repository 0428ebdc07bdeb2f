"""Chunks are sentence-aligned, token-bounded, overlapping, and their offsets are exact."""

from __future__ import annotations

from pathlib import Path

import pytest

from rag.core.text import sentence_spans
from rag.core.types import Article
from rag.index.chunking import chunk_article
from rag.sources.corpus import discover, read_file
from tests.conftest import CORPUS
from tests.fakes import HashingEmbedder

TOKENIZER = HashingEmbedder()


def corpus_articles() -> list[Article]:
    files, _ = discover([CORPUS])
    return [a for f in files for a in read_file(f, 20_000_000).articles]


@pytest.mark.parametrize("max_tokens,overlap", [(160, 32), (40, 10), (12, 0)])
def test_every_chunk_of_every_bundled_article_has_exact_offsets(max_tokens, overlap):
    for article in corpus_articles():
        chunks = chunk_article(article, TOKENIZER, max_tokens, overlap)
        assert chunks, article.id
        for chunk in chunks:
            assert article.text[chunk.start : chunk.end] == chunk.text
            assert chunk.article_id == article.id


def test_chunks_respect_the_token_bound_and_cover_the_whole_text():
    article = Article("a", " ".join(f"Sentence number {i} is here." for i in range(60)))
    chunks = chunk_article(article, TOKENIZER, max_tokens=30, overlap_tokens=8)
    for chunk in chunks:
        assert len(TOKENIZER.token_spans([chunk.text])[0]) <= 30
    covered = set()
    for chunk in chunks:
        covered.update(range(chunk.start, chunk.end))
    assert all(i in covered for i, ch in enumerate(article.text) if not ch.isspace())


def test_consecutive_chunks_share_whole_sentences():
    article = Article("a", " ".join(f"Fact {i} holds." for i in range(40)))
    chunks = chunk_article(article, TOKENIZER, max_tokens=20, overlap_tokens=5)
    for left, right in zip(chunks, chunks[1:], strict=False):
        assert right.start < left.end  # overlap
        assert article.text[right.start - 1] == " " and right.text.startswith("Fact")


def test_chunks_start_and_end_on_sentence_boundaries():
    article = Article("a", "Dr. Smith et al. tested it. Rats improved.\nA heading\nMore text here.")
    starts = {s for s, _ in sentence_spans(article.text)}
    ends = {e for _, e in sentence_spans(article.text)}
    for chunk in chunk_article(article, TOKENIZER, max_tokens=10, overlap_tokens=0):
        assert chunk.start in starts and chunk.end in ends


def test_a_sentence_longer_than_the_bound_is_split_at_token_boundaries():
    article = Article("a", "word " * 100 + "end.")
    chunks = chunk_article(article, TOKENIZER, max_tokens=25, overlap_tokens=0)
    assert len(chunks) >= 4
    for chunk in chunks:
        assert article.text[chunk.start : chunk.end] == chunk.text
        assert len(TOKENIZER.token_spans([chunk.text])[0]) <= 25


def test_non_ascii_text_keeps_exact_offsets(tmp_path: Path):
    text = "Über 50 % der Fälle — ja. Ang1/Ang2 → ≈ balance. 日本語の文です。 Done."
    for chunk in chunk_article(Article("a", text), TOKENIZER, 6, 2):
        assert text[chunk.start : chunk.end] == chunk.text


def test_lower_cased_tokenised_text_is_split_at_stops_set_apart_by_spaces():
    text = ("the film has been dubbed one of the biggest of the decade . it features steven "
            "fox , edward fox . he paused . . . and left.\nWe met Dr. Smith. and then left.")
    assert [text[a:b] for a, b in sentence_spans(text)] == [
        "the film has been dubbed one of the biggest of the decade .",
        "it features steven fox , edward fox .",
        "he paused . . . and left.",  # an ellipsis does not end a sentence
        "We met Dr. Smith. and then left."]  # nor does a stop attached to its word


def test_a_paragraph_written_all_in_lower_case_is_split_at_its_stops_but_not_abbreviations():
    text = ("the watchdog took apple to court over its 4g network. apple's lawyers said (they "
            "would publish a note). mr. smith met dr. jones in the u.s. at 5 p.m. on monday. "
            "see fig. 2. it rose 5%. then it fell.\nA Paragraph with Capitals. and a stop.")
    assert [text[a:b] for a, b in sentence_spans(text)] == [
        "the watchdog took apple to court over its 4g network.",
        "apple's lawyers said (they would publish a note).",
        "mr. smith met dr. jones in the u.s. at 5 p.m. on monday.",
        "see fig. 2.", "it rose 5%.", "then it fell.",
        "A Paragraph with Capitals. and a stop."]  # capitals: the splitter's reading stands
