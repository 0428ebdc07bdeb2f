"""``rag watch`` against a real site on 127.0.0.1 whose feed gains an entry and whose page
changes silently (same entry, new text, new ETag): each is taken within one interval, one
digest is written per run that found something, and none while only 304s come back."""

from __future__ import annotations

import hashlib
import json
import os
import random
import signal
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import REPO
from tests.integration.test_web import LATER, RELEASES, press_release, rfc822
from tests.listeners import QuietHandler, listening
from tests.processes import RAG, rag_json, run_rag, wait_until

pytestmark = pytest.mark.integration
SMALL = {"RAG_GENERATOR": "smollm2-135m", "RAG_FETCH_TIMEOUT_S": "5"}  # the watch is tested


class Site:
    """A feed and its pages, each page with an ETag of its bytes; a request that sends the
    ETag back is answered 304. Every answer's status is recorded per path."""

    def __init__(self) -> None:
        self.items = {slug: RELEASES[slug] for slug in ("kelp", "glacier")}
        self.answers: list[tuple[str, int]] = []

    def feed(self, base: str) -> bytes:
        items = "".join(f"<item><title>{title}</title><link>{base}/news/{slug}</link>"
                        f"<guid>{base}/news/{slug}</guid><pubDate>{rfc822(date)}</pubDate>"
                        "</item>" for slug, (title, date, *_) in self.items.items())
        return (f"<?xml version='1.0'?><rss version='2.0'><channel><title>Newswire</title>"
                f"<link>{base}/</link>{items}</channel></rss>").encode()


@pytest.fixture
def site() -> Iterator[tuple[str, Site]]:
    state = Site()

    class Handler(QuietHandler):
        def do_GET(self) -> None:  # noqa: N802 (http.server's name)
            base = f"http://127.0.0.1:{self.server.server_port}"
            slug = self.path.rsplit("/", 1)[-1]
            if self.path == "/feed.xml":
                body, kind = state.feed(base), "application/rss+xml"
            elif slug in state.items:
                body, kind = press_release(*state.items[slug]), "text/html; charset=utf-8"
            else:
                state.answers.append((self.path, 404))
                self.send(404, "text/html", b"<h1>Not found</h1>")
                return
            tag = f'"{hashlib.sha256(body).hexdigest()[:16]}"'
            if self.headers.get("If-None-Match") == tag:
                state.answers.append((self.path, 304))
                self.send_response(304)
                self.send_header("ETag", tag)
                self.end_headers()
                return
            state.answers.append((self.path, 200))
            self.send_response(200)
            self.send_header("Content-Type", kind)
            self.send_header("ETag", tag)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

    with listening(Handler) as url:
        yield url, state


def _digests(index: Path) -> list[Path]:
    return sorted((index / "digests").glob("digest-*.md"))


def test_a_running_watch_takes_new_entries_and_silent_page_changes_one_digest_per_find(
        site: tuple[str, Site], tmp_path: Path):
    base, state = site
    index = tmp_path / "index"
    run_rag("watch", "add", "--feed", f"{base}/feed.xml", "--every", "1s", "--index",
            str(index))
    log = tmp_path / "watch.log"
    with open(log, "w") as out:
        watching = subprocess.Popen([*RAG, "watch", "run", "--index", str(index)], cwd=REPO,
                                    stdout=out, stderr=subprocess.STDOUT,
                                    env={**os.environ, "HF_HUB_OFFLINE": "1", **SMALL})

    def runs() -> list[str]:
        return [line for line in log.read_text().splitlines() if line.startswith("feed ")]

    def quiet_runs_after(count: int) -> int:
        """Runs after the first ``count`` in which every page answered 304."""
        return sum("0 new, 0 changed, 2 unchanged (2 not modified" in line or
                   "0 new, 0 changed, 3 unchanged (3 not modified" in line
                   for line in runs()[count:])

    try:
        wait_until(lambda: len(_digests(index)) == 1, 300, "the first digest")
        first = _digests(index)[0].read_text()
        assert all(f"### {title}" in first for title, *_ in state.items.values())
        seen = len(runs())
        wait_until(lambda: quiet_runs_after(seen) >= 2, 120, "two runs of only 304s")
        assert len(_digests(index)) == 1  # nothing new: no digest

        state.items["owls"] = LATER["owls"]  # the feed gains an entry
        wait_until(lambda: len(_digests(index)) == 2, 300, "the digest of the new entry")
        second = _digests(index)[1].read_text()
        assert f"### {LATER['owls'][0]}" in second
        assert all(f"### {title}" not in second for title, *_ in RELEASES.values())

        title, date, author, paragraphs = state.items["kelp"]
        state.items["kelp"] = (title, date, author, [
            paragraphs[0].replace("tripled", "doubled"), *paragraphs[1:]])  # same entry
        wait_until(lambda: len(_digests(index)) == 3, 300, "the digest of the changed page")
        third = _digests(index)[2].read_text()
        assert "Updated" in third and "doubled" in third, third[:2000]
        seen = len(runs())
        wait_until(lambda: quiet_runs_after(seen) >= 2, 120, "quiet runs after the change")
        assert len(_digests(index)) == 3
    finally:
        watching.terminate()
        watching.wait(timeout=60)

    kelp = [a for a in rag_json("list", "--index", str(index))["articles"]
            if a["url"].endswith("/news/kelp")]
    assert len(kelp) == 1 and len(kelp[0]["versions"]) == 1  # the earlier text is kept
    listed = run_rag("watch", "list", "--index", str(index)).stdout
    assert f"feed {base}/feed.xml (every 1 s" in listed and "not modified" in listed
    # each page was fetched whole only when it was new, changed, or had no validators yet
    whole = [path for path, status in state.answers if status == 200 and path != "/feed.xml"]
    assert sorted(set(whole)) == ["/news/glacier", "/news/kelp", "/news/owls"]
    assert all(whole.count(p) <= 3 for p in set(whole)), whole


def test_watch_list_add_and_remove_say_what_they_did_and_refuse_nonsense(tmp_path: Path):
    index = str(tmp_path / "index")
    folder = tmp_path / "inbox"
    folder.mkdir()
    assert "nothing is watched" in run_rag("watch", "list", "--index", index).stdout
    added = run_rag("watch", "add", str(folder), "--every", "15m", "--index", index)
    assert f"watching files {folder}" in added.stdout
    sources = rag_json("watch", "list", "--index", index)["sources"]
    assert [(s["kind"], s["location"], s["every_s"]) for s in sources] == [
        ("files", str(folder), 900.0)]
    bad = run_rag("watch", "add", str(folder), "--every", "soon", "--index", index,
                  check=False)
    assert bad.returncode == 2 and bad.stderr.strip().startswith("error: interval 'soon'")
    missing = run_rag("watch", "add", str(tmp_path / "nowhere"), "--index", index, check=False)
    assert missing.returncode == 2 and "does not exist" in missing.stderr
    run_rag("watch", "remove", str(folder), "--index", index)
    assert rag_json("watch", "list", "--index", index)["sources"] == []


def test_kill_9_at_random_points_leaves_index_and_digests_whole_and_the_next_run_finishes(
        site: tuple[str, Site], tmp_path: Path):
    from rag.sources.watch import next_due

    base, state = site
    state.items = {**RELEASES, **LATER, **{
        f"survey-{n}": (f"Survey {n} counts river otters", f"2026-07-{n + 1:02d}", "Ana Ruiz",
                        [f"Volunteers counted {40 + n} river otters along stretch {n} of the "
                         "river this spring.",
                         f"The count for stretch {n} is the highest since records began."])
        for n in range(3)}}
    index = tmp_path / "index"
    run_rag("watch", "add", "--feed", f"{base}/feed.xml", "--every", "1s", "--index",
            str(index))
    env = {**os.environ, "HF_HUB_OFFLINE": "1", **SMALL}
    rng = random.Random(7)
    for _ in range(3):
        watching = subprocess.Popen([*RAG, "watch", "run", "--index", str(index)], cwd=REPO,
                                    stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                                    env=env)
        try:
            watching.wait(timeout=rng.uniform(1.0, 8.0))
        except subprocess.TimeoutExpired:
            watching.send_signal(signal.SIGKILL)
        watching.wait()
        assert watching.returncode == -signal.SIGKILL, "the watch ended before it was killed"
        assert rag_json("info", "--index", str(index), "--check")["problems"] == []
        assert run_rag("watch", "list", "--index", str(index)).returncode == 0

    wait_until(lambda: next_due(index) <= time.time(), 30, "the feed to be due")
    run_rag("watch", "run", "--once", "--index", str(index), env=SMALL)
    listed = rag_json("list", "--index", str(index))["articles"]
    assert sorted(a["url"].rsplit("/", 1)[1] for a in listed) == sorted(state.items)
    digested = json.loads((index / "digests" / "state.json").read_text())
    assert sorted(digested) == sorted(a["id"] for a in listed)  # every story in a digest
    for page in (index / "digests").glob("digest-*.html"):
        assert page.read_text().rstrip().endswith("</html>"), page
    for notes in (index / "digests").glob("digest-*.md"):
        assert notes.read_text().startswith("# "), notes


def test_the_app_started_with_watch_takes_a_file_dropped_into_a_watched_folder(
        tmp_path: Path):
    from tests.conftest import SAMPLE
    from tests.processes import serving

    inbox, index = tmp_path / "inbox", tmp_path / "index"
    inbox.mkdir()
    run_rag("watch", "add", str(inbox), "--every", "1s", "--index", str(index))
    with serving(index, "--watch", env=SMALL):
        (inbox / SAMPLE.name).write_text(SAMPLE.read_text())
        wait_until(lambda: len(_digests(index)) == 1, 300, "the digest of the dropped file")
        found = run_rag("search", "angiopoietin balance in POI rats", "--index", str(index),
                        "--json")
        assert "answered by the app serving this index" in found.stderr  # the app has it
        assert json.loads(found.stdout)["hits"][0]["article_id"] == SAMPLE.stem
