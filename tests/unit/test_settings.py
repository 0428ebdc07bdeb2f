"""Settings: defaults, then RAG_* variables, then explicit overrides."""

from pathlib import Path

import pytest

from rag import RagError, Settings


def test_environment_variables_map_onto_typed_fields():
    settings = Settings.load(env={"RAG_TOP_K": "7", "RAG_MAX_FILE_MB": "2.5",
                                  "RAG_SUMMARIES": "/tmp/s", "RAG_INDEX": "elsewhere"})
    assert (settings.top_k, settings.max_file_mb) == (7, 2.5)
    assert settings.summaries == Path("/tmp/s") and settings.index == Path("elsewhere")


def test_flags_win_over_the_environment():
    settings = Settings.load({"top_k": 3, "index": "flag-index", "llm_url": None},
                             env={"RAG_TOP_K": "7", "RAG_INDEX": "env-index"})
    assert settings.top_k == 3 and settings.index == Path("flag-index")


def test_a_bad_value_is_a_one_line_error_naming_the_variable():
    with pytest.raises(RagError, match="RAG_TOP_K='many' is not a valid int"):
        Settings.load(env={"RAG_TOP_K": "many"})
