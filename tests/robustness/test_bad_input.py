"""Every kind of bad input a user can drop in the folder, damaged indexes, and odd
questions: each gets a one-line reason, nothing else is lost, no traceback."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pytest

from tests.conftest import SAMPLE
from tests.processes import rag_json, run_rag
from tests.robustness.conftest import record

pytestmark = [pytest.mark.integration, pytest.mark.robustness]
GOOD = ("Zebrafish regrow amputated fins within two weeks. The regrowth depends on Wnt "
        "signalling in the wound epidermis. ")


def bad_inputs(folder: Path) -> dict[str, str]:
    """Writes one file per class of bad input; returns class -> file name."""
    minimal_pdf = (b"%PDF-1.4\n1 0 obj << /Type /Catalog /Pages 2 0 R >> endobj\n2 0 obj << "
                   b"/Type /Pages /Kids [3 0 R] /Count 1 >> endobj\n3 0 obj << /Type /Page "
                   b"/Parent 2 0 R /MediaBox [0 0 612 792] >> endobj\n")
    files = {
        "empty file": ("empty.txt", b""),
        "0-byte PDF": ("zero.pdf", b""),
        "truncated PDF": ("truncated.pdf", minimal_pdf[:70]),
        "binary named .txt": ("binary.txt", bytes(range(256)) * 64),
        "Latin-1 text": ("latin1.txt", ("Caf\xe9 cr\xe8me br\xfbl\xe9e. " * 20).encode("latin-1")),
        "50 MB text": ("huge.txt", None),
        "HTML with no body": ("nobody.html", b"<html><head><title>Nothing</title></head></html>"),
        "deeply nested HTML": ("nested.html",
                               b"<html><body>" + b"<div>" * 20000 + b"deep" + b"</div>" * 20000
                               + b"</body></html>"),
        "JSON missing fields": ("missing.json", json.dumps({"title": "no text"}).encode()),
        "malformed JSON": ("broken.json", b'{"id": "x", "text": "unterminated'),
    }
    for name, content in files.values():
        if content is None:
            with open(folder / name, "wb") as handle:
                handle.truncate(50 * 1024 * 1024)  # sparse: 50 MB without the disk cost
        else:
            (folder / name).write_bytes(content)
    return {kind: name for kind, (name, _) in files.items()}


def test_bad_input_classes_each_get_a_one_line_reason_and_the_rest_is_ingested(tmp_path):
    folder = tmp_path / "drop"
    folder.mkdir()
    for n in range(3):
        (folder / f"good{n}.txt").write_text(f"Study {n}. " + GOOD * 4)
    # UTF-16 with a byte-order mark is unambiguous, so it is read, not refused
    (folder / "utf16.txt").write_text("Stem cells restore ovarian function. " * 20,
                                      encoding="utf-16")
    classes = bad_inputs(folder)
    (folder / "loop").symlink_to(folder, target_is_directory=True)  # a symlink loop
    classes["symlink loop"] = "loop"

    result = run_rag("ingest", str(folder), "--index", str(tmp_path / "index"), "--json",
                     "--no-progress", check=False)
    assert result.returncode == 1, "the exit code must say that something failed"
    assert "Traceback" not in result.stderr
    report = json.loads(result.stdout)
    reasons = {Path(f["path"]).name: f["reason"] for f in report["failed"]}
    assert set(classes.values()) <= set(reasons), sorted(set(classes.values()) - set(reasons))
    assert all(r and "\n" not in r and len(r) < 300 for r in reasons.values())
    assert report["added"] == 4
    info = rag_json("info", "--index", str(tmp_path / "index"), "--check")
    assert info["problems"] == []
    record("bad_input", {"classes_tried": len(classes), "classes": sorted(classes),
                         "good_files_ingested": report["added"], "lost": 0})


@pytest.mark.skipif(os.geteuid() == 0, reason="root reads any file, so a file without read "
                    "permission cannot fail to read here")
def test_an_unreadable_file_is_a_one_line_failure_and_the_rest_lands(tmp_path: Path):
    folder = tmp_path / "articles"
    folder.mkdir()
    (folder / "good.txt").write_text(GOOD)
    unreadable = folder / "secret.txt"
    unreadable.write_text(GOOD)
    unreadable.chmod(0)
    result = run_rag("ingest", str(folder), "--index", str(tmp_path / "index"), "--json",
                     "--no-progress", check=False)
    report = json.loads(result.stdout)
    assert result.returncode == 1 and report["added"] == 1
    (failure,) = report["failed"]
    assert Path(failure["path"]).name == "secret.txt" and "\n" not in failure["reason"]


@pytest.fixture(scope="module")
def small_index(tmp_path_factory: pytest.TempPathFactory) -> Path:
    index = tmp_path_factory.mktemp("faults") / "index"
    rag_json("ingest", str(SAMPLE), "--index", str(index), "--no-progress")
    return index


def damage(index: Path, kind: str) -> None:
    generation = index / (index / "CURRENT").read_text().strip()
    if kind == "truncated vectors":
        with open(generation / "vectors.faiss", "r+b") as handle:
            handle.truncate(100)
    elif kind == "manifest of another embedder":
        manifest = json.loads((generation / "manifest.json").read_text())
        (generation / "manifest.json").write_text(json.dumps({**manifest,
                                                              "embedder": "other-model"}))
    elif kind == "missing metadata database":
        next(generation.glob("*.sqlite*")).unlink()


@pytest.mark.parametrize("kind", ["truncated vectors", "manifest of another embedder",
                                  "missing metadata database"])
def test_damaged_index_gives_one_line_error_naming_reindex(small_index, tmp_path, kind):
    index = tmp_path / "index"
    shutil.copytree(small_index, index)
    damage(index, kind)
    for command in (["search", "angiopoietin"], ["info"],
                    ["ask", "Which angiopoietins?", "--no-generate"]):
        result = run_rag(*command, "--index", str(index), check=False)
        assert result.returncode == 2, (command, result.stdout, result.stderr)
        assert result.stderr.count("\n") == 1 and "Traceback" not in result.stderr
        assert "rag reindex" in result.stderr, result.stderr
    record(f"index_fault:{kind}", {"one_line_error": True})


@pytest.mark.parametrize("question, expected", [
    ("", "error"),
    ("?!… ---", "error"),
    ("angiopoietin " * 900 + "?", "answer"),  # about 10,000 characters
    ("¿Qué angiopoyetinas estudia el artículo?", "answer or refusal"),
    ("这项研究关注哪些血管生成素？", "answer or refusal"),
])
def test_odd_questions_get_clear_handling(small_index, question, expected):
    result = run_rag("ask", question, "--index", str(small_index), "--json", "--no-generate",
                     check=False)
    assert "Traceback" not in result.stderr
    if expected == "error":
        assert result.returncode == 2 and result.stderr.startswith("error: ")
        assert result.stderr.count("\n") == 1
        return
    answer = json.loads(result.stdout)
    assert result.returncode == 0
    if answer["refused"]:  # a refusal cites nothing and shows the closest passages
        assert expected == "answer or refusal", "a question the article answers was refused"
        assert answer["citations"] == [] and answer["hits"]
        return
    article = SAMPLE.read_text()
    assert answer["citations"], "an answer cites its sentences"
    for c in answer["citations"]:  # each citation is an exact span of the sample article
        assert c["article_id"] == SAMPLE.stem and article[c["start"]:c["end"]] == c["text"]
