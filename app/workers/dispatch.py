"""Hand run ids to the configured backend: the in-process pool or Celery on Redis."""

import logging

from app.settings import get_settings

log = logging.getLogger("jiedui.dispatch")


def enqueue(run_id: str) -> None:
    """Queue a committed run for execution (the database already says it is queued)."""
    backend = get_settings().run_backend
    if backend == "celery":
        from app.workers.celery_app import celery_app

        celery_app.send_task("jiedui.execute_run", args=[run_id])
        return
    from app.workers.local import current_runner

    runner = current_runner()
    if runner is not None:
        runner.submit(run_id)
    else:
        log.info("run %s queued; no in-process runner in this process (the service will pick it up)", run_id)
