"""The real `rag` command with the real packaged embedder and a real on-disk index."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from rag import Library, Settings
from rag.core.cpu import flags as cpu_flags
from rag.core.text import sentence_spans
from rag.generation.llama_build import build
from tests.conftest import SAMPLE
from tests.processes import rag_json, run_rag

pytestmark = pytest.mark.integration
QUESTION = "Which angiopoietins does the study focus on?"


def test_bundled_corpus_ingests_completely(sample_index):
    _, report = sample_index
    assert report["added"] == 41 and report["failed"] == [] and report["chunks_embedded"] > 41
    assert set(report) >= {"added", "updated", "unchanged", "removed", "chunks_embedded",
                           "failed", "near_duplicates"}


def test_sample_question_ranks_the_sample_article_and_passage_first(sample_index):
    hits = rag_json("search", QUESTION, "--index", str(sample_index[0]))["hits"]
    assert hits[0]["article_id"] == SAMPLE.stem
    assert any("angiopoietin 1 and 2" in h["text"] for h in hits[:3])
    assert set(hits[0]) >= {"article_id", "title", "chunk_id", "start", "end", "text", "score"}


def test_reingest_of_the_bundled_corpus_embeds_nothing(sample_index_copy):
    report = rag_json("ingest", "corpus", "--index", str(sample_index_copy), "--no-progress")
    assert (report["chunks_embedded"], report["unchanged"], report["added"]) == (0, 41, 0)


def test_every_chunk_offset_matches_its_article_text(sample_index):
    library = Library.open(Settings.load({"index": sample_index[0]}))
    chunks = library.store.chunks()
    assert len(chunks) == library.info()["chunks"]
    for chunk in chunks:
        article = library.article(chunk.article_id)
        assert article.text[chunk.start : chunk.end] == chunk.text  # Python slice vs SQLite
        assert chunk.end in {end for _, end in sentence_spans(article.text)}
    assert library.check() == []


def test_list_and_info_report_the_index(sample_index):
    index = str(sample_index[0])
    articles = rag_json("list", "--index", index)["articles"]
    sample = next(a for a in articles if a["id"] == SAMPLE.stem)
    assert sample["title"].startswith("hUCMSCs restore ovarian function")
    info = rag_json("info", "--index", index)
    assert info["articles"] == 41 and info["dimension"] == 384
    assert info["embedder"] == "all-MiniLM-L6-v2" and info["size_bytes"] > 0
    # which kernels llama.cpp runs: built for this CPU's own instruction sets
    built = set(info["generator_cpu_backend"].split())
    assert "AVX2" in built and ("AVX512" in built) == build(cpu_flags(), False)[0].startswith(
        "avx512")


def test_search_filter_by_article_and_date(sample_index):
    index = str(sample_index[0])
    hits = rag_json("search", "stem cells", "--index", index, "--article", "pubmed-17208539")
    assert {h["article_id"] for h in hits["hits"]} == {"pubmed-17208539"}
    dated = rag_json("search", "ovarian function", "--index", index, "--date-from", "2025")
    assert {h["article_id"] for h in dated["hits"]} == {SAMPLE.stem}


def test_bad_files_are_listed_and_the_exit_code_says_so(sample_index_copy, tmp_path):
    folder = tmp_path / "drop"
    folder.mkdir()
    (folder / "good.txt").write_text("Zebrafish regrow heart tissue after injury. " * 5)
    (folder / "empty.txt").write_bytes(b"")
    (folder / "binary.txt").write_bytes(bytes(range(256)) * 10)
    (folder / "latin1.txt").write_bytes("Caf\xe9 cr\xe8me".encode("latin-1"))
    (folder / "broken.pdf").write_bytes(b"%PDF-1.4\n1 0 obj\n<< /Type /Cat")
    (folder / "broken.html").write_bytes(b"<html><body><div><div><p></div>")
    result = run_rag("ingest", str(folder), "--index", str(sample_index_copy), "--json",
                     "--no-progress", check=False)
    report = json.loads(result.stdout)
    assert result.returncode == 1
    assert report["added"] == 1
    reasons = {Path(f["path"]).name: f["reason"] for f in report["failed"]}
    assert set(reasons) == {"empty.txt", "binary.txt", "latin1.txt", "broken.pdf", "broken.html"}
    assert all(reason and "\n" not in reason for reason in reasons.values())


def test_remove_by_id(sample_index_copy):
    index = str(sample_index_copy)
    assert rag_json("remove", "pubmed-17208539", "--index", index)["removed"] == 1
    assert rag_json("info", "--index", index)["articles"] == 40
    result = run_rag("remove", "no-such-id", "--index", index, check=False)
    assert result.returncode == 1 and "not found: no-such-id" in result.stdout


def test_other_embedder_is_refused_with_a_one_line_fix(sample_index):
    result = run_rag("search", QUESTION, "--index", str(sample_index[0]), check=False,
                     env={"RAG_EMBEDDER": "some-other-model"})
    assert result.returncode == 2
    assert result.stderr.strip().count("\n") == 0 and "run 'rag reindex'" in result.stderr
    assert "Traceback" not in result.stderr


def test_damaged_vectors_give_one_line_error_and_reindex_repairs(sample_index_copy):
    index = sample_index_copy
    generation = (index / "CURRENT").read_text().strip()
    with open(index / generation / "vectors.faiss", "r+b") as handle:
        handle.truncate(1000)
    result = run_rag("search", QUESTION, "--index", str(index), check=False)
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert result.stderr.strip() == (
        f"error: vector file {index / generation / 'vectors.faiss'} is damaged or truncated; "
        "run 'rag reindex'")
    assert rag_json("reindex", "--index", str(index), "--no-progress")["articles"] == 41
    hits = rag_json("search", QUESTION, "--index", str(index))["hits"]
    assert hits[0]["article_id"] == SAMPLE.stem


def test_help_explains_every_command():
    out = run_rag("--help").stdout
    for command in ("ingest", "search", "list", "info", "remove", "reindex", "serve"):
        assert command in out
    assert "--index" in run_rag("ingest", "--help").stdout


def test_a_named_session_lets_a_script_follow_up(sample_index_copy):
    index = str(sample_index_copy)
    first = rag_json("ask", "Who led the hUCMSC study?", "--index", index, "--session", "lab",
                     "--no-generate")
    follow = rag_json("ask", "Which journal published it?", "--index", index, "--session",
                      "lab", "--no-generate")
    alone = rag_json("ask", "Which journal published it?", "--index", index, "--no-generate")
    assert follow["query"] == "Who led the hUCMSC study? Which journal published it?"
    assert alone["query"] == "Which journal published it?"
    assert any(c["article_id"] == SAMPLE.stem for c in follow["citations"])
    turns = json.loads((sample_index_copy / "sessions" / "lab.json").read_text())
    assert [t["role"] for t in turns] == ["user", "assistant", "user", "assistant"]
    assert turns[1]["content"] == first["answer"]
    assert {"verdict", "route"} <= set(first) and first["route"] == "extractive"
