"""A webhook receiver on loopback for the tests: records every request, fails the first N with 500."""

from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


class Receiver(ThreadingHTTPServer):
    def __init__(self, failures: int) -> None:
        self.received: list[tuple[dict[str, str], bytes]] = []
        self.failures = failures
        super().__init__(("127.0.0.1", 0), Handler)


class Handler(BaseHTTPRequestHandler):
    server: Receiver

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers["Content-Length"]))
        self.server.received.append((dict(self.headers.items()), body))
        code = 500 if len(self.server.received) <= self.server.failures else 204
        self.send_response(code)
        self.end_headers()

    def log_message(self, *_: Any) -> None:
        pass
