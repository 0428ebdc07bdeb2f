"""The digest page in a real browser: opened offline from its file, and inside the app's
Summaries tab; a TLDR's link opens the article text and highlights the sentence it rests
on."""

from __future__ import annotations

import re
import shutil
import tempfile
from pathlib import Path

import pytest

from rag import Library, Settings
from tests.conftest import SAMPLE
from tests.e2e.conftest import ARTIFACTS
from tests.fakes import HashingEmbedder
from tests.processes import rag_json, serving
from tests.unit.test_digest import STORIES, EchoSummaries

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def digest_page(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A digest of four small stories (fake embedder and summaries: the page is the test)."""
    root = tmp_path_factory.mktemp("digest")
    (root / "news").mkdir()
    for name, text in STORIES.items():
        (root / "news" / f"{name}.md").write_text(f"---\ntitle: {name.title()}\n---\n{text}\n")
    library = Library.open(Settings.load({"index": root / "index"}, env={}), HashingEmbedder())
    library.ingest([root / "news"])
    library.use_generator(EchoSummaries())
    report = library.digest(new=True)
    return Path(report.written[1])


def check_tldr_link_highlights_its_sentence(frame) -> None:
    tldr = frame.locator("li.tldr", has_text="Kelp forests recovered")
    link = tldr.locator("a").first
    anchor = link.get_attribute("href").lstrip("#")
    assert frame.locator("details:has(mark#" + anchor + ")").get_attribute("open") is None
    link.click()
    mark = frame.locator(f"mark#{anchor}")
    mark.wait_for(state="visible", timeout=10_000)
    assert mark.inner_text() == STORIES["kelp"].split(". ")[0] + "."
    colour = mark.evaluate("m => getComputedStyle(m).backgroundColor")
    assert colour not in ("rgba(0, 0, 0, 0)", "transparent"), colour


def test_the_offline_digest_page_highlights_the_sentence_a_tldr_links_to(browser, digest_page):
    page = browser.new_page()
    page.goto(digest_page.as_uri())
    assert re.match(r"Digest \d{4}-\d{2}-\d{2}", page.title())
    assert page.locator("h2").count() >= 2  # topic groups
    check_tldr_link_highlights_its_sentence(page)
    page.screenshot(path=str(ARTIFACTS / "digest.png"), full_page=True)
    page.close()


def test_the_summaries_tab_shows_the_latest_digest_with_working_links(page, app_index,
                                                                       digest_page):
    folder = app_index / "digests"
    folder.mkdir(exist_ok=True)
    shutil.copy(digest_page, folder / digest_page.name)
    page.reload()
    page.get_by_role("tab", name="Summaries").click()
    frame = page.frame_locator("#digest iframe")
    frame.locator("h1").wait_for(timeout=30_000)
    check_tldr_link_highlights_its_sentence(frame)


def test_the_digest_shows_when_the_index_lives_outside_the_working_and_temp_folders(
        browser, digest_page):
    home = Path(tempfile.mkdtemp(prefix="rag-e2e-", dir=Path.home()))
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    log = ARTIFACTS / "rag-serve-home-index.log"
    try:
        (home / "articles").mkdir()
        shutil.copy(SAMPLE, home / "articles")
        index = home / "index"
        rag_json("ingest", str(home / "articles"), "--index", str(index), "--no-progress")
        (index / "digests").mkdir()
        shutil.copy(digest_page, index / "digests" / digest_page.name)
        with serving(index, log=log) as url:
            page = browser.new_page()
            page.goto(url)
            page.get_by_role("tab", name="Summaries").click()
            frame = page.frame_locator("#digest iframe")
            frame.locator("h1").wait_for(timeout=60_000)
            check_tldr_link_highlights_its_sentence(frame)
            page.locator(f"#digest-files td.filename[aria-label='{digest_page.name}']").wait_for(
                timeout=30_000)
            page.close()
        assert "InvalidPathError" not in log.read_text()
    finally:
        shutil.rmtree(home, ignore_errors=True)


@pytest.fixture(scope="module")
def two_digests(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The digests folder after two digests: two stories, then the two that came later."""
    root = tmp_path_factory.mktemp("digests")
    (root / "news").mkdir()
    library = Library.open(Settings.load({"index": root / "index"}, env={}), HashingEmbedder())
    library.use_generator(EchoSummaries())
    for names in (["kelp", "coral"], ["glacier", "snow"]):
        for name in names:
            (root / "news" / f"{name}.md").write_text(
                f"---\ntitle: {name.title()}\n---\n{STORIES[name]}\n")
        library.ingest([root / "news"])
        assert len(library.digest(new=True).written) == 2
    return library.digests_folder


def test_the_digests_feed_parses_newest_first_and_its_links_open_in_the_app(
        page, app_index, app_url, two_digests):
    import feedparser
    import httpx

    folder = app_index / "digests"
    folder.mkdir(exist_ok=True)
    for made in two_digests.iterdir():
        shutil.copy(made, folder / made.name)
    page.reload()
    page.get_by_role("tab", name="Summaries").click()
    link = page.locator("#digest-feed a")
    link.wait_for(timeout=30_000)
    url = app_url.rstrip("/") + link.get_attribute("href")
    served = httpx.get(url, timeout=30)
    assert served.status_code == 200
    feed = feedparser.parse(served.content, response_headers={
        "content-location": url, "content-type": "application/atom+xml"})
    assert not feed.bozo, feed.get("bozo_exception")
    assert len(feed.entries) == 2
    newest, oldest = feed.entries
    assert newest.updated_parsed >= oldest.updated_parsed
    assert "Glacier" in newest.content[0].value and "Kelp" in oldest.content[0].value
    for entry in feed.entries:
        opened = httpx.get(entry.link, timeout=30)
        assert opened.status_code == 200 and "<h1>Digest" in opened.text, entry.link
