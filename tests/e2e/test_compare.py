"""The Compare view in a real browser: articles picked side by side, each filled cell opens
its sentence in the article."""

from __future__ import annotations

import pytest

from tests.e2e.conftest import ARTIFACTS

pytestmark = [pytest.mark.e2e, pytest.mark.integration]


def test_compare_view_puts_articles_side_by_side_and_each_cell_opens_its_sentence(page):
    page.get_by_role("tab", name="Compare").click()
    chooser = page.locator("#compare-articles input")
    for n, typed in enumerate(("hUCMSCs", "PubMed", "PubMed"), start=1):
        chooser.click()
        chooser.fill(typed)
        page.locator("#compare-articles [role=option][aria-selected=false]").first.click()
        page.locator("#compare-articles .token").nth(n - 1).wait_for(timeout=10_000)
    page.keyboard.press("Escape")
    page.locator("#compare-question textarea").fill("Was the treatment safe?")
    page.locator("#compare").click()
    table = page.locator("#compare-table table.compare")
    table.wait_for(timeout=120_000)
    assert table.locator("thead th").count() == 1 + 3  # the point column and three articles
    points = [t.strip() for t in table.locator("tbody tr > th").all_inner_texts()]
    assert points[0] == "Was the treatment safe?" and "sample size" in points
    filled = table.locator("td[data-status]")
    assert filled.count() >= 3
    assert table.locator("td[data-status='supported']").count() == filled.count()
    cell = filled.first
    sentence = cell.inner_text().removesuffix("[open]").strip()
    cell.locator("a.cite").click()
    mark = page.locator("#source-panel #cited-span")
    mark.wait_for(timeout=30_000)
    assert mark.inner_text().strip() == sentence
    page.screenshot(path=str(ARTIFACTS / "compare.png"))
