"""A real ``rag serve`` over a small real index, and headless Debian Chromium to drive it."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import CORPUS, REPO, SAMPLE
from tests.processes import rag_json, serving

ARTIFACTS = REPO / "tests" / "artifacts"


@pytest.fixture(scope="session")
def app_index(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The sample article and a few PubMed articles, ingested with the real embedder."""
    root = tmp_path_factory.mktemp("app")
    articles = root / "articles"
    articles.mkdir()
    shutil.copy(SAMPLE, articles)
    for name in sorted(p.name for p in CORPUS.glob("pubmed-*.md"))[:6]:
        shutil.copy(CORPUS / name, articles)
    rag_json("ingest", str(articles), "--index", str(root / "index"), "--no-progress")
    return root / "index"


@pytest.fixture(scope="session")
def app_url(app_index: Path) -> Iterator[str]:
    """The app over ``app_index`` (the default model)."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    with serving(app_index, log=ARTIFACTS / "rag-serve.log") as url:
        yield url


@pytest.fixture
def page(browser, app_url: str):
    """A fresh browser session on the app; dialogs (alert/confirm) are recorded."""
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    page = context.new_page()
    page.dialogs = []
    page.on("dialog", lambda dialog: (page.dialogs.append(dialog.message), dialog.dismiss()))
    page.goto(app_url)
    page.wait_for_selector("#question textarea")
    yield page
    context.close()


def ask(page, question: str, timeout_s: float = 300) -> None:
    """Type a question in the chat and wait for the final, checked answer."""
    finals = page.locator("#chat .final, #chat .refusal").count()
    page.locator("#question textarea").fill(question)
    page.locator("#ask").click()
    page.wait_for_function(
        "n => document.querySelectorAll('#chat .final, #chat .refusal').length > n",
        arg=finals, timeout=timeout_s * 1000)


def uploaded(page, name: str, timeout_s: float = 60) -> None:
    """Wait until the Uploads box lists ``name`` as a finished upload. (While a file is still
    uploading the box's text reads "Uploading 1 file... name"; once it is done the name is
    split into stem and extension, so a text match catches only the unfinished state.)"""
    page.locator(f"#uploads td.filename[aria-label='{name}']").wait_for(
        timeout=timeout_s * 1000)
