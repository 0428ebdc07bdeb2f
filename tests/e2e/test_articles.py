"""Articles and summaries tabs in a real browser: untrusted text stays text."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.e2e.conftest import ARTIFACTS, ask, uploaded
from tests.listeners import CompletionServer
from tests.processes import wait_until

pytestmark = [pytest.mark.e2e, pytest.mark.integration]

PAYLOAD_TITLE = '<img src=x onerror="window.__xss=1;alert(1)">Zebrafish fins'
HOSTILE = f"""---
title: '{PAYLOAD_TITLE}'
date: 2024-03-01
---
<script>window.__xss = 2; alert(2)</script>
Zebrafish regrow amputated fins within two weeks through a blastema of dedifferentiated
osteoblasts. <img src=x onerror="window.__xss=3"> The regeneration depends on Wnt signalling
in the wound epidermis, the researchers found.
"""


def test_uploaded_article_with_html_payloads_is_shown_as_text_and_no_script_runs(
        page, tmp_path: Path):
    article = tmp_path / "zebrafish-xss.md"
    article.write_text(HOSTILE)
    page.get_by_role("tab", name="Articles").click()
    page.locator("#uploads input[type=file]").set_input_files(str(article))
    uploaded(page, article.name)  # the upload has finished before the ingest reads it
    page.locator("#ingest").click()
    page.wait_for_function(
        "() => document.querySelector('#ingest-report').innerText.includes('Added')",
        timeout=120_000)
    assert "Added 1" in page.locator("#ingest-report").inner_text()
    page.wait_for_function(
        "() => document.querySelector('#articles').innerText.includes('Zebrafish')",
        timeout=30_000)
    assert "onerror" in page.locator("#articles").inner_text()  # shown, not run

    page.get_by_role("tab", name="Chat").click()
    ask(page, "How do zebrafish regrow amputated fins?")
    sources = page.locator("#chat ul.sources").last.locator("li", has_text="Zebrafish")
    assert "onerror" in sources.first.inner_text()
    sources.first.locator("a.cite").click()
    page.locator("#source-panel #cited-span").wait_for(timeout=30_000)
    panel = page.locator("#source-panel").inner_text()
    assert "<script>" in panel and "onerror" in panel
    assert page.evaluate("() => window.__xss") is None
    assert page.dialogs == []
    assert page.locator("#source-panel img, #chat img[src='x'], #articles img").count() == 0
    page.screenshot(path=str(ARTIFACTS / "xss-inert.png"))


def test_summaries_tab_summarizes_an_article_with_links_into_it(page):
    page.get_by_role("tab", name="Summaries").click()
    chooser = page.locator("#summarize-choice input")
    chooser.click()
    chooser.fill("hUCMSCs")
    page.get_by_role("option").first.click()
    page.keyboard.press("Escape")
    page.locator("#summarize-selected").click()
    page.wait_for_function(
        "() => document.querySelector('#summary').innerText.includes('Key findings')",
        timeout=600_000)
    summary = page.locator("#summary")
    assert "hUCMSC" in summary.inner_text()
    summary.locator("a.cite").first.click()
    page.locator("#source-panel #cited-span").wait_for(timeout=30_000)
    assert page.locator("#source-panel h3").inner_text().startswith("hUCMSCs")
    page.screenshot(path=str(ARTIFACTS / "summary.png"))


def test_uploads_and_ingest_work_while_a_summary_batch_runs(browser, app_index, tmp_path):
    import shutil

    from tests.processes import serving

    index = tmp_path / "index"
    shutil.copytree(app_index, index, ignore=shutil.ignore_patterns("summaries", "uploads"))
    # a generator server that holds each summary for a minute: the batch runs all along
    slow = CompletionServer("## Overview\nStem cells restored ovarian function in rats.", hold=60)
    article = tmp_path / "walrus-song.md"
    article.write_text("Walruses sing to each other under the winter sea ice.\n")
    try:
        with serving(index, "--llm-url", slow.url,
                     log=ARTIFACTS / "rag-serve-busy-batch.log") as url:
            page = browser.new_page()
            page.goto(url)
            page.get_by_role("tab", name="Summaries").click()
            page.get_by_role("button", name="Summarize all new").click()
            wait_until(lambda: len(slow.requests) > 0, 60, "the summary batch to start")
            page.get_by_role("tab", name="Articles").click()
            page.locator("#uploads input[type=file]").set_input_files(str(article))
            try:
                uploaded(page, article.name, timeout_s=30)
                page.locator("#ingest").click()
                page.wait_for_function("() => document.querySelector('#ingest-report')"
                                       ".innerText.includes('Added 1')", timeout=60_000)
            except Exception:
                page.screenshot(path=str(ARTIFACTS / "upload-during-batch.png"), full_page=True)
                (ARTIFACTS / "upload-during-batch.html").write_text(page.content())
                raise
            assert slow.answered == 0  # no summary drafted yet: the batch was running all along
            page.close()
    finally:
        slow.close()
