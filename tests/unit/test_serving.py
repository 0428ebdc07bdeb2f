"""Finding a running app by its note in the index folder, and asking it from the command line.

The app here is a stand-in speaking Gradio's call protocol (POST the question, read the
result as server-sent events); the real app is asked in tests/e2e/test_server_path.py.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from typer.testing import CliRunner

from rag import RagError
from rag.answers import serving
from rag.cli.main import app

ANSWER = {"question": "q", "answer": "Yes. [1]", "refused": False, "verdict": "yes",
          "sentences": [{"text": "Yes.", "citations": [1], "supported": True, "quotes": [0],
                         "status": "supported", "reason": "", "said": ""}],
          "citations": [{"n": 1, "article_id": "a", "title": "A", "start": 0, "end": 4,
                         "text": "Yes.", "support": 0.9}], "hits": [],
          "timings": {"total_s": 1.5}}


class StandIn(BaseHTTPRequestHandler):
    """Answers every call with ``ANSWER``, or the error event a refused request gets."""

    asked: list[dict] = []
    refuse = ""

    def do_POST(self) -> None:  # noqa: N802 - the http.server spelling
        body = self.rfile.read(int(self.headers["Content-Length"]))
        StandIn.asked.append({"path": self.path, **json.loads(body)})
        self._send("application/json", json.dumps({"event_id": "e1"}))

    def do_GET(self) -> None:  # noqa: N802
        if self.refuse:
            event = f"event: error\ndata: {json.dumps({'error': self.refuse})}\n\n"
        else:
            event = f"event: complete\ndata: {json.dumps([ANSWER])}\n\n"
        self._send("text/event-stream", event)

    def _send(self, kind: str, text: str) -> None:
        self.send_response(200)
        self.send_header("Content-Type", kind)
        self.send_header("Content-Length", str(len(text.encode())))
        self.end_headers()
        self.wfile.write(text.encode())

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def stand_in(tmp_path: Path) -> Iterator[tuple[Path, int]]:
    """An index folder whose note names the stand-in app (this process serves it)."""
    StandIn.asked, StandIn.refuse = [], ""
    server = ThreadingHTTPServer(("127.0.0.1", 0), StandIn)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    index = tmp_path / "index"
    index.mkdir()
    port = server.server_address[1]
    with serving.announced(index, "127.0.0.1", port, login=False):
        yield index, port
    server.shutdown()


def test_the_note_names_the_app_while_it_serves_and_is_gone_after(tmp_path: Path):
    with serving.announced(tmp_path, "0.0.0.0", 8123, login=True):
        found = serving.find(tmp_path)
        assert found is not None and (found.port, found.pid, found.login) == (
            8123, os.getpid(), True)
        assert found.url == "http://127.0.0.1:8123"  # an app on every address is asked here
    assert serving.find(tmp_path) is None and not (tmp_path / serving.SERVER_NOTE).exists()


def _note(folder: Path, **changes: object) -> None:
    note = {"index": str(folder.resolve()), "host": "127.0.0.1", "port": 8123,
            "pid": os.getpid(), "login": False, **changes}
    (folder / serving.SERVER_NOTE).write_text(json.dumps(note))


def test_a_note_of_a_gone_process_a_copied_folder_or_another_host_is_passed_over(
        tmp_path: Path):
    gone = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                          capture_output=True, text=True, check=True)
    _note(tmp_path)
    assert serving.find(tmp_path) is not None  # the well-formed note is found ...
    _note(tmp_path, pid=int(gone.stdout))
    assert serving.find(tmp_path) is None  # ... but not once its process has ended
    _note(tmp_path, index=str(tmp_path / "elsewhere"))
    assert serving.find(tmp_path) is None  # a note copied along with the folder
    _note(tmp_path, host="203.0.113.7")
    assert serving.find(tmp_path) is None  # a question never leaves this computer
    (tmp_path / serving.SERVER_NOTE).write_text("{not json")
    assert serving.find(tmp_path) is None


def test_ask_prints_the_running_apps_answer_and_says_where_it_came_from(stand_in):
    index, port = stand_in
    result = CliRunner().invoke(app, ["ask", "Is it so?", "--index", str(index), "--json"])
    assert result.exit_code == 0, result.output
    printed = json.loads(result.stdout)
    command_s = printed["timings"].pop("command_s")
    assert printed == ANSWER and command_s > 0  # the app's answer, and the command's own time
    assert f"answered by the app serving this index, http://127.0.0.1:{port}" in result.stderr
    assert StandIn.asked == [{"path": "/gradio_api/call/ask", "data": ["Is it so?"]}]
    shown = CliRunner().invoke(app, ["ask", "Is it so?", "--index", str(index)])
    assert shown.stdout.splitlines()[:2] == ["Yes. [1]", "Sources:"]


def test_the_apps_refusal_is_the_commands_one_line_error(stand_in):
    index, _ = stand_in
    StandIn.refuse = "the question has 9000 characters; ask at most 2000"
    result = CliRunner().invoke(app, ["check", "x" * 9000, "--index", str(index)])
    assert result.exit_code == 2
    assert result.stderr.strip() == f"error: {StandIn.refuse}"


def _open_here(settings: object) -> None:
    """Stands for opening the index in this process (the real one would load models)."""
    raise RagError("opened here")


def test_options_the_app_cannot_take_keep_the_question_in_this_process(stand_in,
                                                                       monkeypatch):
    index, _ = stand_in
    monkeypatch.setattr("rag.cli.main.open_library", _open_here)
    for args in (["ask", "q", "--k", "3"], ["ask", "q", "--session", "s"],
                 ["ask", "q", "--no-server"], ["search", "q", "--article", "a"]):
        result = CliRunner().invoke(app, [*args, "--index", str(index)])
        assert result.stderr.strip() == "error: opened here", args
    assert StandIn.asked == []


def test_an_app_that_does_not_answer_is_passed_over_with_a_note(tmp_path: Path, monkeypatch):
    _note(tmp_path, port=9)  # the discard port: nothing listens there
    monkeypatch.setattr("rag.cli.main.open_library", _open_here)
    result = CliRunner().invoke(app, ["search", "q", "--index", str(tmp_path)])
    assert "did not answer" in result.stderr and "answering in this process" in result.stderr
    assert result.stderr.strip().endswith("error: opened here")
