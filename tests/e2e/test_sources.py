"""The Sources tab: what `rag watch` follows, shown to visitors, who cannot change it."""

from __future__ import annotations

import pytest

from tests.processes import run_rag

pytestmark = [pytest.mark.e2e, pytest.mark.integration]


def test_the_sources_tab_lists_the_watched_sources_and_offers_visitors_no_way_to_add_one(
        page, app_index, app_url):
    from gradio_client import Client

    run_rag("watch", "add", "--feed", "https://example.org/press.rss", "--every", "30m",
            "--index", str(app_index))
    try:
        page.reload()
        page.get_by_role("tab", name="Sources").click()
        table = page.locator("#sources")
        page.wait_for_function("() => document.querySelector('#sources').innerText"
                               ".includes('https://example.org/press.rss')", timeout=30_000)
        assert "1800 s" in table.inner_text() and "not yet" in table.inner_text()
        tab = page.get_by_role("tabpanel").filter(has=page.locator("#sources"))
        assert tab.locator("textarea, input[type=text]").count() == 0  # nothing to type in
        endpoints = Client(app_url, verbose=False).view_api(print_info=False, return_format="dict")
        named = " ".join(endpoints.get("named_endpoints", {}))
        assert "watch" not in named and "source" not in named
    finally:
        run_rag("watch", "remove", "https://example.org/press.rss", "--index", str(app_index))
