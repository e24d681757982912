"""The Celery backend for real: Redis broker, worker processes, kill -9 mid-solve, cancellation."""

import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest
import redis
from fastapi.testclient import TestClient

from tests.catalogue import load_small_catalogue, wait_final, wait_run

QUEUE = "jiedui-runs"


@pytest.fixture
def celery_client(client: TestClient, monkeypatch: pytest.MonkeyPatch) -> Iterator[TestClient]:
    """The API submitting to Celery (the in-process runner stays idle), with an empty queue."""
    from app.settings import get_settings
    from app.workers.local import stop_runner

    stop_runner()
    monkeypatch.setattr(get_settings(), "run_backend", "celery")
    broker = redis.Redis.from_url(os.environ["REDIS_URL"])
    broker.delete(QUEUE)
    yield client
    broker.delete(QUEUE)


@pytest.fixture
def start_worker(database_url: str) -> Iterator[Callable[..., subprocess.Popen[bytes]]]:
    """Start real `celery worker` processes (own process groups, so kill -9 takes the whole worker)."""
    procs: list[subprocess.Popen[bytes]] = []

    def start(name: str, **env: str) -> subprocess.Popen[bytes]:
        full_env = {**os.environ, "DATABASE_URL": database_url, "JIEDUI_RUN_BACKEND": "celery", **env}
        proc = subprocess.Popen(
            [sys.executable, "-m", "celery", "-A", "app.workers.celery_app:celery_app", "worker", "-Q", QUEUE,
             "-c", "1", "--pool", "prefork", "-n", f"{name}@%h", "--loglevel", "INFO", "--without-gossip",
             "--without-mingle", "--without-heartbeat"],
            env=full_env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, start_new_session=True,
        )
        procs.append(proc)
        deadline = time.monotonic() + 60
        assert proc.stdout is not None
        while time.monotonic() < deadline:
            line = proc.stdout.readline().decode(errors="replace")
            if "ready." in line:
                # keep reading, or a full pipe would block the worker's logging mid-run
                threading.Thread(target=proc.stdout.read, daemon=True).start()
                return proc
            if not line and proc.poll() is not None:
                break
        raise AssertionError(f"celery worker {name} did not start")

    yield start
    for proc in procs:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGTERM)
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)


def load_demo_catalogue() -> None:
    from app.db import session_scope
    from app.demo.load import load_demo

    with session_scope() as session:
        load_demo(session)


def wait_state(client: TestClient, run_id: str, state: str, timeout: float = 60) -> dict[str, Any]:
    return wait_run(client, run_id, lambda r: r["state"] == state, timeout=timeout)


def test_submit_to_done_on_a_celery_worker(celery_client: TestClient, start_worker: Callable[..., Any]) -> None:
    load_small_catalogue(celery_client)
    start_worker("w1")
    run = wait_final(celery_client, celery_client.post("/api/v1/runs", json={}).json()["id"])
    assert run["state"] == "optimal" and run["attempts"] == 1
    assert run["result"]["covered"] == 5


def test_kill_9_mid_solve_finishes_on_second_worker(celery_client: TestClient, start_worker: Callable[..., Any]) -> None:
    load_demo_catalogue()
    first = start_worker("w1")
    run_id = celery_client.post("/api/v1/runs", json={"season": "kill", "exact_finish": False}).json()["id"]
    wait_state(celery_client, run_id, "running")
    os.killpg(first.pid, signal.SIGKILL)
    first.wait()
    start_worker("w2")
    run = wait_final(celery_client, run_id, timeout=120)
    assert run["state"] in {"optimal", "feasible"} and run["attempts"] == 2, run


def test_kill_9_with_no_tries_left_fails_with_reason(celery_client: TestClient, start_worker: Callable[..., Any],
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    load_demo_catalogue()
    first = start_worker("w1", JIEDUI_MAX_ATTEMPTS="1")
    run_id = celery_client.post("/api/v1/runs", json={}).json()["id"]
    wait_state(celery_client, run_id, "running")
    os.killpg(first.pid, signal.SIGKILL)
    first.wait()
    start_worker("w2", JIEDUI_MAX_ATTEMPTS="1")
    run = wait_final(celery_client, run_id, timeout=60)
    assert run["state"] == "failed" and "no heartbeat" in run["error"], run


def test_cancel_while_running_stops_within_2s(celery_client: TestClient, start_worker: Callable[..., Any]) -> None:
    load_demo_catalogue()
    start_worker("w1")
    run_id = celery_client.post("/api/v1/runs", json={}).json()["id"]
    wait_state(celery_client, run_id, "running")
    asked = time.monotonic()
    assert celery_client.post(f"/api/v1/runs/{run_id}/cancel").json()["cancel_requested"] is True
    run = wait_final(celery_client, run_id, timeout=10)
    assert run["state"] == "cancelled"
    assert time.monotonic() - asked < 2.5


def test_idempotent_resubmission_and_signed_callback_on_celery(
    celery_client: TestClient, start_worker: Callable[..., Any], receiver: Any
) -> None:
    from app.webhooks import SIGNATURE_HEADER, verify

    load_small_catalogue(celery_client)
    start_worker("w1")
    url = f"http://127.0.0.1:{receiver.server_address[1]}/hook"
    body, headers = {"callback_url": url, "season": "idem"}, {"Idempotency-Key": "celery-1"}
    first = celery_client.post("/api/v1/runs", json=body, headers=headers)
    again = celery_client.post("/api/v1/runs", json=body, headers=headers)
    assert first.status_code == 202 and again.status_code == 200 and again.json()["id"] == first.json()["id"]
    assert celery_client.post("/api/v1/runs", json={**body, "seed": 9}, headers=headers).status_code == 409
    run = wait_final(celery_client, first.json()["id"])
    wait_run(celery_client, run["id"], lambda r: r["webhook_state"] == "delivered", timeout=20)
    sent_headers, sent = receiver.received[0]
    assert verify(sent, "test-secret", sent_headers["X-Jiedui-Timestamp"], sent_headers[SIGNATURE_HEADER])
    assert len(receiver.received) == 1


def test_a_lost_queue_message_is_sent_again(celery_client: TestClient, start_worker: Callable[..., Any]) -> None:
    load_small_catalogue(celery_client)
    run_id = celery_client.post("/api/v1/runs", json={}).json()["id"]
    redis.Redis.from_url(os.environ["REDIS_URL"]).delete(QUEUE)  # the message is gone before any worker saw it
    start_worker("w1", JIEDUI_REQUEUE_AFTER_SECONDS="1")
    run = wait_final(celery_client, run_id, timeout=30)
    assert run["state"] == "optimal" and run["attempts"] == 1


def test_a_broker_outage_at_submission_still_answers_202_and_the_run_is_sent_later(
        celery_client: TestClient, start_worker: Callable[..., Any], monkeypatch: pytest.MonkeyPatch) -> None:
    from celery import Celery

    from app.workers.celery_app import celery_app

    load_small_catalogue(celery_client)
    with monkeypatch.context() as m:  # the broker refuses connections (a real client on a port nobody serves)
        m.setattr(celery_app, "send_task", Celery("down", broker="redis://127.0.0.1:1/0").send_task)
        r = celery_client.post("/api/v1/runs", json={})
    assert r.status_code == 202 and r.json()["state"] == "queued", r.text
    start_worker("w1", JIEDUI_REQUEUE_AFTER_SECONDS="1")
    assert wait_final(celery_client, r.json()["id"], timeout=30)["state"] == "optimal"
