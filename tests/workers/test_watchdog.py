"""The run watchdog: renews the lease and relays progress from its own process, relays cancel, dies with its parent."""

import os
import signal
import subprocess
import sys
import time
import uuid
from datetime import timedelta

from sqlalchemy import Engine, update

from app.db import session_scope
from app.workers.execute import Heartbeat
from models import Run
from models.base import utcnow
from solver import Progress


def running_run(worker: str) -> str:
    run_id = uuid.uuid4().hex
    with session_scope() as session:
        session.add(Run(id=run_id, state="running", params={}, request_hash="h", snapshot_hash="h", worker_id=worker,
                        lease_expires_at=utcnow() + timedelta(seconds=1)))
    return run_id


def read(run_id: str) -> Run:
    with session_scope() as session:
        run = session.get(Run, run_id)
        assert run is not None
        return run


def wait_for(check, timeout: float = 10) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(0.05)
    raise AssertionError("condition not met in time")


def test_renews_lease_and_relays_progress(db: Engine) -> None:
    run_id = running_run("w-test")
    beat = Heartbeat(run_id, "w-test")
    try:
        beat.report(Progress("network", "match", 12.0, 15.0, 0.2, 1.0))
        wait_for(lambda: (read(run_id).progress or {}).get("level") == "match")
        first = read(run_id).lease_expires_at
        time.sleep(1.2)
        run = read(run_id)
        assert run.lease_expires_at > first and run.progress["elapsed_s"] > 0  # type: ignore[index, operator]
    finally:
        beat.stop()
    assert beat.process.poll() is not None and not beat.folder.exists()


def test_cancel_request_reaches_the_solver(db: Engine) -> None:
    run_id = running_run("w-test")
    beat = Heartbeat(run_id, "w-test")
    try:
        assert not beat.should_stop()
        with session_scope() as session:
            session.execute(update(Run).where(Run.id == run_id).values(cancel_requested=True))
        wait_for(beat.should_stop, timeout=3)
        assert beat.cancelled
    finally:
        beat.stop()


def test_run_taken_away_is_noticed(db: Engine) -> None:
    run_id = running_run("w-test")
    beat = Heartbeat(run_id, "w-test")
    try:
        with session_scope() as session:
            session.execute(update(Run).where(Run.id == run_id).values(worker_id="someone-else"))
        wait_for(beat.should_stop, timeout=3)
        assert not beat.cancelled
    finally:
        beat.stop()


def test_watchdog_ends_when_its_worker_is_killed(db: Engine) -> None:
    run_id = running_run("w-parent")
    code = ("import sys, time; from app.workers.execute import Heartbeat; "
            f"b = Heartbeat('{run_id}', 'w-parent'); print(b.process.pid, flush=True); time.sleep(60)")
    parent = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, env=os.environ.copy())
    assert parent.stdout is not None
    watchdog_pid = int(parent.stdout.readline())
    os.kill(parent.pid, signal.SIGKILL)
    parent.wait()

    def gone() -> bool:
        try:
            os.kill(watchdog_pid, 0)
        except ProcessLookupError:
            return True
        return False

    wait_for(gone, timeout=5)
