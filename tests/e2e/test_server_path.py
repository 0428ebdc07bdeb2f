"""``rag ask``, ``search`` and ``check`` through a running app: the same JSON as in their own
process, and back to their own process once the app has stopped."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from rag.answers import serving
from tests.e2e.conftest import ARTIFACTS
from tests.processes import run_rag, wait_until
from tests.processes import serving as running_app

pytestmark = [pytest.mark.e2e, pytest.mark.integration]
QUESTION = "Which angiopoietins does the study focus on?"
SEARCH = "angiopoietin 1 and 2"
SAME = ("answer", "refused", "verdict", "route", "sentences", "citations", "hits")


def _asked(*args: str) -> tuple[dict, str]:
    result = run_rag(*args, "--json")
    return json.loads(result.stdout), result.stderr


def test_the_command_line_gets_the_running_apps_answer_and_its_own_after_the_app_stops(
        app_index: Path, tmp_path: Path):
    index = tmp_path / "index"
    shutil.copytree(app_index, index)  # a note of the session's app comes along: not ours
    assert serving.find(index) is None
    with running_app(index, log=ARTIFACTS / "rag-serve-cli.log") as url:
        port = url.rstrip("/").rsplit(":", 1)[1]
        # the note is left once the app listens (it may answer a moment before)
        wait_until(lambda: serving.find(index) is not None, 30, "the app's note")
        assert str(serving.find(index).port) == port
        here = {}
        for command, text in (("ask", QUESTION), ("search", SEARCH),
                              ("check", "The researchers used a dog model of POI.")):
            through_app, said = _asked(command, text, "--index", str(index))
            assert f"answered by the app serving this index, http://127.0.0.1:{port}" in said
            here[command], said_here = _asked(command, text, "--index", str(index),
                                              "--no-server")
            assert "answered by the app" not in said_here
            if command == "ask":
                assert {k: through_app[k] for k in SAME} == {k: here["ask"][k] for k in SAME}
                assert through_app["citations"], through_app
            else:
                assert through_app == here[command]
    assert not (index / serving.SERVER_NOTE).exists()  # a stopped app takes its note away
    after, said = _asked("search", SEARCH, "--index", str(index))
    assert "answered by the app" not in said and "did not answer" not in said
    assert after == here["search"]
