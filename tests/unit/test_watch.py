"""The watch list and its schedule: intervals, jitter, back-off after failures, and a
damaged list refused with the way out."""

from __future__ import annotations

import random
from pathlib import Path
from types import SimpleNamespace

import pytest

from rag import IngestReport, RagError, Settings
from rag.sources.watch import (
    MAX_BACKOFF_S,
    Source,
    Watchlist,
    parse_every,
    read_opml,
    run_due,
    write_opml,
)


def test_intervals_read_as_a_person_writes_them():
    assert [parse_every(t) for t in ("90s", "15m", "2h", "1d", "0.5h")] == [
        90, 900, 7200, 86_400, 1800]
    for bad in ("soon", "0m", "5", "-1h"):
        with pytest.raises(RagError, match="is not a number with s, m, h or d"):
            parse_every(bad)


def test_a_working_source_keeps_its_interval_within_a_tenth_and_a_failing_one_backs_off():
    rng = random.Random(0)
    source = Source("https://example.org/feed", "feed", every_s=600)
    waits = []
    for _ in range(50):
        source.schedule(1000.0, ok=True, rng=rng)
        waits.append(source.next_run - 1000.0)
    assert 540 <= min(waits) < max(waits) <= 660  # jittered, never the same for all
    backed_off = []
    for _ in range(10):
        source.schedule(1000.0, ok=False, rng=rng)
        backed_off.append(source.next_run - 1000.0)
    assert backed_off[:3] == [1200, 2400, 4800] and backed_off[-1] == MAX_BACKOFF_S
    source.schedule(1000.0, ok=True, rng=rng)
    assert source.failures == 0 and source.next_run - 1000.0 <= 660


def test_the_list_keeps_sources_across_processes_and_a_damaged_one_says_what_to_do(
        tmp_path: Path):
    watchlist = Watchlist(tmp_path)
    watchlist.add(Source("https://example.org/a", "page", 60))
    watchlist.add(Source("/srv/inbox", "files", 3600))
    watchlist.add(Source("https://example.org/a", "page", 120))  # again: new interval, due
    again = Watchlist(tmp_path).sources()
    assert [(s.location, s.every_s, s.next_run) for s in again] == [
        ("/srv/inbox", 3600, 0.0), ("https://example.org/a", 120, 0.0)]
    assert watchlist.remove("/srv/inbox") and not watchlist.remove("/srv/inbox")
    with pytest.raises(RagError, match="a source is one of feed, page, files"):
        watchlist.add(Source("x", "podcast", 60))
    watchlist.path.write_text("[{\"location\": ")
    with pytest.raises(RagError, match="is damaged; fix or delete it"):
        watchlist.sources()


OPML = b"""<?xml version="1.0" encoding="UTF-8"?>
<opml version="2.0"><head><title>My feeds</title></head><body>
  <outline text="Science" title="Science">
    <outline type="rss" text="Newswire" title="Newswire" xmlUrl="https://news.example/rss"/>
    <outline type="rss" text="Ocean &amp; Ice" xmlUrl="https://ocean.example/atom.xml"/>
  </outline>
  <outline text="Health">
    <outline type="rss" text="Trials" xmlUrl="https://trials.example/feed"/>
  </outline>
</body></opml>"""


def test_an_opml_list_round_trips_with_its_folders_and_titles(tmp_path: Path):
    first = Watchlist(tmp_path / "a")
    first.add(*read_opml(OPML, 3600))
    first.add(Source("/srv/inbox", "files", 60))  # not a feed: not in the OPML
    exported = write_opml(first.sources())
    second = Watchlist(tmp_path / "b")
    second.add(*read_opml(exported, 3600))

    def kept(watchlist: Watchlist) -> list[tuple[str, str, str, str]]:
        return sorted((s.location, s.kind, s.title, s.folder) for s in watchlist.sources()
                      if s.kind == "feed")

    assert kept(second) == kept(first) == [
        ("https://news.example/rss", "feed", "Newswire", "Science"),
        ("https://ocean.example/atom.xml", "feed", "Ocean & Ice", "Science"),
        ("https://trials.example/feed", "feed", "Trials", "Health")]


def test_a_malformed_opml_list_is_one_line_and_changes_nothing(tmp_path: Path):
    watchlist = Watchlist(tmp_path)
    watchlist.add(*read_opml(OPML, 3600))
    before = watchlist.path.read_bytes()
    for broken in (OPML[:-40], b"<html><body>not a list</body></html>", b"\x00\xff"):
        with pytest.raises(RagError, match="not an OPML subscription list") as err:
            watchlist.add(*read_opml(broken, 3600))
        assert "\n" not in str(err.value)
    assert watchlist.path.read_bytes() == before


def test_a_run_records_its_turn_without_undoing_what_another_process_changed(tmp_path: Path):
    watchlist = Watchlist(tmp_path)
    watchlist.add(Source("https://a.example/feed", "feed", 60),
                  Source("https://b.example/feed", "feed", 60))
    turned = watchlist.sources()[0]  # what a run read at its start
    watchlist.add(Source("/srv/new", "files", 30))  # meanwhile, from another shell
    watchlist.add(Source("https://a.example/feed", "feed", 600))  # a new interval
    watchlist.remove("https://b.example/feed")
    turned.next_run, turned.last_result = 1234.0, "1 new"
    watchlist.record(turned)
    after = {s.location: s for s in watchlist.sources()}
    assert sorted(after) == ["/srv/new", "https://a.example/feed"]
    assert (after["https://a.example/feed"].every_s, after["https://a.example/feed"].next_run,
            after["https://a.example/feed"].last_result) == (600, 1234.0, "1 new")


class _Library:
    """Just enough library for a run: one folder source that fails, one that works."""

    def __init__(self, index: Path) -> None:
        self.settings = Settings.load({"index": index}, env={})
        self.digests = 0

    def ingest(self, paths: list[Path], progress: bool = False) -> IngestReport:
        if paths[0].name == "broken":
            raise ValueError("the disk said no")
        return IngestReport(added=1)

    def article(self, article_id: str) -> None:
        return None

    def digest(self, new: bool = True, **_: object) -> SimpleNamespace:
        self.digests += 1
        return SimpleNamespace(written=["d.md", "d.html"], message="1 story")


def test_one_failing_source_is_its_own_line_and_the_others_still_run(tmp_path: Path):
    library = _Library(tmp_path)
    Watchlist(tmp_path).add(Source("/srv/broken", "files", 60), Source("/srv/inbox", "files", 60))
    lines: list[str] = []
    run = run_due(library, log=lines.append)
    assert [t.failed for t in run.turns] == [["the disk said no"], []]
    assert run.turns[1].new == 1 and library.digests == 1 and run.digest == ["d.md", "d.html"]
    assert lines[0] == ("files /srv/broken: 0 new, 0 changed, 0 unchanged (0 not modified, "
                        "HTTP 304); 1 failed: the disk said no")
    broken, fine = Watchlist(tmp_path).sources()
    assert broken.failures == 1 and fine.failures == 0  # only the failing one backs off
