"""What a feed's author can make the operator's CLI read: web pages only, unless the feed is
a saved file, and then only files in the feed's own folder."""

from __future__ import annotations

from pathlib import Path

import pytest

from rag.core.errors import UnreadableInput
from rag.sources.web import Entry, FetchLimits, fetch_entry


@pytest.fixture
def folders(tmp_path: Path) -> tuple[Path, Path]:
    saved, private = tmp_path / "saved", tmp_path / "private"
    saved.mkdir()
    private.mkdir()
    (saved / "page.html").write_text("<html><body><p>Kelp recovered.</p></body></html>")
    (private / "secret.txt").write_text("The launch code is 0000.")
    return saved, private


def entry(path: Path) -> Entry:
    return Entry("k", path.as_uri(), "", "")


def test_a_saved_feed_reads_pages_in_its_own_folder(folders):
    saved, _ = folders
    fetched = fetch_entry(entry(saved / "page.html"), FetchLimits(), saved_in=saved)
    assert b"Kelp recovered" in fetched.data and fetched.kind == "html"


def test_a_saved_feed_cannot_link_a_file_outside_its_folder(folders):
    saved, private = folders
    with pytest.raises(UnreadableInput, match="own folder"):
        fetch_entry(entry(private / "secret.txt"), FetchLimits(), saved_in=saved)


def test_a_feed_from_the_web_never_reads_a_local_file(folders):
    _, private = folders
    with pytest.raises(UnreadableInput, match="only http:// and https://"):
        fetch_entry(entry(private / "secret.txt"), FetchLimits(), saved_in=None)


def test_a_damaged_feed_state_is_a_one_line_error_not_a_fresh_start(library, tmp_path):
    from rag import RagError
    from rag.sources.web import FeedState, ingest_feed

    feed = tmp_path / "feed.xml"
    feed.write_text("<?xml version='1.0'?><rss version='2.0'><channel><title>t</title>"
                    "</channel></rss>")
    state = FeedState(library.settings.index / "feeds", str(feed))
    state.path.parent.mkdir(parents=True)
    state.path.write_text('{"seen": ["an-entry"')  # cut off mid-write by hand
    with pytest.raises(RagError, match="is damaged; delete it"):
        ingest_feed(library, str(feed), FetchLimits())


def test_a_page_is_shown_under_the_url_fetched_with_its_canonical_url_beside_it():
    from rag.core.types import Article
    from rag.sources.web import Fetched, page_article
    from ui.render import source_panel

    page = (b"<html><head><title>Kelp</title><link rel='canonical' "
            b"href='https://elsewhere.example/kelp'></head><body><article><p>Kelp forests "
            b"recovered after divers removed urchins from twelve reefs.</p></article></body>"
            b"</html>")
    article = page_article(Fetched("https://news.example.org/kelp", "html", page))
    assert article.url == "https://news.example.org/kelp"
    assert article.extra["canonical"] == "https://elsewhere.example/kelp"
    shown = source_panel(Article(article.id, article.text, "Kelp", url=article.url,
                                 extra=article.extra), 0, 4)
    assert "href='https://news.example.org/kelp'" in shown
    assert "the page calls itself https://elsewhere.example/kelp" in shown
    assert "href='https://elsewhere.example" not in shown


def test_an_httpx_whose_pool_the_guard_cannot_reach_fetches_nothing(monkeypatch):
    import httpx

    from rag.core.errors import RagError
    from rag.sources import web

    class PoolElsewhere(httpx.HTTPTransport):
        def __init__(self, **kwargs) -> None:
            super().__init__(**kwargs)
            del self._pool  # as a release that renamed it would look

    monkeypatch.setattr(httpx, "HTTPTransport", PoolElsewhere)
    with pytest.raises(RagError, match="fetch guard cannot reach"):
        web._client(FetchLimits(), None)
