"""Ingest, incremental updates, removal, retrieval and index safety, with a fake embedder."""

from __future__ import annotations

import json
import shutil
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from rag import Filters, IndexCorrupt, IndexMismatch, Library, Settings, reindex
from rag.core.errors import RagError
from tests.conftest import SAMPLE
from tests.fakes import CachingGenerator, HashingEmbedder

FAISS_ONLY = pytest.mark.parametrize("settings", ["faiss"], indirect=True)


@pytest.fixture(params=["faiss", "milvus"])
def settings(request, tmp_path: Path) -> Settings:
    """Every storage test runs on FAISS files and on Milvus (a Milvus Lite file)."""
    return Settings.load({"statement_verifier": "off",
                          "index": tmp_path / "index", "vector_store": request.param}, env={})


def write_articles(folder: Path, articles: dict[str, str]) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    for name, text in articles.items():
        (folder / f"{name}.txt").write_text(text)


STORIES = {
    "ovary": "Stem cells restored ovarian function in rats. Angiopoietin balance mattered.",
    "heart": "A new drug lowered blood pressure in older adults. Side effects were mild.",
    "soil": "Soil bacteria fix nitrogen for legumes. Farmers may use fewer fertilizers.",
}


def test_ingest_adds_articles_and_reports_counts(library: Library, corpus_copy: Path):
    report = library.ingest([corpus_copy])
    assert report.added == 41 and report.failed == [] and report.chunks_embedded > 41
    assert library.info()["articles"] == 41
    assert library.check() == []


def test_reingest_of_unchanged_folder_embeds_nothing(library: Library, corpus_copy: Path):
    library.ingest([corpus_copy])
    before = library.store.generation
    report = library.ingest([corpus_copy])
    assert (report.chunks_embedded, report.unchanged, report.added) == (0, 41, 0)
    assert library.store.generation == before  # no new index generation written


def test_changed_article_replaces_its_old_chunks(library: Library, tmp_path: Path):
    folder = tmp_path / "docs"
    write_articles(folder, STORIES)
    library.ingest([folder])
    old_ids = {c.id for c in library.store.chunks() if c.article_id == "heart"}
    (folder / "heart.txt").write_text("Completely different: whales sing long songs at night.")
    report = library.ingest([folder])
    assert (report.updated, report.unchanged) == (1, 2)
    heart = [c for c in library.store.chunks() if c.article_id == "heart"]
    assert old_ids.isdisjoint(c.id for c in heart)
    assert "whales" in heart[0].text
    assert all("blood pressure" not in h.chunk.text for h in library.search("blood pressure"))
    assert library.check() == []


def test_deleting_a_file_from_an_ingested_folder_removes_its_article(library, tmp_path):
    folder = tmp_path / "docs"
    write_articles(folder, STORIES)
    library.ingest([folder])
    (folder / "soil.txt").unlink()
    report = library.ingest([folder])
    assert report.removed == 1
    assert [a.id for a in library.articles()] == ["heart", "ovary"]


def test_a_file_that_turns_unreadable_keeps_its_previous_article(library, tmp_path):
    folder = tmp_path / "docs"
    write_articles(folder, STORIES)
    library.ingest([folder])
    (folder / "soil.txt").write_bytes(b"\x00\x01 binary now")
    report = library.ingest([folder])
    assert report.removed == 0 and len(report.failed) == 1
    assert library.article("soil") is not None


def test_remove_deletes_article_chunks_and_vectors(library: Library, tmp_path: Path):
    write_articles(tmp_path / "docs", STORIES)
    library.ingest([tmp_path / "docs"])
    result = library.remove(["ovary", "nope"])
    assert result == {"removed": 1, "not_found": ["nope"]}
    assert all(h.chunk.article_id != "ovary" for h in library.search("stem cells ovarian"))
    assert len(library.store.vectors) == len(library.store.chunks())
    assert library.check() == []


def test_bad_files_are_reported_and_the_rest_of_the_batch_is_ingested(library, tmp_path):
    folder = tmp_path / "docs"
    write_articles(folder, STORIES)
    (folder / "empty.txt").write_bytes(b"")
    (folder / "latin.txt").write_bytes("Caf\xe9".encode("latin-1"))
    report = library.ingest([folder])
    assert report.added == 3
    assert sorted(Path(f.path).name for f in report.failed) == ["empty.txt", "latin.txt"]


def test_near_duplicate_articles_are_reported(library: Library, tmp_path: Path):
    folder = tmp_path / "docs"
    text = SAMPLE.read_text()
    write_articles(folder, {**STORIES, "original": text,
                            "syndicated": text.replace("groundbreaking", "remarkable")})
    report = library.ingest([folder])
    assert report.near_duplicates == [("original", "syndicated")]


def test_same_article_id_from_two_files_is_reported_not_overwritten(library, tmp_path):
    write_articles(tmp_path / "a", {"story": "First version of the story."})
    write_articles(tmp_path / "b", {"story": "A different story entirely."})
    report = library.ingest([tmp_path / "a", tmp_path / "b"])
    assert report.added == 1
    assert "also comes from" in report.failed[0].reason


def test_search_ranks_the_matching_article_first(library: Library, tmp_path: Path):
    write_articles(tmp_path / "docs", STORIES)
    library.ingest([tmp_path / "docs"])
    hits = library.search("nitrogen fixing soil bacteria")
    assert hits[0].chunk.article_id == "soil"
    assert hits[0].title == "soil"
    assert hits[0].dense_score is not None and hits[0].sparse_score is not None


def test_one_article_cannot_fill_every_slot(library: Library, tmp_path: Path):
    long_story = " ".join(f"Ovarian stem cell finding {i} was confirmed." for i in range(200))
    write_articles(tmp_path / "docs", {**STORIES, "long": long_story})
    library.ingest([tmp_path / "docs"])
    hits = library.search("ovarian stem cell finding", k=4)
    assert sum(h.chunk.article_id == "long" for h in hits) == library.settings.per_article_cap


def test_filters_restrict_by_article_and_date(library: Library, tmp_path: Path):
    folder = tmp_path / "docs"
    folder.mkdir()
    for i, year in enumerate(["2019", "2021", "2023"]):
        (folder / f"a{i}.json").write_text(json.dumps(
            {"id": f"a{i}", "title": f"T{i}", "date": year, "text": "Stem cells help ovaries."}))
    library.ingest([folder])
    only = library.search("stem cells", filters=Filters(article_ids=["a1"]))
    assert {h.chunk.article_id for h in only} == {"a1"}
    ranged = library.search("stem cells", filters=Filters(date_from="2020", date_to="2022"))
    assert {h.chunk.article_id for h in ranged} == {"a1"}
    assert library.search("stem cells", filters=Filters(date_from="2030")) == []


def test_large_index_switches_to_ivf_and_still_finds_articles(tmp_path: Path):
    settings = Settings.load({"statement_verifier": "off",
                              "index": tmp_path / "idx", "ann_threshold": 50}, env={})
    library = Library.open(settings, HashingEmbedder())
    stories = {f"s{i}": f"Topic {i} word{i} alpha{i} beta{i}. Extra {i}." for i in range(80)}
    write_articles(tmp_path / "docs", stories)
    library.ingest([tmp_path / "docs"])
    assert library.info()["vector_index"] == "ivf"
    assert library.search("word42 alpha42 beta42")[0].chunk.article_id == "s42"
    library.remove(["s42"])
    assert library.check() == []


def test_opening_an_index_with_another_embedder_is_refused(library: Library, tmp_path):
    write_articles(tmp_path / "docs", STORIES)
    library.ingest([tmp_path / "docs"])
    with pytest.raises(IndexMismatch, match="run 'rag reindex'"):
        Library.open(library.settings, HashingEmbedder(dimension=32, name="other-model"))


def test_reindex_rebuilds_with_the_new_embedder(library: Library, tmp_path: Path):
    write_articles(tmp_path / "docs", STORIES)
    library.ingest([tmp_path / "docs"])
    other = HashingEmbedder(dimension=32, name="other-model")
    result = reindex(library.settings, other)
    assert (result["articles"], result["dimension"]) == (3, 32)
    reopened = Library.open(library.settings, other)
    assert reopened.search("soil bacteria nitrogen")[0].chunk.article_id == "soil"
    assert reopened.check() == []


@FAISS_ONLY
def test_truncated_vector_file_gives_a_one_line_error_and_reindex_repairs_it(library, tmp_path):
    write_articles(tmp_path / "docs", STORIES)
    library.ingest([tmp_path / "docs"])
    vectors = library.settings.index / library.store.generation / "vectors.faiss"
    with open(vectors, "r+b") as handle:
        handle.truncate(200)
    with pytest.raises(IndexCorrupt, match="damaged or truncated; run 'rag reindex'"):
        Library.open(library.settings, HashingEmbedder())
    reindex(library.settings, HashingEmbedder())
    assert Library.open(library.settings, HashingEmbedder()).check() == []


def test_missing_metadata_database_is_reported(library: Library, tmp_path: Path):
    write_articles(tmp_path / "docs", STORIES)
    library.ingest([tmp_path / "docs"])
    (library.settings.index / library.store.generation / "meta.sqlite").unlink()
    with pytest.raises(IndexCorrupt, match="missing .*meta.sqlite; run 'rag reindex'"):
        Library.open(library.settings, HashingEmbedder())


def test_failed_write_leaves_the_previous_generation_live(library: Library, tmp_path: Path):
    write_articles(tmp_path / "docs", STORIES)
    library.ingest([tmp_path / "docs"])
    live = library.store.generation
    with pytest.raises(RuntimeError), library.store.transaction(64) as writer:
        writer.remove("soil")
        raise RuntimeError("crash in the middle of a write")
    reopened = Library.open(library.settings, HashingEmbedder())
    assert reopened.store.generation == live and reopened.article("soil") is not None
    assert sorted(p.name for p in library.settings.index.glob("gen-*")) == [live]


def test_only_the_live_and_previous_generations_are_kept(library: Library, tmp_path: Path):
    for i in range(4):
        write_articles(tmp_path / "docs", {f"n{i}": f"Story number {i} about things."})
        library.ingest([tmp_path / "docs"])
    generations = sorted(p.name for p in library.settings.index.glob("gen-*"))
    assert len(generations) == 2 and generations[-1] == library.store.generation


class UnnormalizedEmbedder(HashingEmbedder):
    """Vectors of length 3 to 7: an embedder configured without normalisation."""

    def embed(self, texts: list[str]) -> np.ndarray:
        vectors = super().embed(texts)
        return vectors * (3.0 + np.arange(len(texts)) % 5)[:, None]


def test_vectors_are_unit_length_and_scores_are_cosines(settings: Settings, tmp_path: Path):
    library = Library.open(settings, UnnormalizedEmbedder())
    write_articles(tmp_path / "docs", STORIES)
    library.ingest([tmp_path / "docs"])
    ids = [c.id for c in library.store.chunks()]
    norms = np.linalg.norm(library.store.vectors.vectors(ids), axis=1)
    assert np.allclose(norms, 1.0, atol=1e-5)
    hit = library.search(STORIES["soil"], 1)[0]
    assert hit.chunk.article_id == "soil" and 0.99 <= hit.dense_score <= 1.0 + 1e-5
    manifest = json.loads(
        (library.settings.index / library.store.generation / "manifest.json").read_text())
    assert manifest["normalized"] is True and manifest["dimension"] == 64


def test_copied_index_folder_opens_elsewhere(library: Library, tmp_path: Path):
    write_articles(tmp_path / "docs", STORIES)
    library.ingest([tmp_path / "docs"])
    shutil.copytree(library.settings.index, tmp_path / "moved")
    moved = Library.open(replace(library.settings, index=tmp_path / "moved"), HashingEmbedder())
    assert moved.info()["articles"] == 3


class FailingEmbedder(HashingEmbedder):
    """Raises once it has embedded ``limit`` texts: a reindex killed part-way."""

    def __init__(self, limit: int) -> None:
        super().__init__(dimension=32, name="other-model")
        self.limit = limit

    def embed(self, texts: list[str]) -> np.ndarray:
        if self.calls + len(texts) > self.limit:
            raise KeyboardInterrupt
        return super().embed(texts)


def test_an_interrupted_reindex_keeps_the_old_index_and_resumes(library: Library, tmp_path):
    write_articles(tmp_path / "docs", {f"n{i}": f"Story {i} about topic{i}." for i in range(6)})
    library.ingest([tmp_path / "docs"])
    settings = replace(library.settings, checkpoint_articles=2, embed_batch_size=2)
    with pytest.raises(KeyboardInterrupt):
        reindex(settings, FailingEmbedder(limit=4))  # two checkpoints land, the third fails
    old = Library.open(settings, HashingEmbedder())  # the index is still the old one
    assert (old.info()["articles"], old.check()) == (6, [])
    assert old.search("topic3")[0].chunk.article_id == "n3"
    result = reindex(settings, HashingEmbedder(dimension=32, name="other-model"))
    assert (result["resumed"], result["chunks_embedded"]) == (4, 2)
    new = Library.open(settings, HashingEmbedder(dimension=32, name="other-model"))
    assert (new.info()["articles"], new.info()["dimension"], new.check()) == (6, 32, [])
    assert new.search("topic5")[0].chunk.article_id == "n5"
    assert not (settings.index / "reindex-partial").exists()


def test_reindex_moves_a_faiss_index_to_milvus(tmp_path: Path):
    settings = Settings.load({"statement_verifier": "off", "index": tmp_path / "index"}, env={})
    write_articles(tmp_path / "docs", STORIES)
    Library.open(settings, HashingEmbedder()).ingest([tmp_path / "docs"])
    with pytest.raises(IndexMismatch, match="keeps its vectors in faiss .* 'rag reindex "
                                            "--vector-store milvus'"):
        Library.open(replace(settings, vector_store="milvus"), HashingEmbedder())
    result = reindex(replace(settings, vector_store="milvus"), HashingEmbedder())
    assert (result["articles"], result["vector_store"]) == (3, "milvus")
    moved = Library.open(settings, HashingEmbedder())  # the index now names its store
    assert moved.info()["vector_store"] == "milvus" and moved.check() == []
    assert moved.search("soil bacteria nitrogen")[0].chunk.article_id == "soil"


def test_the_default_path_imports_neither_milvus_nor_ray(tmp_path: Path):
    """Without the 'scale' extra the default path must work: it may not even import them."""
    import subprocess
    import sys

    write_articles(tmp_path / "docs", STORIES)
    script = (
        "import sys\n"
        "from rag import Library, Settings\n"
        "from tests.fakes import HashingEmbedder\n"
        f"library = Library.open(Settings.load({{'index': {str(tmp_path / 'i')!r}}}, env={{}}),"
        " HashingEmbedder())\n"
        f"library.ingest([{str(tmp_path / 'docs')!r}])\n"
        "assert library.search('soil bacteria')[0].chunk.article_id == 'soil'\n"
        "import rag.cli.main, ui.app\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] in ('pymilvus', 'ray')))\n"
    )
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                            cwd=Path(__file__).resolve().parents[2], check=True)
    assert result.stdout.strip() == "[]"


@FAISS_ONLY
def test_the_generator_warmed_in_the_background_is_loaded_once_and_ready_with_its_prompt(
        library: Library, monkeypatch):
    import threading

    import rag.library
    from rag.answers.answer import SYSTEM_PROMPT

    loads, started, asked = [], threading.Event(), threading.Event()

    def slow_load(settings):
        started.set()
        loads.append(threading.current_thread().name)
        asked.wait(5)  # still loading when the question needs the model
        return CachingGenerator()

    monkeypatch.setattr(rag.library, "load_configured_generator", slow_load)
    thread = library.warm_generator()
    assert started.wait(5)
    asked.set()
    model = library.generator  # waits for the load under way instead of starting another
    thread.join(5)
    assert loads == ["warm-generator"]
    assert library.generator is model and model.warmed == [SYSTEM_PROMPT]


@FAISS_ONLY
def test_a_generator_that_fails_to_load_in_the_background_is_reported_by_its_first_use(
        library: Library, monkeypatch):
    import rag.library

    def broken(settings):
        raise RagError("the generator model file is missing; run 'make install'")

    monkeypatch.setattr(rag.library, "load_configured_generator", broken)
    library.warm_generator().join(5)
    with pytest.raises(RagError, match="model file is missing"):
        _ = library.generator
