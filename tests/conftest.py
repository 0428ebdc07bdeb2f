from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from rag import Library, Settings
from tests.fakes import HashingEmbedder

REPO = Path(__file__).resolve().parent.parent
CORPUS = REPO / "corpus"
SAMPLE = CORPUS / "000_c385f1c34fdd9a0c.txt"
SHARED = REPO.parent / "shared"
EVAL_CORPUS = SHARED / "eval" / "pubmedqa" / "corpus.jsonl"
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")


def jsonl_lines(path: Path) -> list[str]:
    """The records of a JSONL file, one per line. Split on newlines only: str.splitlines
    also splits on U+2028 and other separators that a JSON string may hold as they are."""
    return [line for line in path.read_text(encoding="utf-8").split("\n") if line.strip()]


@pytest.fixture(scope="session")
def browser():
    if CHROMIUM is None:
        pytest.fail("Debian chromium is not installed; 'make test' installs it "
                    "(apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM,
            args=["--no-sandbox", "--disable-background-networking"])
        yield browser
        browser.close()


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    """Settings for tests with fake models: the rules alone read claims (tests of the
    trained verifier load it themselves)."""
    return Settings.load({"index": tmp_path / "index", "claim_verifier": "off",
                          "statement_verifier": "off"}, env={})


@pytest.fixture
def library(settings: Settings) -> Library:
    return Library.open(settings, HashingEmbedder())


@pytest.fixture
def corpus_copy(tmp_path: Path) -> Path:
    """A writable copy of the bundled corpus."""
    target = tmp_path / "corpus"
    shutil.copytree(CORPUS, target)
    return target
