"""The default backend: an in-process pool that solves runs in separate processes, needing no other service."""

import logging
import multiprocessing
import threading
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool

from app.settings import get_settings
from app.workers.reaper import Reaper, stale_queued

log = logging.getLogger("jiedui.local")
_runner: "LocalRunner | None" = None


def _child_execute(run_id: str) -> str | None:
    from app.workers.execute import execute_run

    return execute_run(run_id)


def _warm() -> None:
    import solver  # noqa: F401 - import OR-Tools once so the first run pays no start-up


class LocalRunner:
    """At most `max_concurrent_runs` runs solve at once, each in a worker process; the rest wait queued."""

    def __init__(self, max_workers: int) -> None:
        self.max_workers = max_workers
        self.lock = threading.Lock()
        self.pool = self._new_pool()
        self.reaper = Reaper(self.submit)

    def _new_pool(self) -> ProcessPoolExecutor:
        pool = ProcessPoolExecutor(self.max_workers, mp_context=multiprocessing.get_context("spawn"))
        for _ in range(self.max_workers):
            pool.submit(_warm)
        return pool

    def submit(self, run_id: str) -> None:
        """Hand a run id to the pool (a broken pool, e.g. after a killed child, is replaced)."""
        with self.lock:
            try:
                future = self.pool.submit(_child_execute, run_id)
            except BrokenProcessPool:
                log.warning("worker pool broken; starting a new one")
                self.pool = self._new_pool()
                future = self.pool.submit(_child_execute, run_id)
        future.add_done_callback(lambda f, rid=run_id: self._done(rid, f))

    def _done(self, run_id: str, future: Future[str | None]) -> None:
        exc = future.exception()
        if exc is not None:
            log.error("run %s: worker process ended abnormally: %r (the reaper re-queues it)", run_id, exc)

    def start(self) -> None:
        """Pick up runs left queued by an earlier process, then keep reaping lost ones."""
        for run_id in stale_queued(older_than_s=0):
            self.submit(run_id)
        self.reaper.start()

    def stop(self) -> None:
        self.reaper.stopped.set()
        self.pool.shutdown(wait=False, cancel_futures=True)


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
