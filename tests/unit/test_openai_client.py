"""The client of an OpenAI-compatible server: the streamed answer arrives piece by piece, and
a server that does not stream, or fails, is named in one line."""

from __future__ import annotations

import json

import pytest

from rag.core.errors import RagError
from rag.generation.generate import OpenAIGenerator
from tests.listeners import CompletionServer, QuietHandler, listening

ASK = [{"role": "user", "content": "Which cells?"}]


def test_the_streamed_answer_arrives_as_the_server_sends_it():
    server = CompletionServer("Stem cells from the umbilical cord [1].")
    try:
        pieces = list(OpenAIGenerator(server.url, api_key="k").stream(ASK, 32))
    finally:
        server.close()
    assert pieces == ["Stem cells from the umbilical cord [1]."]
    assert server.keys_seen() == ["Bearer k"]


class _Pieces(QuietHandler):
    """Three pieces in three events, a comment line and a keep-alive between them."""

    def do_POST(self) -> None:  # noqa: N802 - http.server's name
        self.rfile.read(int(self.headers.get("content-length", 0)))
        events = "".join(f"data: {json.dumps({'choices': [{'delta': {'content': p}}]})}\n\n"
                         for p in ("Stem ", "cells", " [1]."))
        self.send(200, "text/event-stream",
                  (": keep-alive\n\n" + events + "data: [DONE]\n\ndata: {}\n\n").encode())


def test_events_are_joined_in_order_and_nothing_after_done_is_read():
    with listening(_Pieces) as url:
        assert list(OpenAIGenerator(url).stream(ASK, 32)) == ["Stem ", "cells", " [1]."]


class _Page(QuietHandler):
    def do_POST(self) -> None:  # noqa: N802 - http.server's name
        self.rfile.read(int(self.headers.get("content-length", 0)))
        self.send(200, "text/html", b"<html>a login page</html>")


class _Refusing(QuietHandler):
    def do_POST(self) -> None:  # noqa: N802 - http.server's name
        self.rfile.read(int(self.headers.get("content-length", 0)))
        self.send(401, "application/json", b'{"error": "bad key"}')


@pytest.mark.parametrize(("handler", "said"), [(_Page, "did not stream its answer"),
                                               (_Refusing, "answered 401")])
def test_a_server_that_does_not_stream_an_answer_is_named_in_one_line(handler, said: str):
    with listening(handler) as url, pytest.raises(RagError, match=said) as raised:
        list(OpenAIGenerator(url).stream(ASK, 32))
    assert "\n" not in str(raised.value)
