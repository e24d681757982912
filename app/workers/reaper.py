"""No run is ever stuck: re-queue runs whose worker stopped renewing its lease, or fail them with the reason."""

import logging
import threading
from collections.abc import Callable
from datetime import timedelta

from sqlalchemy import select, update

from app.db import session_scope
from app.settings import get_settings
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
                session.execute(base.values(state="cancelled", finished_at=now, lease_expires_at=None,
                                            error=f"worker {worker} stopped answering while cancelling"))
            elif attempts < settings.max_attempts:
                if session.execute(base.values(state="queued", lease_expires_at=None, worker_id=None,
                                               error=f"worker {worker} lost (no heartbeat); retry {attempts + 1}")
                                   ).rowcount:  # type: ignore[attr-defined]
                    requeued.append(run_id)
            else:
                session.execute(base.values(
                    state="failed", finished_at=now, lease_expires_at=None,
                    error=f"worker {worker} lost (no heartbeat for {settings.lease_seconds:.0f} s) on try "
                          f"{attempts} of {settings.max_attempts}; giving up"))
    return requeued


def stale_queued(older_than_s: float) -> list[str]:
    """Queued runs nobody has claimed for a while (their queue message may be gone)."""
    cutoff = utcnow() - timedelta(seconds=older_than_s)
    with session_scope() as session:
        return list(session.scalars(select(Run.id).where(Run.state == "queued", Run.created_at < cutoff)
                                    .order_by(Run.created_at)))


class Reaper(threading.Thread):
    """Background loop: re-queue expired runs through `enqueue`."""

    def __init__(self, enqueue: Callable[[str], None]) -> None:
        super().__init__(daemon=True, name="jiedui-reaper")
        self.enqueue = enqueue
        self.stopped = threading.Event()

    def run(self) -> None:
        interval = get_settings().reaper_interval_seconds
        while not self.stopped.wait(interval):
            try:
                for run_id in reap_expired():
                    log.warning("re-queued run %s after its worker was lost", run_id)
                    self.enqueue(run_id)
            except Exception:
                log.exception("reaper round failed")
