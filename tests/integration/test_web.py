"""Pages and feeds in, for real: a press-release site served on 127.0.0.1 (navigation, ads
and comments around each article body), its RSS feed, and pages that fail in the ways the
web fails (404, too slow, too big, not an article)."""

from __future__ import annotations

import json
import re
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.listeners import QuietHandler, listening
from tests.processes import rag_json, run_rag

pytestmark = pytest.mark.integration

RELEASES = {
    "kelp": ("Kelp forests recover after urchin culling", "2026-03-02", "Dana Reyes",
             ["Kelp cover along the northern coast tripled within two years after divers "
              "removed purple sea urchins from twelve test reefs.",
              "The team compared the culled reefs with twelve untouched reefs and found that "
              "fish counts rose alongside the kelp.",
              "The researchers caution that urchin numbers rebounded on two reefs once the "
              "culling stopped, so the effort may need to continue."]),
    "glacier": ("Glacier melt doubled in the Andes since 2000", "2026-04-15", "Tomas Vidal",
                ["Satellite measurements show that glaciers in the tropical Andes lost ice "
                 "twice as fast between 2010 and 2025 as in the decade before.",
                 "Meltwater now supplies a larger share of dry-season river flow for cities "
                 "such as La Paz, the study reports.",
                 "The authors expect that share to fall sharply once the smaller glaciers "
                 "disappear."]),
    "bees": ("Urban gardens feed more bee species than farmland", "2026-05-20", "Amara Okafor",
             ["Gardens in three European cities hosted 40 percent more wild bee species than "
              "nearby farmland, according to a survey of 180 sites.",
              "Flower diversity, not garden size, best predicted how many species a site "
              "supported.",
              "The survey ran for only one summer, and the authors call for longer records."]),
}
LATER = {
    "owls": ("Barn owls hunt by sound in total darkness", "2026-06-01", "Lena Holt",
             ["High-speed cameras showed barn owls striking mice in complete darkness using "
              "hearing alone.",
              "The owls tilted their heads to compare the timing of sounds at each ear."]),
    "coral": ("Heat-tolerant coral survives a marine heatwave", "2026-06-03", "Rui Tanaka",
              ["Coral colonies bred from heat-tolerant parents kept their algae through a "
               "six-week marine heatwave that bleached neighbouring reefs.",
               "The bred corals grew more slowly in cool years, the study notes."]),
}
BOILERPLATE = ["Subscribe to our newsletter", "Advertisement", "Great article, thanks",
               "Cookie settings", "Related news"]
BROKEN = {"missing": "HTTP 404", "slow": "timed out", "huge": "larger than",
          "photo": "not an article (image/png)"}


def press_release(title: str, date: str, author: str, paragraphs: list[str]) -> bytes:
    body = "".join(f"<p>{p}</p>" for p in paragraphs)
    return f"""<!doctype html><html><head><title>{title} | Science Newswire</title>
<meta name="author" content="{author}"><meta property="article:published_time" content="{date}">
</head><body>
<header><nav><a href="/">Home</a> <a href="/news">News</a> <a href="/about">About</a>
<a href="/cookies">Cookie settings</a></nav></header>
<div class="ad">Advertisement: Subscribe to our newsletter for weekly science headlines.</div>
<main><article><h1>{title}</h1><p class="byline">By {author}, {date}</p>{body}</article>
<aside><h2>Related news</h2><ul><li><a href="/x">Another story about oceans</a></li></ul></aside>
<section id="comments"><h2>Comments</h2>
<div class="comment"><p>Great article, thanks for sharing! Visit my shop for deals.</p></div>
</section></main>
<footer>Copyright Science Newswire. Subscribe to our newsletter.</footer></body></html>
""".encode()


def rfc822(date: str) -> str:
    return time.strftime("%a, %d %b %Y 09:00:00 GMT", time.strptime(date, "%Y-%m-%d"))


class Site:
    """What the server publishes; the feed grows when ``later`` is set. ``links``: more
    entries (slug -> any URL) the feed lists, as a feed author may; ``redirects``: paths of
    this site that redirect elsewhere; ``broken``: whether the feed lists the broken pages."""

    def __init__(self) -> None:
        self.later = False
        self.edited: dict[str, tuple] = {}
        """Pages rewritten since first published; the feed gives each an <atom:updated>."""
        self.links: dict[str, str] = {}
        self.redirects: dict[str, str] = {}
        self.broken = True
        self.release = threading.Event()  # the slow page answers once the test is over

    def items(self) -> dict[str, tuple]:
        return {**RELEASES, **(LATER if self.later else {}), **self.edited}

    def feed(self, base: str) -> bytes:
        entries = [(f"{base}/news/{slug}", title, date)
                   for slug, (title, date, *_rest) in self.items().items()]
        entries += [(f"{base}/news/{slug}", f"Broken {slug}", "2026-05-01")
                    for slug in (BROKEN if self.broken else {})]
        entries += [(link, f"Linked {slug}", "2026-05-02") for slug, link in self.links.items()]
        edited = {f"{base}/news/{slug}" for slug in self.edited}
        items = "".join(
            f"<item><title>{title}</title><link>{link}</link>"
            f"<guid>{link}</guid><pubDate>{rfc822(date)}</pubDate>"
            f"{'<atom:updated>2026-11-30T12:00:00Z</atom:updated>' if link in edited else ''}"
            "</item>" for link, title, date in entries)
        return (f"<?xml version='1.0'?><rss version='2.0' "
                f"xmlns:atom='http://www.w3.org/2005/Atom'><channel><title>Science Newswire"
                f"</title><link>{base}/</link>{items}</channel></rss>").encode()


@pytest.fixture
def site() -> Iterator[tuple[str, Site]]:
    state = Site()

    class Handler(QuietHandler):
        protocol_version = "HTTP/1.0"  # the 50 MB page has no length: read until close

        def do_GET(self) -> None:  # noqa: N802 (http.server's name)
            base = f"http://127.0.0.1:{self.server.server_port}"
            slug = self.path.rsplit("/", 1)[-1]
            try:
                if self.path == "/feed.xml":
                    self.send(200, "application/rss+xml", state.feed(base))
                elif self.path in state.redirects:
                    self.send_response(302)
                    self.send_header("Location", state.redirects[self.path])
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                elif slug in state.items():
                    self.send(200, "text/html; charset=utf-8", press_release(*state.items()[slug]))
                elif slug == "slow":  # answers only after the client's deadline has passed
                    state.release.wait(60)
                    self.send(200, "text/html", press_release("Slow", "2026-01-01", "X", ["y"]))
                elif slug == "huge":
                    self.send_response(200)
                    self.send_header("Content-Type", "text/html")
                    self.end_headers()
                    for _ in range(50):
                        self.wfile.write(b"<p>" + b"x" * 1_000_000 + b"</p>")
                elif slug == "photo":
                    self.send(200, "image/png", b"\x89PNG\r\n\x1a\n" + b"\0" * 2000)
                else:
                    self.send(404, "text/html", b"<h1>Not found</h1>")
            except (BrokenPipeError, ConnectionResetError):
                pass  # the client gave up, as it should on the huge page

    with listening(Handler) as url:
        try:
            yield url, state
        finally:
            state.release.set()  # the slow page's thread ends before the server does


@pytest.fixture
def internal() -> Iterator[tuple[str, list[str]]]:
    """Another local service (an admin page, a metadata endpoint): records every request."""
    requests: list[str] = []

    class Handler(QuietHandler):
        def do_GET(self) -> None:  # noqa: N802 (http.server's name)
            requests.append(self.path)
            self.send(200, "text/html", press_release(
                "Internal admin", "2026-01-01", "ops",
                ["INTERNAL SECRET token 7f3a, for the operators only."]))

    with listening(Handler) as url:
        yield url, requests


FAST = {"RAG_FETCH_TIMEOUT_S": "3"}


def test_feed_takes_its_entries_then_only_new_ones_and_reports_each_broken_page(
        site: tuple[str, Site], tmp_path: Path):
    base, state = site
    index = str(tmp_path / "index")
    first = rag_json("ingest", "--feed", f"{base}/feed.xml", "--index", index,
                     "--no-progress", env=FAST, check=False)
    feed = first["feeds"][0]
    assert (feed["entries"], feed["new"], len(feed["taken"])) == (7, 7, 3)
    assert first["added"] == 3
    reasons = {f["path"].rsplit("/", 1)[-1]: f["reason"] for f in first["failed"]}
    assert set(reasons) == set(BROKEN)
    for slug, expected in BROKEN.items():
        assert expected in reasons[slug] and "\n" not in reasons[slug]

    listed = {a["url"]: a for a in rag_json("list", "--index", index)["articles"]}
    assert set(listed) == {f"{base}/news/{slug}" for slug in RELEASES}
    for slug, (title, date, _author, paragraphs) in RELEASES.items():
        row = listed[f"{base}/news/{slug}"]
        assert (row["title"], row["date"]) == (title, date)
        # what was indexed: the article's body, all of it, and nothing around it
        text = json.loads(Path(row["source"]).read_text())["text"]
        assert all(p in text for p in paragraphs), text
        assert not [b for b in BOILERPLATE if b.lower() in text.lower()], text
    hits = rag_json("search", "barn owls kelp urchins culling", "--index", index, "--k", "1")
    assert hits["hits"][0]["article_id"] == listed[f"{base}/news/kelp"]["id"]

    state.later = True
    second = rag_json("ingest", "--feed", f"{base}/feed.xml", "--index", index,
                      "--no-progress", env=FAST, check=False)
    feed = second["feeds"][0]
    assert feed["new"] == 2 + len(BROKEN)  # the broken ones are retried
    assert sorted(feed["taken"]) == sorted(
        a["id"] for a in rag_json("list", "--index", index)["articles"]
        if a["url"].rsplit("/", 1)[-1] in LATER)
    assert second["added"] == 2 and len(second["failed"]) == len(BROKEN)


def test_a_page_url_is_fetched_with_its_metadata_and_a_bad_scheme_is_refused(
        site: tuple[str, Site], tmp_path: Path):
    base, _ = site
    index = str(tmp_path / "index")
    report = rag_json("ingest", f"{base}/news/kelp", "ftp://127.0.0.1/kelp", "--index", index,
                      "--no-progress", check=False)
    assert report["added"] == 1
    assert [f["reason"] for f in report["failed"]] == ["only http:// and https:// URLs are fetched"]
    (article,) = rag_json("list", "--index", index)["articles"]
    assert (article["title"], article["url"]) == (RELEASES["kelp"][0], f"{base}/news/kelp")
    result = run_rag("ingest", "--index", index, check=False)
    assert result.returncode == 2 and "nothing to ingest" in result.stderr


def test_digest_of_the_new_feed_articles_then_nothing_new(site: tuple[str, Site],
                                                          tmp_path: Path):
    base, state = site
    index = str(tmp_path / "index")
    small = {**FAST, "RAG_GENERATOR": "smollm2-135m"}  # the page is under test, not the prose
    rag_json("ingest", "--feed", f"{base}/feed.xml", "--index", index, "--no-progress",
             env=small, check=False)
    first = rag_json("digest", "--new", "--index", index, "--no-progress", env=small)
    assert len(first["articles"]) == len(RELEASES) and first["groups"]
    markdown, page = (Path(p).read_text() for p in first["written"])
    for title, *_ in RELEASES.values():
        assert markdown.count(f"### {title}") == 1
    anchors = re.findall(r"href='#(s-[\w.-]+)'", page)
    assert anchors and all(f"<mark id='{a}'>" in page for a in anchors)
    assert all(f"{base}/news/{slug}" in page for slug in RELEASES)

    state.later = True
    rag_json("ingest", "--feed", f"{base}/feed.xml", "--index", index, "--no-progress",
             env=small, check=False)
    second = rag_json("digest", "--new", "--index", index, "--no-progress", env=small)
    listed = {a["id"]: a["url"] for a in rag_json("list", "--index", index)["articles"]}
    assert sorted(listed[a] for a in second["articles"]) == sorted(
        f"{base}/news/{slug}" for slug in LATER)
    written = sorted((tmp_path / "index" / "digests").iterdir())
    third = run_rag("digest", "--new", "--index", index, "--no-progress", env=small)
    assert third.returncode == 0 and "nothing new to digest" in third.stdout
    assert sorted((tmp_path / "index" / "digests").iterdir()) == written


def test_a_changed_page_keeps_both_versions_and_the_digest_shows_exactly_what_changed(
        site: tuple[str, Site], tmp_path: Path):
    base, state = site
    state.broken = False
    index = str(tmp_path / "index")
    small = {**FAST, "RAG_GENERATOR": "smollm2-135m"}
    feed = ["ingest", "--feed", f"{base}/feed.xml", "--index", index, "--no-progress"]
    rag_json(*feed, env=small)
    rag_json("digest", "--new", "--index", index, "--no-progress", env=small)
    title, date, author, paragraphs = RELEASES["glacier"]
    added = "Two research stations in Bolivia will now weigh the ice every month."
    state.edited["glacier"] = (title, date, author, [
        paragraphs[0].replace("between 2010 and", "between 2012 and"), *paragraphs[1:], added])
    report = rag_json(*feed, env=small)["feeds"][0]
    assert (report["new"], report["changed"]) == (0, 1)
    listed = {a["url"]: a for a in rag_json("list", "--index", index)["articles"]}
    glacier = listed.pop(f"{base}/news/glacier")
    (version,) = glacier["versions"]
    assert [(n["from"], n["to"]) for n in version["changes"]["numbers"]] == [("2010", "2012")]
    assert [s["text"] for s in version["changes"]["added"]] == [added]
    assert version["changes"]["removed"] == []
    assert [a["versions"] for a in listed.values()] == [[], []]  # unchanged pages: none
    again = rag_json(*feed, env=small)["feeds"][0]
    assert again["changed"] == 0  # the feed still says the same update: taken once

    digest = rag_json("digest", "--new", "--index", index, "--no-progress", env=small)
    assert digest["updated"] == [glacier["id"]] and digest["articles"] == []
    markdown = Path(digest["written"][0]).read_text()
    changes = [line for line in markdown.split("## Updated", 1)[1].splitlines()
               if line.startswith("- ")]
    assert len(changes) == 2
    assert re.match(r"- .*2010 → 2012 \(\[before\]\(.+\), \[now\]\(.+\)\)$", changes[0])
    assert changes[1].startswith(f"- Added: “{added}” ([now](")


def test_a_feed_cannot_make_rag_fetch_another_local_address(
        site: tuple[str, Site], internal: tuple[str, list[str]], tmp_path: Path):
    base, state = site
    inside, requests = internal
    state.broken = False
    state.links = {"admin": f"{inside}/admin", "moved": f"{base}/moved",
                   "localhost": inside.replace("127.0.0.1", "localhost") + "/metadata"}
    state.redirects = {"/moved": f"{inside}/latest/meta-data"}
    index = str(tmp_path / "index")
    report = rag_json("ingest", "--feed", f"{base}/feed.xml", "--index", index,
                      "--no-progress", env=FAST, check=False)
    assert requests == []  # the other local service received nothing
    assert report["added"] == len(RELEASES)  # the feed's own entries, from its own origin
    reasons = {f["path"]: f["reason"] for f in report["failed"]}
    assert set(reasons) == set(state.links.values())
    for link, reason in reasons.items():
        assert "private address" in reason and "\n" not in reason, (link, reason)
    secret = rag_json("search", "INTERNAL SECRET token for the operators", "--index", index)
    assert not [h for h in secret["hits"] if "INTERNAL SECRET" in h["text"]]

    allowed = rag_json("ingest", "--feed", f"{base}/feed.xml", "--index", index,
                       "--no-progress", "--allow-private-links", env=FAST, check=False)
    assert allowed["added"] == 3 and sorted(requests) == [
        "/admin", "/latest/meta-data", "/metadata"]  # the operator's choice
