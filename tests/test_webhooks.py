"""Completion callbacks: signed with HMAC-SHA256, checked by a receiving server on loopback, retried."""

import json
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from fastapi.testclient import TestClient

from app.webhooks import SIGNATURE_HEADER, sign, verify
from tests.api.test_runs import wait_final
from tests.catalogue import load_small_catalogue


class Receiver(ThreadingHTTPServer):
    def __init__(self, failures: int) -> None:
        self.received: list[tuple[dict[str, str], bytes]] = []
        self.failures = failures
        super().__init__(("127.0.0.1", 0), Handler)


class Handler(BaseHTTPRequestHandler):
    server: Receiver

    def do_POST(self) -> None:  # noqa: N802
        body = self.rfile.read(int(self.headers["Content-Length"]))
        self.server.received.append(({k: v for k, v in self.headers.items()}, body))
        code = 500 if len(self.server.received) <= self.server.failures else 204
        self.send_response(code)
        self.end_headers()

    def log_message(self, *_: Any) -> None:
        pass


@pytest.fixture
def receiver(request: pytest.FixtureRequest) -> Iterator[Receiver]:
    server = Receiver(failures=getattr(request, "param", 0))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()


def wait_webhook(client: TestClient, run_id: str, state: str) -> dict[str, Any]:
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        run = client.get(f"/api/v1/runs/{run_id}").json()
        if run["webhook_state"] == state:
            return run
        time.sleep(0.1)
    raise AssertionError(f"webhook of {run_id} never {state}")


def test_signature_roundtrip_and_tamper() -> None:
    sig = sign(b'{"a":1}', "s3cret", "1700000000")
    assert verify(b'{"a":1}', "s3cret", "1700000000", sig)
    assert not verify(b'{"a":2}', "s3cret", "1700000000", sig)


def test_finished_run_posts_signed_callback(client: TestClient, receiver: Receiver) -> None:
    load_small_catalogue(client)
    url = f"http://127.0.0.1:{receiver.server_address[1]}/hook"
    run = wait_final(client, client.post("/api/v1/runs", json={"callback_url": url}).json()["id"])
    wait_webhook(client, run["id"], "delivered")
    headers, body = receiver.received[0]
    assert verify(body, "test-secret", headers["X-Jiedui-Timestamp"], headers[SIGNATURE_HEADER])
    payload = json.loads(body)
    assert payload["run_id"] == run["id"] and payload["state"] == run["state"]


@pytest.mark.parametrize("receiver", [2], indirect=True)
def test_callback_retried_with_backoff_until_accepted(client: TestClient, receiver: Receiver) -> None:
    load_small_catalogue(client)
    url = f"http://127.0.0.1:{receiver.server_address[1]}/hook"
    run = wait_final(client, client.post("/api/v1/runs", json={"callback_url": url}).json()["id"])
    done = wait_webhook(client, run["id"], "delivered")
    assert len(receiver.received) == 3
    assert [h["X-Jiedui-Attempt"] for h, _ in receiver.received] == ["1", "2", "3"]
    assert done["webhook_state"] == "delivered"
