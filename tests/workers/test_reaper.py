"""Runs never stay stuck and always end with their callback: the reaper, and cancels that race a claim."""

from collections.abc import Iterator
from datetime import timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import update

from app.db import session_scope
from app.services.runs import cancel_run
from app.workers.execute import claim
from app.workers.reaper import Reaper, reap_expired
from models import Run
from models.base import utcnow
from tests.catalogue import load_small_catalogue, wait_run
from tests.receiver import Receiver


@pytest.fixture
def idle_client(client: TestClient) -> Iterator[TestClient]:
    """The API with no runner in the process: submitted runs stay queued until a test moves them."""
    from app.workers.local import stop_runner

    stop_runner()
    yield client


def hook(receiver: Receiver) -> str:
    return f"http://127.0.0.1:{receiver.server_address[1]}/hook"


def test_a_run_the_reaper_gives_up_on_fails_and_posts_its_callback(idle_client: TestClient, receiver: Receiver) -> None:
    load_small_catalogue(idle_client)
    run_id = idle_client.post("/api/v1/runs", json={"callback_url": hook(receiver)}).json()["id"]
    assert claim(run_id, "ghost:1")
    with session_scope() as session:
        session.execute(update(Run).where(Run.id == run_id).values(
            attempts=99, lease_expires_at=utcnow() - timedelta(seconds=1)))
    assert reap_expired() == []
    run = wait_run(idle_client, run_id, lambda r: r["webhook_state"] == "delivered", timeout=20)
    assert run["state"] == "failed" and "ghost:1" in run["error"]


def test_cancelling_a_queued_run_posts_its_callback(idle_client: TestClient, receiver: Receiver) -> None:
    load_small_catalogue(idle_client)
    run_id = idle_client.post("/api/v1/runs", json={"callback_url": hook(receiver)}).json()["id"]
    assert idle_client.post(f"/api/v1/runs/{run_id}/cancel").json()["state"] == "cancelled"
    wait_run(idle_client, run_id, lambda r: r["webhook_state"] == "delivered", timeout=20)


def test_a_cancel_read_before_a_claim_still_reaches_the_worker(idle_client: TestClient) -> None:
    load_small_catalogue(idle_client)
    run_id = idle_client.post("/api/v1/runs", json={}).json()["id"]
    with session_scope() as session:
        run = session.get(Run, run_id)
        assert run is not None and run.state == "queued"  # the request read it queued ...
        assert claim(run_id, "w:1")  # ... a worker claims it meanwhile ...
        cancel_run(session, run=run)  # ... and the cancel still lands
        assert (run.state, run.cancel_requested) == ("running", True)


def test_runs_left_queued_are_sent_again_once_per_interval(idle_client: TestClient,
                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    from app.settings import get_settings

    load_small_catalogue(idle_client)
    run_id = idle_client.post("/api/v1/runs", json={}).json()["id"]
    sent: list[str] = []
    reaper = Reaper(sent.append, startup_age_s=3600)
    reaper.round()
    assert sent == []  # the first round takes only runs older than startup_age_s
    monkeypatch.setattr(get_settings(), "requeue_after_seconds", 0.0)
    reaper.round()
    assert sent == [run_id]
    monkeypatch.setattr(get_settings(), "requeue_after_seconds", 3600.0)
    reaper.round()
    assert sent == [run_id]  # not again within the interval
