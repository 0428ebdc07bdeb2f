"""An article that changes keeps its earlier text as a version, with what changed: sentences
added and removed, numbers changed; an unchanged article records none."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from rag import Library
from rag.cli.main import app
from rag.index.versions import changes, describe

BEFORE = ("Flooding hit the valley on Monday. The death toll rose to 12 by evening. "
          "Roads into the town were closed.")
AFTER = ("Flooding hit the valley on Monday. The death toll rose to 15 by evening. "
         "Roads into the town were closed. A second storm is expected on Friday.")


def test_changes_name_the_number_that_changed_and_the_sentence_added():
    found = changes(BEFORE, AFTER)
    (number,) = found["numbers"]
    assert (number["context"], number["from"], number["to"]) == ("death toll rose", "12", "15")
    assert BEFORE[number["old"]["start"]:number["old"]["end"]] == "12"
    assert AFTER[number["new"]["start"]:number["new"]["end"]] == "15"
    assert [s["text"] for s in found["added"]] == ["A second storm is expected on Friday."]
    assert found["removed"] == [] and len(found["reworded"]) == 1
    assert describe(found) == ["death toll rose 12 → 15", "1 sentence(s) added",
                               "1 sentence(s) reworded"]


def test_a_sentence_rewritten_entirely_is_removed_and_another_added():
    found = changes("The bridge was closed. Ferries ran all day.",
                    "The bridge was closed. Buses replaced the trains overnight.")
    assert [s["text"] for s in found["removed"]] == ["Ferries ran all day."]
    assert [s["text"] for s in found["added"]] == ["Buses replaced the trains overnight."]
    assert found["reworded"] == found["numbers"] == []


def test_a_changed_article_keeps_its_earlier_version(library: Library, tmp_path: Path,
                                                     monkeypatch: pytest.MonkeyPatch):
    story = tmp_path / "flood.md"
    story.write_text(f"---\ntitle: Floods\n---\n{BEFORE}\n")
    library.ingest([story])
    library.ingest([story])  # unchanged: nothing to keep
    assert library.versions("flood") == []
    story.write_text(f"---\ntitle: Floods\n---\n{AFTER}\n")
    report = library.ingest([story])
    assert report.updated == 1
    (version,) = library.versions("flood")
    assert version["number"] == 1 and version["text"].strip() == BEFORE
    assert [(n["from"], n["to"]) for n in version["changes"]["numbers"]] == [("12", "15")]
    assert library.article("flood").text.strip() == AFTER
    monkeypatch.setattr(Library, "open", classmethod(lambda cls, settings=None: library))
    listed = CliRunner().invoke(app, ["list", "--json"])
    (row,) = json.loads(listed.stdout)["articles"]
    assert [v["number"] for v in row["versions"]] == [1] and "text" not in row["versions"][0]
    library.remove(["flood"])  # the history stays, the removed text its newest version
    assert library.article("flood") is None
    assert [v["text"].strip() for v in library.versions("flood")] == [BEFORE, AFTER]
    assert library.versions("flood")[-1]["changes"]["added"] == []
