"""What an article's author, a feed's author or a visitor could do to the server with a few
bytes, each tried on the real readers, store and fetch guard (with a fake embedder): a line
that makes a pattern backtrack, a YAML alias bomb, a megabyte "word", a damaged catalog, an
id taken from another file, a name that resolves differently the second time."""

from __future__ import annotations

import json
import socket
import sqlite3
import sys
import threading
import time
from http.server import ThreadingHTTPServer
from pathlib import Path

import pytest

from rag import Library, RagError, VisitorPolicy
from rag.core.errors import IndexCorrupt, UnreadableInput
from rag.core.text import MAX_SENTENCE_CHARS
from rag.index.chunking import MAX_CHUNK_CHARS
from rag.sources.corpus import read_file
from tests.listeners import QuietHandler

READ_BOUND_S = 1.0
"""What reading a few kilobytes may take at most (the old patterns took 19–249 s)."""


def timed_read(path: Path) -> tuple[float, object]:
    started = time.perf_counter()
    try:
        parsed = read_file(path, 10**8)
    except UnreadableInput as err:
        parsed = err
    return time.perf_counter() - started, parsed


def test_a_heading_line_of_spaces_reads_in_linear_time(tmp_path: Path):
    path = tmp_path / "h.md"
    path.write_text("# x" + " " * 6000 + "y\n\nBody text of the article.\n")
    seconds, parsed = timed_read(path)
    assert seconds < READ_BOUND_S, seconds
    assert parsed.articles[0].title.startswith("x") and parsed.articles[0].title.endswith("y")


def test_a_trailer_line_of_spaces_reads_in_linear_time(tmp_path: Path):
    path = tmp_path / "t.txt"
    path.write_text("Body text of the article.\n\nSource: x" + " " * 100_000 + "y\n")
    seconds, parsed = timed_read(path)
    assert seconds < READ_BOUND_S, seconds
    assert parsed.articles[0].url.startswith("x") and parsed.articles[0].url.endswith("y")


def test_trailers_and_headings_still_read_as_before(tmp_path: Path):
    text = tmp_path / "a.txt"
    text.write_text("Body.\n\nArticle Title: Rats and stem cells.\nDOI:  10.1/x  \n"
                    "Keywords: POI, stem cells\n")
    (article,) = read_file(text, 10**6).articles
    assert (article.title, article.doi, article.keywords) == \
        ("Rats and stem cells", "10.1/x", ["POI", "stem cells"])
    markdown = tmp_path / "b.md"
    markdown.write_text("Intro line\n\n#### not a heading\n## My title ##\n\nText.\n")
    assert read_file(markdown, 10**6).articles[0].title == "My title"


ALIAS_BOMB = """---
title: Bomb
a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]
b: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]
c: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]
d: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c]
e: &e [*d,*d,*d,*d,*d,*d,*d,*d,*d]
f: &f [*e,*e,*e,*e,*e,*e,*e,*e,*e]
g: &g [*f,*f,*f,*f,*f,*f,*f,*f,*f]
---
Body text here.
"""


def test_a_yaml_alias_bomb_is_refused_in_one_line_and_stores_nothing(library: Library,
                                                                      tmp_path: Path):
    bomb = tmp_path / "bomb.md"
    bomb.write_text(ALIAS_BOMB)
    report = library.ingest([bomb])
    (failure,) = report.failed
    assert "aliases" in failure.reason and "\n" not in failure.reason
    assert report.added == 0 and library.info()["articles"] == 0


def test_a_megabyte_word_is_cut_into_bounded_sentences_chunks_and_spans(library: Library,
                                                                      tmp_path: Path):
    story = tmp_path / "digits.txt"
    story.write_text("Stem cells restored ovarian function in rats. " + "9" * 1_000_000
                     + ". The rats showed no tumours.\n")
    report = library.ingest([story])
    assert report.added == 1
    chunks = library.store.chunks()
    assert len(chunks) > 1 and max(len(c.text) for c in chunks) <= MAX_CHUNK_CHARS
    answer = library.ask("Did stem cells restore ovarian function in rats?", generate=False)
    assert answer.citations and all(len(c.text) <= MAX_SENTENCE_CHARS
                                    for c in answer.citations)
    assert len(answer.answer) < 3 * MAX_SENTENCE_CHARS
    check = library.check_statement("Stem cells restored ovarian function in rats.")
    assert check.status == "supported" and all(len(e.text) <= MAX_SENTENCE_CHARS
                                               for e in check.evidence)


def test_a_statement_longer_than_the_limit_is_refused_at_once(library: Library, tmp_path):
    (tmp_path / "a.txt").write_text("Stem cells restored ovarian function in rats.\n")
    library.ingest([tmp_path / "a.txt"])
    started = time.perf_counter()
    with pytest.raises(RagError, match="at most 2000"):
        library.check_statement("not improved " * 8000)
    assert time.perf_counter() - started < READ_BOUND_S


def many_articles(folder: Path, count: int) -> None:
    folder.mkdir()
    for n in range(count):
        (folder / f"story-{n:03d}.txt").write_text(
            f"Story {n} reports that coastal kelp cover changed by {n} percent. " * 12)


def damage_catalog(index: Path) -> Path:
    catalog = index / (index / "CURRENT").read_text().strip() / "meta.sqlite"
    with open(catalog, "r+b") as handle:  # 4 KB of garbage inside, as a failing disk writes
        handle.seek(8192)
        handle.write(bytes((i * 7919) % 251 for i in range(4096)))
    return catalog


def test_a_damaged_catalog_is_named_in_one_line_and_reindex_drops_nothing(
        library: Library, tmp_path: Path):
    from rag import reindex

    many_articles(tmp_path / "stories", 60)
    assert library.ingest([tmp_path / "stories"]).added == 60
    (tmp_path / "late.txt").write_text("A late story about reefs recovering.\n")
    assert library.ingest([tmp_path / "late.txt"]).added == 1  # a second generation
    catalog = damage_catalog(library.settings.index)
    reader = Library.open(library.settings, library.embedder)
    with pytest.raises(IndexCorrupt, match="meta.sqlite is damaged") as raised:
        reader.articles()
    assert "\n" not in str(raised.value)
    (problem,) = reader.check()
    assert "damaged" in problem
    before = catalog.read_bytes()
    # the older generation reads, but holds 60 of the 61 articles: no quiet fallback to it
    with pytest.raises(RagError, match="holds 60 of the 61 articles, so nothing was rebuilt"):
        reindex(library.settings, library.embedder)
    assert catalog.read_bytes() == before  # refused, nothing changed


def test_an_id_held_by_another_file_is_refused_across_runs(library: Library, tmp_path: Path):
    first, second = tmp_path / "a" / "x.txt", tmp_path / "b" / "x.txt"
    for path, text in ((first, "Kelp recovered on twelve reefs."),
                       (second, "Penguins huddle in circles.")):
        path.parent.mkdir()
        path.write_text(text + "\n")
    assert library.ingest([first]).added == 1
    report = library.ingest([second])
    (failure,) = report.failed
    assert "already held by" in failure.reason and str(first.resolve()) in failure.reason
    assert (report.added, report.updated) == (0, 0)
    assert library.article("x").text.startswith("Kelp") and library.versions("x") == []
    copy = tmp_path / "c" / "x.txt"  # the same article copied elsewhere is no clash
    copy.parent.mkdir()
    copy.write_text(first.read_text())
    copied = library.ingest([copy])
    assert (copied.failed, copied.unchanged) == ([], 1)
    first.unlink()  # a moved file keeps its article: the id is free once its file is gone
    assert library.ingest([second]).updated == 1


def test_visitors_may_remove_uploads_only(tmp_path: Path):
    from rag import Settings

    policy = VisitorPolicy.from_settings(Settings.load({"index": tmp_path / "ix"}, env={}))
    assert policy.removable(["upload-notes"]) == ["upload-notes"]
    with pytest.raises(RagError, match="operator's article"):
        policy.removable(["upload-notes", "000_c385f1c34fdd9a0c"])


def test_a_nul_byte_in_a_visitor_path_is_a_refusal_not_a_traceback(tmp_path: Path):
    from rag import Settings

    policy = VisitorPolicy.from_settings(Settings.load({"index": tmp_path / "ix"}, env={}))
    with pytest.raises(RagError, match="not inside the library folders"):
        policy.ingest_path("corpus/\x00../etc/passwd")


def test_milvus_without_the_scale_extra_says_which_extra_to_install(tmp_path: Path,
                                                                    monkeypatch):
    import rag.index.vectorstores
    from rag.index.vectorstores import VectorBackend

    monkeypatch.setitem(sys.modules, "pymilvus", None)  # as if it were not installed
    monkeypatch.delitem(sys.modules, "rag.index.vectorstores.milvus", raising=False)
    # imported by a test before
    monkeypatch.delattr(rag.index.vectorstores, "milvus", raising=False)
    backend = VectorBackend(index=tmp_path, kind="milvus")
    with pytest.raises(RagError, match=r"'scale' extra"):
        backend.create(8)


def saved_feed(folder: Path, links: list[str]) -> Path:
    items = "".join(f"<item><title>Entry {n}</title><link>{link}</link>"
                    f"<guid>entry-{n}</guid></item>" for n, link in enumerate(links))
    feed = folder / "feed.xml"
    feed.write_text(f"<?xml version='1.0'?><rss version='2.0'><channel><title>t</title>"
                    f"{items}</channel></rss>")
    return feed


def test_an_interrupted_feed_run_keeps_the_entries_it_finished(library: Library,
                                                               tmp_path: Path, monkeypatch):
    from rag.sources.web import FEED_BATCH, FeedState, FetchLimits, ingest_feed

    pages = []
    for n in range(FEED_BATCH + 5):
        page = tmp_path / f"page-{n}.html"
        page.write_text(f"<html><body><p>Reef {n} recovered after the storm of "
                        f"{2000 + n}.</p></body></html>")
        pages.append(page.name)  # relative to the feed's own folder
    feed = saved_feed(tmp_path, pages)
    ingest = library.ingest
    calls = []

    def cut_on_second_batch(paths, **kwargs):
        calls.append(paths)
        if len(calls) == 2:
            raise KeyboardInterrupt
        return ingest(paths, **kwargs)

    monkeypatch.setattr(library, "ingest", cut_on_second_batch)
    with pytest.raises(KeyboardInterrupt):
        ingest_feed(library, str(feed), FetchLimits())
    state = FeedState(library.settings.index / "feeds", str(feed))
    assert len(state.seen) == FEED_BATCH  # the first batch is remembered, not refetched


def test_two_entries_leading_to_one_page_are_both_taken_once(library: Library,
                                                             tmp_path: Path):
    from rag.sources.web import FetchLimits, ingest_feed

    page = tmp_path / "page.html"
    page.write_text("<html><body><p>Reef 7 recovered after the storm.</p></body></html>")
    feed = saved_feed(tmp_path, [page.name, page.name])
    first, _ = ingest_feed(library, str(feed), FetchLimits())
    assert first.new == 2 and len(first.taken) == 1 and first.failed == []
    again, report = ingest_feed(library, str(feed), FetchLimits())
    assert again.new == 0 and report.failed == []


class _Recorder(QuietHandler):
    seen: list[str]
    body: bytes
    kind: str

    def do_GET(self) -> None:  # noqa: N802 - http.server's name
        self.seen.append(self.path)
        self.send(200, self.kind, self.body)


def serve(address: str, port: int, body: bytes, kind: str) -> tuple[ThreadingHTTPServer,
                                                                      list[str]]:
    seen: list[str] = []
    handler = type("Handler", (_Recorder,), {"seen": seen, "body": body, "kind": kind})
    server = ThreadingHTTPServer((address, port), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, seen


def test_a_rebinding_feed_host_cannot_reach_another_address(library: Library, monkeypatch):
    """The feed's host name answers 127.0.0.1 (the feed) first and 127.0.0.2 (an internal
    "metadata" service on the same port) afterwards: every entry still goes to the first."""
    from rag.sources.web import FetchLimits, ingest_feed

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    host = f"http://feeds.rebind.test:{port}"
    feed = (f"<?xml version='1.0'?><rss version='2.0'><channel><title>t</title><item><title>"
            f"Meta</title><link>{host}/latest/meta-data</link><guid>m</guid></item></channel>"
            "</rss>").encode()
    public, fed = serve("127.0.0.1", port, feed, "application/rss+xml")
    internal, leaked = serve("127.0.0.2", port, b"<p>INTERNAL SECRET token</p>", "text/html")
    answers = iter(["127.0.0.1"])
    real = socket.getaddrinfo

    def rebinding(name, *args, **kwargs):
        if name == "feeds.rebind.test":
            address = next(answers, "127.0.0.2")
            return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", (address, port))]
        return real(name, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", rebinding)
    try:
        feed_report, _ = ingest_feed(library, f"{host}/feed.xml", FetchLimits())
    finally:
        public.shutdown()
        internal.shutdown()
    assert leaked == []  # the internal service received nothing
    assert fed == ["/feed.xml", "/latest/meta-data"]  # the entry went to the pinned address
    assert not [h for h in library.search("INTERNAL SECRET token") if "SECRET" in h.chunk.text]
    assert json.dumps(feed_report.to_dict())  # and the run reported normally


def test_the_catalog_check_passes_on_a_sound_index(library: Library, tmp_path: Path):
    many_articles(tmp_path / "stories", 5)
    library.ingest([tmp_path / "stories"])
    assert library.check() == []
    catalog = library.settings.index / (library.settings.index / "CURRENT").read_text().strip()
    assert sqlite3.connect(catalog / "meta.sqlite").execute("PRAGMA quick_check").fetchone() \
        == ("ok",)
