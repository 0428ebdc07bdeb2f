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


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings.load({"index": tmp_path / "index"}, env={})


@pytest.fixture
def library(settings: Settings) -> Library:
    return Library.open(settings, HashingEmbedder())


@pytest.fixture
def corpus_copy(tmp_path: Path) -> Path:
    """A writable copy of the bundled corpus."""
    target = tmp_path / "corpus"
    shutil.copytree(CORPUS, target)
    return target
