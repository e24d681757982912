"""The default backend: an in-process pool that solves runs in separate processes, needing no other service."""

import logging
import multiprocessing
import threading
from multiprocessing.pool import Pool

from app.settings import get_settings
from app.workers.reaper import Reaper

log = logging.getLogger("jiedui.local")
_runner: "LocalRunner | None" = None


def _child_execute(run_id: str) -> str | None:
    from app.workers.execute import execute_run

    return execute_run(run_id)


def _child_init() -> None:
    import solver  # noqa: F401 - import OR-Tools once per worker process, not per run


class LocalRunner:
    """At most `max_concurrent_runs` runs solve at once, each in a worker process; the rest wait queued.

    The pool starts on the first run, so a service that only serves the catalogue spawns nothing.
    A worker process that dies is replaced by the pool; its run's lease runs out and the reaper re-queues it.
    """

    def __init__(self, max_workers: int) -> None:
        self.max_workers = max_workers
        self.lock = threading.Lock()
        self.pool: Pool | None = None
        self.reaper = Reaper(self.submit, startup_age_s=0)

    def submit(self, run_id: str) -> None:
        """Hand a run id to the pool."""
        with self.lock:
            if self.pool is None:
                ctx = multiprocessing.get_context("spawn")
                self.pool = ctx.Pool(self.max_workers, initializer=_child_init)
            self.pool.apply_async(_child_execute, (run_id,), error_callback=lambda exc: log.error(
                "run %s: worker process raised %r", run_id, exc))

    def start(self) -> None:
        """Start reaping: the first round picks up runs left queued by an earlier process."""
        self.reaper.start()

    def stop(self) -> None:
        """Stop reaping and end the worker processes (runs in flight are re-queued by the next start)."""
        self.reaper.stopped.set()
        with self.lock:
            if self.pool is not None:
                self.pool.terminate()
                self.pool.join()
                self.pool = None


def current_runner() -> LocalRunner | None:
    """The runner of this process, if the service started one."""
    return _runner


def start_runner() -> LocalRunner:
    """Start this process's runner (the API does so at start-up with the local backend)."""
    global _runner
    if _runner is None:
        _runner = LocalRunner(get_settings().max_concurrent_runs)
        _runner.start()
    return _runner


def stop_runner() -> None:
    """Stop this process's runner."""
    global _runner
    if _runner is not None:
        _runner.stop()
        _runner = None
