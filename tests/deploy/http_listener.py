"""A local HTTP server that plays the load balancer's test listener, for the smoke tests
(tests/deploy/test_smoke.py runs the release's script against it, test_smoke_hook.py the hook;
conftest.py's `listener` fixture starts one per test)."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from deploy import smoke_hook

HANG = 0  # an answer that never comes: the request waits until the listener stops


class Listener(ThreadingHTTPServer):
    answers: dict[str, int]
    seen: list[str]
    stopping: threading.Event

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"


class Handler(BaseHTTPRequestHandler):
    server: Listener

    def do_GET(self) -> None:  # noqa: N802 - http.server's name
        self.server.seen.append(self.path)
        status = self.server.answers.get(self.path, 404)
        if status == HANG:
            self.server.stopping.wait()
            return
        self.send_response(status)
        if status == 302:
            self.send_header("Location", "/elsewhere/")
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *args: object) -> None:
        pass


def serve() -> Iterator[Listener]:
    """A running listener that answers 200 on every smoke-test path; stopped when resumed."""
    server = Listener(("127.0.0.1", 0), Handler)
    server.answers, server.seen, server.stopping = {path: 200 for path in smoke_hook.PATHS}, [], threading.Event()
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.stopping.set()
    server.shutdown()
    server.server_close()
