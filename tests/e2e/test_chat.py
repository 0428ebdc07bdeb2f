"""The chat in a real browser and the app's API through a real client."""

from __future__ import annotations

import pytest

from tests.e2e.conftest import ARTIFACTS, ask

pytestmark = [pytest.mark.e2e, pytest.mark.integration]
QUESTION = "Which angiopoietins does the study focus on?"


def test_answer_streams_and_citation_opens_the_highlighted_span(page):
    page.locator("#question textarea").fill(QUESTION)
    page.locator("#ask").click()
    # the extractive answer with its sources comes first, long before the model finishes
    page.wait_for_selector("#chat .extractive a.cite, #chat .final a.cite", timeout=60_000)
    ask_done = "() => document.querySelectorAll('#chat .final').length > 0"
    page.wait_for_function(ask_done, timeout=300_000)
    answer = page.locator("#chat .final").last.inner_text()
    assert "Ang1" in answer or "angiopoietin 1" in answer.lower(), answer

    page.locator("#chat .final a.cite").first.click()
    mark = page.locator("#source-panel #cited-span")
    mark.wait_for(timeout=30_000)
    assert "angiopoietin" in mark.inner_text().lower()
    assert mark.is_visible()
    box, panel = mark.bounding_box(), page.locator("#source-panel .article-text").bounding_box()
    assert panel["y"] <= box["y"] <= panel["y"] + panel["height"], "span not scrolled into view"
    page.screenshot(path=str(ARTIFACTS / "chat-citation.png"))


def test_follow_up_question_in_the_same_session_uses_the_conversation(page):
    ask(page, "Who led the study on hUCMSCs and ovarian function?")
    ask(page, "Which journal published it?")
    assert "ovarian research" in page.locator("#chat .final").last.inner_text().lower()


def test_a_default_gradio_client_gets_answers_hits_chats_and_checks(app_url):
    from gradio_client import Client

    client = Client(app_url, verbose=False)  # default arguments: nothing is taken for a file
    result = client.predict(QUESTION, api_name="/ask")
    assert result["refused"] is False and result["route"] in ("generated", "extractive")
    assert result["citations"], result
    cited = result["citations"][0]
    assert cited["article_id"] == "000_c385f1c34fdd9a0c"
    assert cited["end"] > cited["start"] and cited["support"] > 0
    assert "angiopoietin" in " ".join(c["text"] for c in result["citations"]).lower()
    hits = client.predict("angiopoietin 1 and 2", api_name="/search")["hits"]
    assert hits and hits[0]["article_id"] == "000_c385f1c34fdd9a0c"
    checked = client.predict("The researchers used a dog model of POI.", api_name="/check")
    assert checked["status"] == "contradicted" and checked["citations"], checked
    shown, _ = client.predict(QUESTION, [], 5, "local model", None, 0.0, api_name="/chat")
    content = shown[-1]["content"]  # Gradio 6 gives a message's content as a list of parts
    text = content if isinstance(content, str) else " ".join(
        str(part.get("text", "")) if isinstance(part, dict) else str(part) for part in content)
    assert "angiopoietin" in text.lower(), content


def test_question_with_nothing_relevant_is_refused_with_closest_passages(page):
    ask(page, "What did the study find about Alzheimer's disease?")
    message = page.locator("#chat .message").last.inner_text()
    assert "do not say" in message and "Closest passages" in message


def test_check_a_statement_says_what_the_article_says_and_opens_it(page):
    page.get_by_role("tab", name="Check a statement").click()
    page.locator("#check-statement textarea").fill("The researchers used a dog model of POI.")
    page.locator("#check").click()
    result = page.locator("#check-result .check")
    result.wait_for(timeout=120_000)
    assert result.get_attribute("data-status") == "contradicted"
    assert "Contradicted" in result.inner_text() and "“rat”" in result.inner_text()
    result.locator("a.cite").first.click()
    cited = page.locator("#source-panel #cited-span")
    cited.wait_for(timeout=30_000)
    assert "rat model" in cited.inner_text()
    page.screenshot(path=str(ARTIFACTS / "check-statement.png"))
