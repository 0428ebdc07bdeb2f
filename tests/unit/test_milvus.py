"""What only the Milvus store does: rows shared by index generations, its own BM25, and what
a write cut short leaves behind (run on a real Milvus Lite file)."""

from __future__ import annotations

from pathlib import Path

import pytest

from rag import Filters, IndexCorrupt, Library, RagError, Settings, reindex
from rag.core.types import Article, Chunk
from rag.index.ingest import signature
from rag.index.vectorstores.milvus import MilvusStore
from tests.fakes import HashingEmbedder
from tests.unit.test_library import STORIES, write_articles


@pytest.fixture
def library(tmp_path: Path) -> Library:
    settings = Settings.load({"statement_verifier": "off",
                              "index": tmp_path / "index", "vector_store": "milvus"}, env={})
    library = Library.open(settings, HashingEmbedder())
    write_articles(tmp_path / "docs", STORIES)
    library.ingest([tmp_path / "docs"])
    return library


def rows_in_collection(library: Library) -> int:
    store = library.store.vectors
    assert isinstance(store, MilvusStore)
    return int(store._client.query(store.collection, output_fields=["count(*)"])[0]["count(*)"])


def _article(article_id: str, text: str) -> tuple:
    """What ``Writer.upsert`` takes for a one-chunk article."""
    chunk = Chunk(article_id, 0, len(text), text)
    return (Article(id=article_id, text=text, title=article_id), "hash", signature(text),
            [chunk], HashingEmbedder().embed([text]))


def test_keyword_search_is_milvus_bm25_with_english_stems(library: Library):
    soil = {c.id for c in library.store.chunks() if c.article_id == "soil"}
    found = library.store.vectors.keyword_search("fertilizer", 5, None)  # text: "fertilizers"
    assert {i for i, _ in found} == soil
    assert library.store.vectors.keyword_search("the and of", 5, None) == []


def test_an_unfinished_write_is_invisible_to_readers(library: Library, monkeypatch):
    monkeypatch.setattr(MilvusStore, "abort", lambda self: None)  # as if killed mid-write
    with pytest.raises(RuntimeError), library.store.transaction(64) as writer:
        writer.upsert(*_article("whale", "Whales sing long songs in the deep ocean."))
        orphans = writer.db.execute("SELECT id FROM chunks WHERE article_id = 'whale'").fetchall()
        raise RuntimeError("killed")
    monkeypatch.undo()
    assert orphans and rows_in_collection(library) == len(library.store.chunks()) + len(orphans)
    assert all(h.chunk.article_id != "whale" for h in library.search("whales sing songs"))
    assert library.check() == []
    library.remove(["heart"])  # the next write deletes the orphan rows first
    assert rows_in_collection(library) == len(library.store.chunks())
    assert library.check() == []


def test_deletions_cut_short_by_a_kill_are_skipped_then_finished(library: Library,
                                                                  monkeypatch):
    monkeypatch.setattr(MilvusStore, "published", lambda self, folder: None)  # killed there
    library.remove(["soil"])
    monkeypatch.undo()
    assert rows_in_collection(library) > len(library.store.chunks())  # rows still there
    reader = Library.open(library.settings, HashingEmbedder())
    assert reader.check() == []
    assert all(h.chunk.article_id != "soil" for h in reader.search("soil bacteria nitrogen"))
    reader.remove(["heart"])  # the next writer finishes the deletions first
    assert rows_in_collection(reader) == len(reader.store.chunks())


def test_a_dropped_collection_gives_a_one_line_error_and_reindex_repairs_it(library):
    store = library.store.vectors
    store._client.drop_collection(store.collection)
    with pytest.raises(IndexCorrupt, match="is gone; run 'rag reindex'"):
        Library.open(library.settings, HashingEmbedder())
    reindex(library.settings, HashingEmbedder())
    repaired = Library.open(library.settings, HashingEmbedder())
    assert repaired.check() == []
    assert repaired.search("soil bacteria nitrogen")[0].chunk.article_id == "soil"


def test_a_filter_value_cannot_change_the_milvus_expression(library: Library):
    with pytest.raises(RagError, match="is not an article id or an ISO date"):
        library.search("soil", filters=Filters(date_from='2020" or id > 0 or date == "'))
