"""Batch summaries from the real default model over a real index."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from rag import Library, Settings
from rag.core.text import content_words
from tests.conftest import CORPUS, SAMPLE
from tests.processes import rag_json

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def sample_only(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """An index holding just the sample article (summarizing 41 takes ~25 min on 2 cores)."""
    root = tmp_path_factory.mktemp("summaries")
    folder = root / "articles"
    folder.mkdir()
    shutil.copy(SAMPLE, folder)
    index = root / "index"
    rag_json("ingest", str(folder), "--index", str(index), "--no-progress")
    return folder, index


def test_new_summarizes_the_sample_article_with_linked_sentences(sample_only):
    folder, index = sample_only
    report = rag_json("summarize", "--new", "--index", str(index), "--no-progress")
    assert report["failed"] == [] and len(report["summaries"]) == 1
    summary = report["summaries"][0]
    text = " ".join(s["text"] for s in summary["sentences"]).lower()
    assert "hucmsc" in text
    assert "poi" in text or "primary ovarian insufficiency" in text
    assert ("ang1" in text and "ang2" in text) or "angiopoietin" in text
    assert summary["tldr"] and summary["findings"]
    article = SAMPLE.read_text()
    threshold = Settings().support_threshold
    # what the summary shows is only what the article bears out, each sentence linked to the
    # article sentences that carry its own words; what was left out is listed with why
    for sentence in summary["sentences"]:
        assert sentence["status"] == "supported" and sentence["support"] >= threshold
        assert sentence["spans"], sentence
        for span in sentence["spans"]:
            quoted = article[span["start"]:span["end"]]
            assert content_words(sentence["text"]) & content_words(quoted), (sentence, quoted)
    assert all(d["status"] != "supported" and d["reason"] for d in summary["dropped"])
    assert len(summary["sentences"]) >= 3 * len(summary["dropped"])
    written = index / "summaries"
    assert json.loads((written / f"{SAMPLE.stem}.json").read_text())["findings"]
    assert (written / f"{SAMPLE.stem}.md").read_text().startswith("# hUCMSCs")


def test_second_new_run_does_nothing_and_a_new_article_alone_is_summarized(sample_only):
    folder, index = sample_only
    rag_json("summarize", "--new", "--index", str(index), "--no-progress",
             "--generator", "smollm2-135m")
    again = rag_json("summarize", "--new", "--index", str(index), "--no-progress")
    assert again["summaries"] == [] and again["skipped"] == [SAMPLE.stem]
    shutil.copy(CORPUS / "pubmed-17208539.md", folder)
    rag_json("ingest", str(folder), "--index", str(index), "--no-progress")
    third = rag_json("summarize", "--new", "--index", str(index), "--no-progress",
                     "--generator", "smollm2-135m")
    assert [s["article_id"] for s in third["summaries"]] == ["pubmed-17208539"]


def test_the_long_sample_article_is_drafted_from_distinct_key_sentences(sample_index):
    library = Library.open(Settings.load({"index": sample_index[0]}))
    article = library.article(SAMPLE.stem)
    excerpt = library.summarizer().excerpt(article)
    tokens = sum(len(t) for t in library.embedder.token_spans([excerpt]))
    assert tokens <= library.settings.summary_input_tokens < len(article.text.split())
    kept = [s for s in excerpt.split(". ") if s]
    assert all(s in article.text for s in kept)  # whole article sentences, nothing else
    assert "Ang1" in excerpt and "hUCMSC" in excerpt  # the study's subject and mechanism
