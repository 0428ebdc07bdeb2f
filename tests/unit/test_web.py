"""What a feed's author can make the operator's CLI read: web pages only, unless the feed is
a saved file, and then only files in the feed's own folder."""

from __future__ import annotations

from pathlib import Path

import pytest

from rag.errors import UnreadableInput
from rag.web import Entry, FetchLimits, fetch_entry


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
