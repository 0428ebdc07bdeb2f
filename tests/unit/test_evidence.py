"""The evidence-first prompt: pointed sentences within a budget, each an exact article span."""

from __future__ import annotations

from rag.core.types import Chunk, Hit
from rag.reading.evidence import on_subject, select_evidence, tokens
from rag.reading.support import SupportScorer
from tests.fakes import HashingEmbedder

ARTICLE = ("Rats with ovarian failure were given stem cells. Hormone levels were measured "
           "monthly. The treatment rebalanced angiopoietin 1 and angiopoietin 2 in the ovary. "
           "These changes restored blood vessel growth. Funding came from a national grant. "
           "The authors declare no conflicts.")
OTHER = "Soil bacteria fix nitrogen for legumes. Farmers may need fewer fertilizers."
SCORER = SupportScorer(HashingEmbedder())


def hits() -> list[Hit]:
    return [Hit(Chunk("ovary", 50, 50 + len(ARTICLE), ARTICLE, id=1), "Ovary", 1.0),
            Hit(Chunk("soil", 0, len(OTHER), OTHER, id=2), "Soil", 0.5)]


def test_items_are_exact_spans_of_their_passages_within_the_budget():
    items = select_evidence("Which angiopoietins did the treatment rebalance?", hits(), SCORER,
                            budget=30)
    assert items and sum(tokens(i.chunk.text) for i in items) <= 30
    for item in items:
        source = ARTICLE if item.chunk.article_id == "ovary" else OTHER
        offset = 50 if item.chunk.article_id == "ovary" else 0
        assert source[item.chunk.start - offset:item.chunk.end - offset] == item.chunk.text
    assert "angiopoietin 1 and angiopoietin 2" in items[0].chunk.text
    assert all("Funding" not in i.chunk.text for i in items)


def test_a_sentence_that_leans_back_brings_the_one_before_it():
    items = select_evidence("What restored blood vessel growth?", hits(), SCORER, budget=60)
    joined = " ".join(i.chunk.text for i in items)
    assert "These changes restored blood vessel growth." in joined
    assert "rebalanced angiopoietin 1 and angiopoietin 2 in the ovary. These changes" in joined


def test_room_in_the_budget_is_not_filled_with_what_is_beside_the_point():
    items = select_evidence("Which angiopoietins did the treatment rebalance?", hits(), SCORER,
                            budget=10_000)
    joined = " ".join(i.chunk.text for i in items)
    assert "rebalanced angiopoietin 1 and angiopoietin 2" in joined
    assert "Soil bacteria" not in joined and "Funding" not in joined


def test_sentences_as_relevant_as_the_best_are_all_kept_in_article_order():
    question = "Hormone levels and angiopoietin in the ovary"
    items = select_evidence(question, hits(), SCORER, budget=10_000)
    ovary = [i for i in items if i.chunk.article_id == "ovary"]
    assert len(ovary) == 1 and "Hormone levels were measured monthly. The treatment " \
        "rebalanced angiopoietin 1 and angiopoietin 2 in the ovary." in ovary[0].chunk.text


def test_passages_of_other_articles_count_only_if_they_hold_the_questions_wording():
    question = "Which angiopoietins did the treatment rebalance?"
    (ovary, _), second = hits(), Hit(Chunk("ovary", 0, 9, "Rats fed.", id=3), "Ovary", 0.4)
    neighbour = Hit(Chunk("vessels", 0, 40, "The treatment of vessels in older adults", id=4),
                    "Vessels", 0.9)
    review = Hit(Chunk("review", 0, 44, "A review: angiopoietins rebalance in rats.", id=5),
                 "Review", 0.3)
    kept = on_subject(question, [ovary, neighbour, second, review], SCORER, coverage=0.34)
    # the first article's passages stay (it passed the gate), however little they hold
    assert [h.chunk.id for h in kept] == [1, 3, 5]
    assert on_subject(question, [], SCORER, coverage=0.34) == []
