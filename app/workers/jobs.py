"""Jobs are enqueued only after the submitting transaction commits; the queue carries run ids only.

Likewise a run that a request or the reaper ended gets its completion callback after the commit.
"""

import logging

from sqlalchemy import event
from sqlalchemy.orm import Session

log = logging.getLogger("jiedui.jobs")
_KEY = "jiedui_jobs"
_ENDED = "jiedui_ended"


def enqueue_after_commit(session: Session, run_id: str) -> None:
    """Remember a run id to hand to the queue once this session commits."""
    session.info.setdefault(_KEY, []).append(run_id)


def notify_after_commit(session: Session, run_id: str) -> None:
    """Remember a run that this session ends, to send its completion callback once the session commits."""
    session.info.setdefault(_ENDED, []).append(run_id)


@event.listens_for(Session, "after_commit")
def _dispatch(session: Session) -> None:
    run_ids, ended = session.info.pop(_KEY, []), session.info.pop(_ENDED, [])
    if run_ids:
        from app.workers.dispatch import enqueue

        for run_id in run_ids:
            try:
                enqueue(run_id)
            except Exception:  # the run is committed as queued: the reaper re-sends it (requeue_after_seconds)
                log.exception("run %s is queued but could not be handed to the queue; it will be re-sent", run_id)
    if ended:
        from app.workers.execute import after_final

        for run_id in ended:
            after_final(run_id)


@event.listens_for(Session, "after_rollback")
def _forget(session: Session) -> None:
    session.info.pop(_KEY, None)
    session.info.pop(_ENDED, None)
