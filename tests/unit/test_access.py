"""What a web visitor may make the server do: paths inside the library only, safe ids and
file names, bounded uploads and questions, and the operator's key only for the operator's
URL."""

from __future__ import annotations

import os
import socket
from pathlib import Path

import pytest

from rag import Library, RagError, Settings, VisitorPolicy
from rag.core.files import inside
from rag.sources.access import upload_name
from rag.sources.corpus import ARTICLE_ID, read_file, safe_article_id
from tests.fakes import HashingEmbedder


@pytest.fixture
def roots(tmp_path: Path) -> tuple[Path, Path]:
    """(a library folder, a folder outside it holding a secret)"""
    library, outside = tmp_path / "library", tmp_path / "private"
    library.mkdir()
    outside.mkdir()
    (library / "story.txt").write_text("Soil bacteria fix nitrogen for legumes.")
    (outside / "secret.txt").write_text("The launch code is 0000.")
    return library, outside


def policy_for(tmp_path: Path, library: Path, **settings) -> VisitorPolicy:
    return VisitorPolicy.from_settings(Settings.load(
        {"index": tmp_path / "index", "library": (library,), **settings}, env={}))


def test_paths_outside_the_library_are_refused_alike_whether_they_exist_or_not(
        tmp_path: Path, roots):
    library, outside = roots
    policy = policy_for(tmp_path, library)
    assert policy.ingest_path(str(library / "story.txt")) == library / "story.txt"
    messages = []
    for attempt in (outside, outside / "secret.txt", outside / "nothing-here.txt",
                    library / ".." / "private", Path("/etc/passwd")):
        with pytest.raises(RagError) as refused:
            policy.ingest_path(str(attempt))
        messages.append(str(refused.value).split(":", 1)[1])
    assert len(set(messages)) == 1 and "library folders" in messages[0]


def test_a_symlink_in_the_library_pointing_outside_is_refused(tmp_path: Path, roots):
    library, outside = roots
    (library / "linked.txt").symlink_to(outside / "secret.txt")
    policy = policy_for(tmp_path, library)
    with pytest.raises(RagError):
        policy.ingest_path(str(library / "linked.txt"))
    lib = Library.open(Settings.load({"statement_verifier": "off",
                                      "index": tmp_path / "index"}, env={}), HashingEmbedder())
    report = lib.ingest([library], within=list(policy.roots))
    assert report.added == 1 and [f.path for f in report.failed] == [str(library / "linked.txt")]
    assert not any("launch code" in h.chunk.text for h in lib.search("launch code", 5))


def test_uploads_are_stored_under_sanitized_names_inside_the_uploads_folder(tmp_path: Path,
                                                                            roots):
    arrived = tmp_path / "gradio"
    arrived.mkdir()
    files = []
    for name in (".hidden.txt", "my article (1).md", "..odd;name.MD"):
        path = arrived / name
        path.write_text("Some article text.")
        files.append(path)
    policy = policy_for(tmp_path, roots[0])
    stored = policy.store_uploads(files, arrived)
    assert [p.name for p in stored] == ["hidden.txt", "my-article-1.md", "odd-name.md"]
    assert all(p.parent == policy.uploads and p.read_text() for p in stored)
    assert [upload_name(n) for n in ("../../evil.md", "C:\\x\\..\\a.txt", "...")] == [
        "evil.md", "a.txt", "upload"]


def test_uploads_over_the_limits_or_from_elsewhere_are_refused(tmp_path: Path, roots):
    arrived = tmp_path / "gradio"
    arrived.mkdir()
    big = arrived / "big.txt"
    big.write_bytes(b"x" * 2_000_001)
    policy = policy_for(tmp_path, roots[0], max_upload_mb=2.0, max_upload_files=2,
                        max_upload_total_mb=3.0)
    with pytest.raises(RagError, match="at most 2 MB each"):
        policy.store_uploads([big], arrived)
    small = []
    for i in range(3):
        small.append(arrived / f"s{i}.txt")
        small[-1].write_bytes(b"y" * 1_600_000)
    with pytest.raises(RagError, match="at most 2$"):
        policy.store_uploads(small, arrived)
    with pytest.raises(RagError, match="at most 3 MB per request"):
        policy.store_uploads(small[:2], arrived)
    with pytest.raises(RagError, match="not an uploaded file"):
        policy.store_uploads([roots[1] / "secret.txt"], arrived)
    assert not policy.uploads.exists() or not any(policy.uploads.iterdir())


def test_only_listed_generator_urls_and_bounded_questions_pass(tmp_path: Path, roots):
    policy = policy_for(tmp_path, roots[0], llm_url="http://10.0.0.5:8080/v1",
                        allow_llm_url=("http://127.0.0.1:9/v1",), max_question_chars=50,
                        max_k=7)
    assert policy.llm_url("") == ""
    assert policy.llm_url("http://127.0.0.1:9/v1") == "http://127.0.0.1:9/v1"
    with pytest.raises(RagError, match="operator listed"):
        policy.llm_url("http://attacker.example/v1")
    with pytest.raises(RagError, match="at most 50"):
        policy.question("x" * 51)
    assert (policy.k(500, 5), policy.k(0, 5), policy.k(-3, 5)) == (7, 5, 1)


def test_the_api_key_goes_only_to_the_operators_url(tmp_path: Path):
    settings = Settings.load({"index": tmp_path / "index", "llm_url": "http://ops:8080/v1",
                              "llm_api_key": "sk-operator"}, env={})
    library = Library.open(settings, HashingEmbedder())
    assert library.configured(top_k=3).settings.llm_api_key == "sk-operator"
    assert library.configured(llm_url="http://other:1/v1").settings.llm_api_key == ""


@pytest.mark.parametrize("given", ["../../tmp/evil", "/etc/cron.d/x", ".hidden", "..",
                                   "a b/c", "x" * 300, "", "…"])
def test_unsafe_ids_are_replaced_by_safe_ones(given: str):
    used = safe_article_id(given)
    assert ARTICLE_ID.fullmatch(used) and "/" not in used and not used.startswith(".")


def test_front_matter_id_that_breaks_the_rule_is_replaced_and_reported(tmp_path: Path):
    path = tmp_path / "hostile.md"
    path.write_text("---\nid: ../../outside/pwn\ntitle: Hostile\n---\nSome article body.\n")
    parsed = read_file(path, 10**6)
    assert parsed.articles[0].id == "outside-pwn"
    assert parsed.replaced_ids == [("../../outside/pwn", "outside-pwn")]
    (tmp_path / "fine.md").write_text("---\nid: pubmed-123\n---\nFine text.\n")
    fine = read_file(tmp_path / "fine.md", 10**6)
    assert (fine.articles[0].id, fine.replaced_ids) == ("pubmed-123", [])


def test_files_named_after_an_article_stay_in_their_folder(tmp_path: Path):
    assert inside(tmp_path, "abc.json") == tmp_path / "abc.json"
    for name in ("../abc.json", "/etc/abc.json", "sub/abc.json"):
        with pytest.raises(RagError, match="outside"):
            inside(tmp_path, name)
    assert os.listdir(tmp_path) == []


def test_a_visitor_cannot_make_the_server_fetch_a_url(tmp_path: Path, roots,
                                                    monkeypatch: pytest.MonkeyPatch):
    opened = []  # no name is looked up and no connection is even attempted
    monkeypatch.setattr(socket, "create_connection", lambda *a, **k: opened.append(a))
    monkeypatch.setattr(socket, "getaddrinfo", lambda *a, **k: opened.append(a))
    for url in ("http://127.0.0.1:8000/feed.xml", "https://example.org/page",
                "file:///etc/passwd"):
        with pytest.raises(RagError, match="does not fetch web pages"):
            policy_for(tmp_path, roots[0]).ingest_path(url)
    assert opened == []
