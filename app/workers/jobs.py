"""Jobs are enqueued only after the submitting transaction commits; the queue carries run ids only."""

from sqlalchemy import event
from sqlalchemy.orm import Session

_KEY = "jiedui_jobs"


def enqueue_after_commit(session: Session, run_id: str) -> None:
    """Remember a run id to hand to the queue once this session commits."""
    session.info.setdefault(_KEY, []).append(run_id)


@event.listens_for(Session, "after_commit")
def _dispatch(session: Session) -> None:
    run_ids = session.info.pop(_KEY, [])
    if run_ids:
        from app.workers.dispatch import enqueue

        for run_id in run_ids:
            enqueue(run_id)


@event.listens_for(Session, "after_rollback")
def _forget(session: Session) -> None:
    session.info.pop(_KEY, None)
