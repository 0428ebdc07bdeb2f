"""Files written to hurt, through the real ``rag`` command with the packaged embedder and
model: a million-digit "word", a YAML alias bomb, a damaged catalog, one id from two files.
Each either lands bounded or is refused in one line, and nothing already stored is lost."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from tests.processes import rag_json, run_rag
from tests.robustness.conftest import record
from tests.unit.test_hostile_input import ALIAS_BOMB, damage_catalog, many_articles

pytestmark = [pytest.mark.integration, pytest.mark.robustness]
SMALL_MODEL = {"RAG_GENERATOR": "smollm2-135m"}


def one_line_error(result) -> str:
    assert result.returncode == 2, (result.stdout, result.stderr)
    assert result.stderr.startswith("error: ") and result.stderr.count("\n") == 1
    assert "Traceback" not in result.stderr
    return result.stderr


def test_a_million_digit_word_leaves_answers_on_its_topic_working(tmp_path: Path):
    story = tmp_path / "digits.txt"
    story.write_text("Stem cells restored ovarian function in rats with premature ovarian "
                     "insufficiency. " + "9" * 1_000_000 + ". The treated rats developed no "
                     "tumours.\n")
    index = str(tmp_path / "index")
    assert rag_json("ingest", str(story), "--index", index, "--no-progress")["added"] == 1
    hits = rag_json("search", "stem cells ovarian function rats", "--index", index)["hits"]
    assert hits and max(len(h["text"]) for h in hits) <= 2000
    for extra in (["--no-generate"], []):  # the extractive path and the model's
        answer = rag_json("ask", "Did stem cells restore ovarian function in rats?",
                          "--index", index, *extra, env=SMALL_MODEL)
        assert answer["citations"], answer
        assert all(len(c["text"]) <= 1000 for c in answer["citations"])
        assert len(answer["answer"]) < 3000
    record("hostile_file:million-digit word", {"answered": True, "longest_hit": max(
        len(h["text"]) for h in hits)})


def test_a_yaml_alias_bomb_is_refused_and_stores_nothing(tmp_path: Path):
    bomb = tmp_path / "bomb.md"
    bomb.write_text(ALIAS_BOMB)
    index = tmp_path / "index"
    report = rag_json("ingest", str(bomb), "--index", str(index), "--no-progress",
                      check=False)
    (failure,) = report["failed"]
    assert "aliases" in failure["reason"] and report["added"] == 0
    stored = sum(p.stat().st_size for p in index.rglob("*") if p.is_file())
    assert stored < 1_000_000, stored  # the old reader stored 428 MB
    record("hostile_file:yaml alias bomb", {"refused": failure["reason"],
                                            "index_bytes": stored})


def test_a_damaged_catalog_is_one_line_and_reindex_loses_nothing_quietly(tmp_path: Path):
    many_articles(tmp_path / "stories", 60)
    index = tmp_path / "index"
    rag_json("ingest", str(tmp_path / "stories"), "--index", str(index), "--no-progress")
    (tmp_path / "late.txt").write_text("A late story about reefs recovering after storms.\n")
    rag_json("ingest", str(tmp_path / "late.txt"), "--index", str(index), "--no-progress")
    catalog = damage_catalog(index)
    said = {}
    for command in (["list"], ["search", "kelp cover"], ["info"]):
        said[command[0]] = one_line_error(run_rag(*command, "--index", str(index),
                                                  check=False))
        assert "damaged" in said[command[0]], said
    checked = run_rag("info", "--check", "--index", str(index), check=False)
    assert checked.returncode != 0 and "damaged" in checked.stdout + checked.stderr
    before = catalog.read_bytes()
    refused = one_line_error(run_rag("reindex", "--index", str(index), "--no-progress",
                                     check=False))
    assert "holds 60 of the 61 articles" in refused and catalog.read_bytes() == before
    record("hostile_file:damaged catalog", {"one_line_errors": sorted(said),
                                            "reindex": "refused, naming what it would lose"})


def test_one_id_from_two_files_across_runs_loses_neither(tmp_path: Path):
    first, second = tmp_path / "a" / "x.md", tmp_path / "b" / "x.md"
    for path, text in ((first, "Kelp forests recovered on twelve reefs."),
                       (second, "Emperor penguins huddle in rotating circles.")):
        path.parent.mkdir()
        path.write_text(f"---\ntitle: {text[:12]}\n---\n{text}\n")
    index = str(tmp_path / "index")
    rag_json("ingest", str(first), "--index", index, "--no-progress")
    report = rag_json("ingest", str(second), "--index", index, "--no-progress", check=False)
    (failure,) = report["failed"]
    assert "already held by" in failure["reason"] and report["updated"] == 0
    (article,) = rag_json("list", "--index", index)["articles"]
    hits = rag_json("search", "kelp reefs", "--index", index)["hits"]
    assert article["id"] == "x" and "Kelp forests" in hits[0]["text"]
    record("hostile_file:same id from two files", {"refused": failure["reason"]})


def test_a_statement_of_100_kb_is_refused_at_once(tmp_path: Path):
    index = tmp_path / "index"
    shutil.copytree(Path(__file__).parent.parent.parent / "corpus", tmp_path / "corpus")
    rag_json("ingest", str(tmp_path / "corpus"), "--index", str(index), "--no-progress")
    said = one_line_error(run_rag("check", "not improved " * 8000, "--index", str(index),
                                  check=False, timeout=60))
    assert "at most 2000" in said
    assert json.loads(run_rag("check", "The study used rats.", "--index", str(index),
                              "--json").stdout)["status"]
