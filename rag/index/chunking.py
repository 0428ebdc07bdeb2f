"""Split an article into sentence-aligned, token-bounded windows with exact character offsets.

Offsets are the contract: for every chunk, ``article.text[chunk.start:chunk.end] == chunk.text``,
so a citation can highlight exactly the passage the model saw.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from rag.core.text import MAX_SENTENCE_CHARS, Span, sentence_spans
from rag.core.types import Article, Chunk


class Tokenizer(Protocol):
    def token_spans(self, texts: list[str]) -> list[list[Span]]:
        """Character spans of each text's tokens, as the embedder will see them."""
        ...


@dataclass
class SentenceUnit:
    """A sentence, or a token-bounded piece of an over-long sentence."""

    start: int
    end: int
    tokens: int


MAX_CHUNK_CHARS = 2 * MAX_SENTENCE_CHARS
"""A chunk's bound in characters, beside its bound in tokens: a word-piece tokenizer counts
a word of any length as one token, so without it a hostile article's chunk could hold
megabytes. Prose chunks of 160 word pieces stay far below it."""


def chunk_article(
    article: Article, tokenizer: Tokenizer, max_tokens: int, overlap_tokens: int,
    max_chars: int = MAX_CHUNK_CHARS,
) -> list[Chunk]:
    """Greedy windows of whole sentences up to ``max_tokens`` and ``max_chars``; consecutive
    windows share up to ``overlap_tokens`` of trailing sentences so a fact split across a
    boundary is still found."""
    units = sentence_units(article.text, tokenizer, max_tokens)
    chunks: list[Chunk] = []
    first = 0
    while first < len(units):
        last, total = first, units[first].tokens
        while last + 1 < len(units) and total + units[last + 1].tokens <= max_tokens \
                and units[last + 1].end - units[first].start <= max_chars:
            last += 1
            total += units[last].tokens
        start, end = units[first].start, units[last].end
        chunks.append(Chunk(article.id, start, end, article.text[start:end]))
        if last + 1 >= len(units):
            break
        following, shared = last + 1, 0
        while following - 1 > first and shared + units[following - 1].tokens <= overlap_tokens:
            following -= 1
            shared += units[following].tokens
        first = following
    return chunks


def sentence_units(text: str, tokenizer: Tokenizer, max_tokens: int) -> list[SentenceUnit]:
    """The sentences of ``text`` with their token counts; a sentence over ``max_tokens`` comes
    as token-bounded pieces, so every unit fits a budget of ``max_tokens``."""
    sentences = sentence_spans(text)
    token_spans = tokenizer.token_spans([text[a:b] for a, b in sentences])
    units: list[SentenceUnit] = []
    for (start, end), tokens in zip(sentences, token_spans, strict=True):
        if len(tokens) <= max_tokens:
            units.append(SentenceUnit(start, end, max(len(tokens), 1)))
            continue
        for i in range(0, len(tokens), max_tokens):
            piece = tokens[i : i + max_tokens]
            units.append(SentenceUnit(start + piece[0][0], start + piece[-1][1], len(piece)))
    return units
