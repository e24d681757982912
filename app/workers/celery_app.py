"""The multi-machine backend: Celery workers on Redis running the same run code.

Start a worker on any machine that reaches the database and Redis:
    JIEDUI_RUN_BACKEND=celery DATABASE_URL=... REDIS_URL=redis://host:6379/0 jiedui worker
"""

import logging

from celery import Celery
from celery.signals import worker_process_init, worker_ready, worker_shutdown

from app.settings import get_settings
from app.workers.reaper import Reaper

log = logging.getLogger("jiedui.celery")
settings = get_settings()
celery_app = Celery("jiedui", broker=settings.redis_url)
celery_app.conf.update(
    task_ignore_result=True,
    worker_prefetch_multiplier=1,
    task_acks_late=False,
    broker_connection_retry_on_startup=True,
    worker_concurrency=settings.max_concurrent_runs,
    worker_hijack_root_logger=False,
    task_default_queue="jiedui-runs",
)
_reaper: Reaper | None = None


def _send(run_id: str) -> None:
    celery_app.send_task("jiedui.execute_run", args=[run_id])


@celery_app.task(name="jiedui.execute_run")
def execute_run_task(run_id: str) -> str | None:
    """Run one matching job by id (the database holds everything else)."""
    from app.workers.execute import execute_run

    return execute_run(run_id)


@worker_process_init.connect
def _fresh_connections(**_: object) -> None:
    """A forked pool process must not share the parent's database connections."""
    from app.db import get_engine

    get_engine().dispose(close=False)


@worker_ready.connect
def _start_reaper(**_: object) -> None:
    """Every worker watches for lost runs and re-sends runs left queued for a while (from its first round, which
    retries until the database answers)."""
    global _reaper
    _reaper = Reaper(_send, startup_age_s=30)
    _reaper.start()


@worker_shutdown.connect
def _stop_reaper(**_: object) -> None:
    if _reaper is not None:
        _reaper.stopped.set()
