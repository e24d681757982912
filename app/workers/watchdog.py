"""A run's heartbeat in its own small process, so a solver phase that holds the interpreter lock
(OR-Tools' min-cost flow does, for seconds at province scale) never starves the lease or the progress.

The solving process and its watchdog talk through files in a private directory:
`progress.json` (written by the solver's progress callback), and the flags `cancel` and `lost`
(written here), `done` (written by the solver process when it finishes). The watchdog renews the
lease and writes progress every heartbeat; it exits when `done` appears or its parent dies (kill -9),
so a dead worker's lease runs out and the reaper takes over.

    python -m app.workers.watchdog RUN_ID WORKER PARENT_PID DIRECTORY
"""

import json
import os
import signal
import sys
import time
from datetime import timedelta
from pathlib import Path

from sqlalchemy import select, update

from app.db import session_scope
from app.settings import get_settings
from models import Run
from models.base import utcnow


def beat(run_id: str, worker: str, folder: Path, started: float) -> bool:
    """Renew the lease and write progress; False once this worker no longer owns the run."""
    try:
        latest = json.loads((folder / "progress.json").read_text())
    except (OSError, ValueError):
        latest = {"phase": "loading"}
    now = utcnow()
    progress = {**latest, "elapsed_s": round(time.monotonic() - started, 3), "updated_at": now.isoformat()}
    with session_scope() as session:
        owned = session.execute(
            update(Run).where(Run.id == run_id, Run.worker_id == worker, Run.state == "running")
            .values(lease_expires_at=now + timedelta(seconds=get_settings().lease_seconds), progress=progress)
        ).rowcount  # type: ignore[attr-defined]
        if session.scalar(select(Run.cancel_requested).where(Run.id == run_id)):
            (folder / "cancel").touch()
    return bool(owned)


def main(run_id: str, worker: str, parent: int, folder: Path) -> None:
    """Beat until the run is done, the parent is gone, or the run was taken away."""
    started = time.monotonic()
    interval = get_settings().heartbeat_seconds
    while not (folder / "done").exists() and os.getppid() == parent:
        try:
            if not beat(run_id, worker, folder, started):
                (folder / "lost").touch()
                return
        except Exception as exc:
            print(f"heartbeat for run {run_id} failed: {exc!r}", file=sys.stderr)
        time.sleep(interval)


if __name__ == "__main__":
    # A Ctrl-C at the terminal reaches the whole process group; the parent decides what happens to the run,
    # and this process ends with it.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    main(sys.argv[1], sys.argv[2], int(sys.argv[3]), Path(sys.argv[4]))
