"""No run is ever stuck: re-queue runs whose worker stopped renewing its lease, or fail them with the reason;
re-send runs left queued too long (their queue message may be lost)."""

import logging
import threading
import time
from collections.abc import Callable
from datetime import timedelta

from sqlalchemy import select, update

from app.db import session_scope
from app.settings import get_settings
from app.workers.jobs import notify_after_commit
from models import Run
from models.base import utcnow

log = logging.getLogger("jiedui.reaper")


def reap_expired() -> list[str]:
    """Runs whose lease ran out: back to queued while tries remain, else failed; returns the re-queued ids."""
    settings = get_settings()
    now = utcnow()
    requeued: list[str] = []
    with session_scope() as session:
        expired = session.execute(
            select(Run.id, Run.attempts, Run.worker_id, Run.cancel_requested)
            .where(Run.state == "running", Run.lease_expires_at < now)
        ).all()
        for run_id, attempts, worker, cancel in expired:
            base = update(Run).where(Run.id == run_id, Run.state == "running", Run.lease_expires_at < now)
            if cancel:
                if session.execute(base.values(state="cancelled", finished_at=now, lease_expires_at=None,
                                               error=f"worker {worker} stopped answering while cancelling")
                                   ).rowcount:  # type: ignore[attr-defined]
                    notify_after_commit(session, run_id)
            elif attempts < settings.max_attempts:
                if session.execute(base.values(state="queued", lease_expires_at=None, worker_id=None,
                                               error=f"worker {worker} lost (no heartbeat); retry {attempts + 1}")
                                   ).rowcount:  # type: ignore[attr-defined]
                    requeued.append(run_id)
            elif session.execute(base.values(
                    state="failed", finished_at=now, lease_expires_at=None,
                    error=f"worker {worker} lost (no heartbeat for {settings.lease_seconds:.0f} s) on try "
                          f"{attempts} of {settings.max_attempts}; giving up")).rowcount:  # type: ignore[attr-defined]
                notify_after_commit(session, run_id)
    return requeued


def stale_queued(older_than_s: float) -> list[str]:
    """Queued runs nobody has claimed for a while (their queue message may be gone)."""
    cutoff = utcnow() - timedelta(seconds=older_than_s)
    with session_scope() as session:
        return list(session.scalars(select(Run.id).where(Run.state == "queued", Run.created_at < cutoff)
                                    .order_by(Run.created_at)))


class Reaper(threading.Thread):
    """Background loop: re-queue expired runs through `enqueue`, and re-send runs queued for longer than
    `requeue_after_seconds` (at most once per that interval each). Its first round, as soon as the database
    answers, picks up runs queued for longer than `startup_age_s` (runs an earlier process left behind)."""

    def __init__(self, enqueue: Callable[[str], None], *, startup_age_s: float) -> None:
        super().__init__(daemon=True, name="jiedui-reaper")
        self.enqueue = enqueue
        self.startup_age_s = startup_age_s
        self.stopped = threading.Event()
        self.sent: dict[str, float] = {}  # run id -> when it was last re-sent (monotonic)
        self.started = False

    def run(self) -> None:
        interval = get_settings().reaper_interval_seconds
        while True:
            try:
                self.round()
            except Exception:  # e.g. the database is down: try again next round
                log.exception("reaper round failed")
            if self.stopped.wait(interval):
                return

    def round(self) -> None:
        """One pass: expired leases, then runs left queued."""
        for run_id in reap_expired():
            log.warning("re-queued run %s after its worker was lost", run_id)
            self.enqueue(run_id)
        again = get_settings().requeue_after_seconds
        stale = stale_queued(older_than_s=again if self.started else self.startup_age_s)
        now = time.monotonic()
        self.sent = {r: t for r, t in self.sent.items() if r in stale}
        for run_id in stale:
            if not self.started or now - self.sent.get(run_id, -again) >= again:
                log.warning("re-sent run %s, queued and unclaimed", run_id)
                self.sent[run_id] = now
                self.enqueue(run_id)
        self.started = True
