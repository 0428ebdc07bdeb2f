"""A running ``rag serve`` on an index, found and asked by the command line.

The app keeps its models loaded; a ``rag ask`` that loads them again spends seconds before
its question reaches the model. So ``rag serve`` leaves a note in its index folder
(``serve.json``: its address and process id, and whether it wants a login), and ``rag ask``,
``search`` and ``check`` send the question to it through the app's own API (the ``/ask``,
``/search`` and ``/check`` endpoints, Gradio's REST protocol), getting back the same JSON
they would have computed. A note whose process is gone, or a server that does not answer,
is passed over: the command answers in its own process.

The note holds no secret; the command line logs in with ``Settings.server_login`` when the
app wants one. Only an address on this computer is ever contacted (the note lives in the
operator's folder, but a question should not leave the machine on the word of a file).
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from rag.core.errors import RagError

SERVER_NOTE = "serve.json"
LOOPBACK = {"127.0.0.1", "localhost", "::1"}
_ANY_ADDRESS = {"0.0.0.0", "::", ""}


class ServerUnavailable(Exception):
    """The server could not be reached or logged into: answer in this process instead."""


@dataclass(frozen=True)
class RunningServer:
    """Where a ``rag serve`` of this index listens, as its note says."""

    index: str  # the folder it serves, resolved: a copy of the folder carries the note along
    host: str
    port: int
    pid: int
    login: bool

    @property
    def url(self) -> str:
        host = "127.0.0.1" if self.host in _ANY_ADDRESS else self.host
        return f"http://[{host}]:{self.port}" if ":" in host else f"http://{host}:{self.port}"


@contextmanager
def announced(index: Path, host: str, port: int, login: bool) -> Iterator[None]:
    """Leave the note while the block runs (the app is serving), and take it away after
    unless another server has replaced it."""
    note = Path(index) / SERVER_NOTE
    mine = RunningServer(str(Path(index).resolve()), host, port, os.getpid(), login)
    partial = note.with_name(f".{SERVER_NOTE}.{os.getpid()}")
    partial.write_text(json.dumps(asdict(mine)))
    os.replace(partial, note)
    try:
        yield
    finally:
        if find(index) == mine:
            note.unlink(missing_ok=True)


def find(index: Path) -> RunningServer | None:
    """The server the note in ``index`` names, if its process still runs on this computer
    and it listens on this computer; else None."""
    try:
        found = RunningServer(**json.loads((Path(index) / SERVER_NOTE).read_text()))
        os.kill(int(found.pid), 0)
    except (OSError, ValueError, TypeError):  # no note, an unreadable one, or a gone process
        return None
    if found.host not in LOOPBACK | _ANY_ADDRESS or found.index != str(Path(index).resolve()):
        return None
    return found


def call(server: RunningServer, endpoint: str, text: str, login: str = "",
         timeout: float = 600.0) -> dict[str, Any]:
    """What the app's ``endpoint`` (ask, search, check) returns for ``text``: the JSON the
    command would print. A refusal by the app (bad input) is a ``RagError`` with its message;
    a server that cannot be reached or logged into raises ``ServerUnavailable``."""
    import httpx
    from httpx_sse import connect_sse

    try:
        with httpx.Client(base_url=server.url, timeout=timeout, trust_env=False) as client:
            if server.login:
                _log_in(client, login)
            started = client.post(f"/gradio_api/call/{endpoint}", json={"data": [text]})
            if started.status_code in (401, 403):
                raise ServerUnavailable("the app wants a login")
            started.raise_for_status()
            event_id = started.json()["event_id"]
            with connect_sse(client, "GET", f"/gradio_api/call/{endpoint}/{event_id}") as events:
                for event in events.iter_sse():
                    if event.event == "complete":
                        return json.loads(event.data)[0]
                    if event.event == "error":
                        raise RagError(_error_message(event.data))
    except (httpx.HTTPError, KeyError, ValueError) as err:
        raise ServerUnavailable(str(err) or type(err).__name__) from None
    raise ServerUnavailable("the app closed the answer without a result")


def _log_in(client: Any, login: str) -> None:
    user, _, password = login.partition(":")
    if not (user and password):
        raise ServerUnavailable("the app wants a login; set RAG_SERVER_LOGIN=USER:PASSWORD")
    if client.post("/login", data={"username": user, "password": password}).status_code != 200:
        raise ServerUnavailable("the app refused RAG_SERVER_LOGIN")


def _error_message(data: str) -> str:
    """The one line the app gave for a refused request (its ``gr.Error`` text)."""
    try:
        payload = json.loads(data)
    except ValueError:
        return data.strip() or "the app refused the request"
    if isinstance(payload, dict):
        return str(payload.get("error") or "the app refused the request")
    return str(payload or "the app refused the request")
