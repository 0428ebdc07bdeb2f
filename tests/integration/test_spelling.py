"""A reader's spelling does not decide the answer: dev questions re-spelt the British way
("hemorrhage" → "haemorrhage", "pediatric" → "paediatric") get the answer their American
spelling gets — the same refusal or not, the same verdict, the same first article."""

from __future__ import annotations

import json
import re

import pytest
from breame.data.spelling_constants import AMERICAN_ENGLISH_SPELLINGS

from rag import Library, Settings
from rag.core.text import _MORE_BRITISH
from tests.conftest import EVAL_CORPUS, jsonl_lines

pytestmark = [pytest.mark.integration,
              pytest.mark.skipif(not EVAL_CORPUS.exists(),
                                 reason="needs ../shared/eval (the evaluation data)")]
QUESTIONS = EVAL_CORPUS.parent / "questions-dev.jsonl"
BRITISH = {**AMERICAN_ENGLISH_SPELLINGS, **{a: b for b, a in _MORE_BRITISH.items()}}


def british(text: str) -> str:
    def swap(match: re.Match) -> str:
        word = match.group()
        spelt = BRITISH.get(word.lower())
        if spelt is None:
            return word
        return spelt.capitalize() if word[0].isupper() else spelt

    return re.sub(r"[A-Za-z]+", swap, text)


@pytest.fixture(scope="module")
def respelt(tmp_path_factory: pytest.TempPathFactory) -> tuple[Library, list[dict]]:
    """The dev questions a British reader would spell differently, and an index of their
    articles among 200 others."""
    rows = [json.loads(line) for line in jsonl_lines(QUESTIONS)]
    wanted = [r for r in rows if british(r["question"]) != r["question"]]
    needed = {a for r in wanted for a in r["evidence_article_ids"]}
    articles = [json.loads(line) for line in jsonl_lines(EVAL_CORPUS)]
    kept = [a for a in articles if a["id"] in needed] + \
        [a for a in articles if a["id"] not in needed][:200]
    folder = tmp_path_factory.mktemp("respelt")
    (folder / "corpus.jsonl").write_text("".join(json.dumps(a) + "\n" for a in kept))
    library = Library.open(Settings.load({"index": folder / "index"}, env={}))
    library.ingest([folder / "corpus.jsonl"])
    return library, wanted


def test_british_and_american_spellings_get_the_same_answer(respelt):
    library, questions = respelt
    assert len(questions) >= 50
    differ = []
    for row in questions:
        ours, theirs = (library.ask(q, generate=False)
                        for q in (row["question"], british(row["question"])))
        same = (ours.refused, ours.verdict, ours.hits[0].chunk.article_id) == \
            (theirs.refused, theirs.verdict, theirs.hits[0].chunk.article_id)
        if not same:
            differ.append((row["question"], ours.refused, theirs.refused, ours.verdict,
                           theirs.verdict))
    assert differ == []

