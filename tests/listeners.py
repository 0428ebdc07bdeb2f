"""Local HTTP listeners that stand in for the web and for a generator server in tests: a
press site, an internal service, an OpenAI-compatible server. Each serves on 127.0.0.1 on a
free port in a daemon thread."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class QuietHandler(BaseHTTPRequestHandler):
    """A request handler that sends whole bodies and keeps the test output clean."""

    def send(self, status: int, content_type: str, body: bytes) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args) -> None:
        pass


def start(handler: type[BaseHTTPRequestHandler]) -> tuple[ThreadingHTTPServer, str]:
    """A server for ``handler`` running in the background, and its base URL."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, f"http://127.0.0.1:{server.server_port}"


@contextmanager
def listening(handler: type[BaseHTTPRequestHandler]) -> Iterator[str]:
    """The base URL of a server for ``handler``, shut down on leaving."""
    server, url = start(handler)
    try:
        yield url
    finally:
        server.shutdown()


class CompletionServer:
    """An OpenAI-compatible stand-in: answers every chat completion with ``draft`` as one
    streamed chunk and records each request's headers. With ``hold``, a request waits that
    many seconds (or until ``release`` is set) before it is answered: a batch that runs long
    enough to do something else meanwhile."""

    def __init__(self, draft: str, hold: float = 0.0) -> None:
        self.requests: list[dict[str, str]] = []
        self.answered = 0
        self.release = threading.Event()
        stub = self
        body = (f"data: {json.dumps({'choices': [{'delta': {'content': draft}}]})}\n\n"
                "data: [DONE]\n\n").encode()

        class Handler(QuietHandler):
            def do_POST(self) -> None:  # noqa: N802 - http.server's name
                self.rfile.read(int(self.headers.get("content-length", 0)))
                stub.requests.append(dict(self.headers))
                if hold:
                    stub.release.wait(hold)
                self.send(200, "text/event-stream", body)
                stub.answered += 1

        self.server, base = start(Handler)
        self.url = f"{base}/v1"

    def keys_seen(self) -> list[str]:
        return [h.get("Authorization", h.get("authorization", "")) for h in self.requests]

    def close(self) -> None:
        self.release.set()
        self.server.shutdown()
