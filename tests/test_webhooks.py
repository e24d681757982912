"""Completion callbacks: signed with HMAC-SHA256, checked by a receiving server on loopback, retried."""

import json
from typing import Any

import pytest
from fastapi.testclient import TestClient

from app.webhooks import SIGNATURE_HEADER, sign, verify
from tests.catalogue import load_small_catalogue, wait_final, wait_run
from tests.receiver import Receiver


def wait_webhook(client: TestClient, run_id: str, state: str) -> dict[str, Any]:
    return wait_run(client, run_id, lambda r: r["webhook_state"] == state, timeout=20, poll=0.1)


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
