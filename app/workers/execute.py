"""Execute one run: claim it with a lease, solve its frozen snapshot, store the answer, report.

The database is the one truth for a run's state. A worker claims a run with a conditional UPDATE
(queued → running) and keeps a lease alive with a heartbeat; a worker that dies stops renewing it,
and the reaper (app.workers.reaper) re-queues the run or fails it with the reason.
"""

import json
import logging
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
from datetime import timedelta
from pathlib import Path
from typing import Any, cast

from sqlalchemy import CursorResult, and_, or_, select, update

from app.db import session_scope
from app.services.results import store_solution
from app.services.snapshot import thaw
from app.settings import get_settings
from models import Run, RunSnapshot
from models.base import utcnow
from solver import MatchSolution, Progress, solve

log = logging.getLogger("jiedui.worker")
CANCEL_POLL_S = 0.25  # seconds between the solving process's own reads of the run's cancel request


def worker_name() -> str:
    """host:pid of this process."""
    return f"{socket.gethostname()}:{os.getpid()}"


def claim(run_id: str, worker: str) -> bool:
    """Take a queued run (or one whose lease ran out) for this worker; False if someone else has it."""
    settings = get_settings()
    now = utcnow()
    with session_scope() as session:
        result = session.execute(
            update(Run)
            .where(Run.id == run_id, Run.cancel_requested.is_(False),
                   or_(Run.state == "queued", and_(Run.state == "running", Run.lease_expires_at < now)))
            .values(state="running", worker_id=worker, attempts=Run.attempts + 1, started_at=now,
                    lease_expires_at=now + timedelta(seconds=settings.lease_seconds),
                    progress={"phase": "starting", "elapsed_s": 0.0, "updated_at": now.isoformat()})
        )
        return cast("CursorResult[Any]", result).rowcount == 1  # Session.execute is typed Result; an UPDATE gives a CursorResult


class Heartbeat:
    """The run's watchdog process (app.workers.watchdog) and the files the solver shares with it."""

    def __init__(self, run_id: str, worker: str) -> None:
        self.run_id, self.checked = run_id, 0.0
        self.folder = Path(tempfile.mkdtemp(prefix=f"jiedui-run-{run_id[:8]}-"))
        self.process = subprocess.Popen(
            [sys.executable, "-m", "app.workers.watchdog", run_id, worker, str(os.getpid()), str(self.folder)])

    def report(self, progress: Progress) -> None:
        """Hand the solver's latest progress to the watchdog (atomic replace, so it never reads half a file)."""
        tmp = self.folder / "progress.tmp"
        tmp.write_text(json.dumps(progress.to_dict()))
        os.replace(tmp, self.folder / "progress.json")

    def phase(self, name: str) -> None:
        self.report(Progress(name, None, None, None, None, 0.0))

    def should_stop(self) -> bool:
        """A cancel was asked for, or the run was taken away from this worker. Besides the watchdog's flags,
        the run's own cancel request is read at most every CANCEL_POLL_S, so a cancel is seen within a
        fraction of a second (the watchdog looks once a beat, and only once it has started)."""
        if (self.folder / "cancel").exists() or (self.folder / "lost").exists():
            return True
        now = time.monotonic()
        if now - self.checked < CANCEL_POLL_S:
            return False
        self.checked = now
        with session_scope() as session:
            if session.scalar(select(Run.cancel_requested).where(Run.id == self.run_id)):
                (self.folder / "cancel").touch()
                return True
        return False

    @property
    def cancelled(self) -> bool:
        return (self.folder / "cancel").exists()

    def stop(self) -> None:
        """End the watchdog and remove the shared files."""
        (self.folder / "done").touch()
        self.process.terminate()  # it may be asleep between beats; nothing it holds outlives a rollback
        try:
            self.process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            self.process.kill()
        shutil.rmtree(self.folder, ignore_errors=True)


def execute_run(run_id: str) -> str | None:
    """Run one matching job end to end; returns the final state, or None if another worker had it."""
    worker = worker_name()
    if not claim(run_id, worker):
        return None
    heartbeat = Heartbeat(run_id, worker)
    try:
        with session_scope() as session:
            snap = session.get(RunSnapshot, run_id)
            assert snap is not None, "run without snapshot"
            data = snap.data
        instance = thaw(data)
        heartbeat.phase("solving")
        solution = solve(instance, progress=heartbeat.report, should_stop=heartbeat.should_stop)
    except Exception as exc:
        heartbeat.stop()
        log.exception("run %s failed", run_id)
        return finish_failed(run_id, worker, f"{type(exc).__name__}: {exc}")
    cancelled = heartbeat.cancelled
    heartbeat.stop()
    return finish(run_id, worker, instance, solution, cancelled=cancelled)


def finish(run_id: str, worker: str, instance: Any, solution: MatchSolution, *, cancelled: bool) -> str | None:
    """Store the answer if this worker still owns the run; the state becomes the solver's status (or cancelled)."""
    with session_scope() as session:
        run = session.scalar(select(Run).where(Run.id == run_id).with_for_update())
        if run is None or run.worker_id != worker or run.state != "running":
            return None
        if run.cancel_requested:
            cancelled = True
        summary = store_solution(session, run_id=run_id, instance=instance, solution=solution)
        run.result = summary
        run.solve_seconds = round(solution.solve_seconds, 3)
        run.state = "cancelled" if cancelled else solution.status
        run.finished_at = utcnow()
        run.lease_expires_at = None
        run.error = None  # an earlier try's "worker lost" note no longer describes the run (attempts still counts)
        run.progress = final_progress(solution)
        state = run.state
    after_final(run_id)
    return state


def final_progress(solution: MatchSolution) -> dict[str, Any]:
    """The last progress entry: the level the answer's bound and gap speak of, and the solve time."""
    first = next((lv for lv in solution.levels if not lv.proven or lv.gap != 0), None)
    deciding = first or (solution.levels[0] if solution.levels else None)
    return {"phase": "done", "level": deciding.name if deciding else None,
            "value": deciding.value if deciding else None, "bound": solution.bound, "gap": solution.gap,
            "elapsed_s": round(solution.solve_seconds, 3), "updated_at": utcnow().isoformat()}


def finish_failed(run_id: str, worker: str, reason: str) -> str | None:
    """Mark an owned run failed with the reason."""
    with session_scope() as session:
        done = session.execute(
            update(Run).where(Run.id == run_id, Run.worker_id == worker, Run.state == "running")
            .values(state="failed", error=reason[:4000], finished_at=utcnow(), lease_expires_at=None)
        ).rowcount  # type: ignore[attr-defined]
    if done:
        after_final(run_id)
        return "failed"
    return None


_deliveries: set[threading.Thread] = set()  # completion callbacks this process is still sending
_deliveries_lock = threading.Lock()


def after_final(run_id: str) -> None:
    """Send the completion callback in the background, so retries never hold up the next run. A process about to
    exit (the CLI, whose solving thread is a daemon, and so is this one) waits for it with join_deliveries."""
    from app.webhooks import deliver_for_run

    def _send() -> None:
        try:
            deliver_for_run(run_id)
        except Exception:
            log.exception("webhook for run %s failed", run_id)
        finally:
            with _deliveries_lock:
                _deliveries.discard(threading.current_thread())

    thread = threading.Thread(target=_send, name=f"webhook-{run_id}")
    with _deliveries_lock:  # started and registered at once, so join_deliveries never sees an unstarted thread
        thread.start()
        _deliveries.add(thread)


def join_deliveries(timeout: float) -> bool:
    """Wait up to `timeout` seconds for the completion callbacks this process is sending; False if some are left."""
    deadline = time.monotonic() + timeout
    with _deliveries_lock:
        pending = list(_deliveries)
    for thread in pending:
        thread.join(max(0.0, deadline - time.monotonic()))
    return not any(thread.is_alive() for thread in pending)
