"""`jiedui season rerun` when things go wrong: cancelled and interrupted runs, bad output paths, an unreachable
database; which season a renewal starts from; its completion callback outlives the solve."""

import os
import signal
import subprocess
import sys
import threading
import time
import uuid
from pathlib import Path

import pytest
from sqlalchemy import Engine, func, select, update

from app.cli.season import INTERRUPTED, _stop
from app.db import session_scope
from app.settings import PROJECT_ROOT
from app.workers.execute import worker_name
from models import Run
from tests.cli.clihelp import invoke, newest_run
from tests.receiver import Receiver

SMALL = ("--county", "341525")  # one county: quick solves where the test does not need a long one


def running_run(engine: Engine, season: str, *, timeout: float = 60) -> str | None:
    """Wait until a run of the season is solving: its id (None if none did within the timeout)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with engine.connect() as conn:
            run_id = conn.scalar(select(Run.id).where(Run.season == season, Run.state == "running"))
        if run_id:
            return run_id
        time.sleep(0.02)
    return None


def cli(*args: str, env: dict[str, str] | None = None) -> subprocess.Popen[str]:
    """The `jiedui` command in its own process."""
    return subprocess.Popen([sys.executable, "-m", "app.cli", *args], cwd=PROJECT_ROOT, text=True,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, env={**os.environ, **(env or {})})


def test_a_run_cancelled_while_watched_is_an_error_and_writes_nothing(env: dict[str, str], db: Engine,
                                                                       tmp_path: Path) -> None:
    def cancel() -> None:  # as `POST /runs/{id}/cancel` would, from another process
        run_id = running_run(db, "2026")
        with db.begin() as conn:
            conn.execute(update(Run).where(Run.id == run_id).values(cancel_requested=True))

    canceller = threading.Thread(target=cancel)
    canceller.start()
    names, changes = tmp_path / "names.xlsx", tmp_path / "changes.html"
    code, out = invoke(env, "season", "rerun", "--season", "2026", "--export", str(names), "--report", str(changes))
    canceller.join()
    run = newest_run("2026")
    assert code == 1 and f"error: run {run.id} was cancelled" in out, out
    assert run.state == "cancelled"
    assert not names.exists() and not changes.exists()


@pytest.mark.parametrize("option,name", [("--export", "names.txt"), ("--export", "missing/names.xlsx"),
                                         ("--report", "changes.pdf"), ("--report", "missing/changes.html")])
def test_a_bad_output_path_is_refused_before_any_run(env: dict[str, str], tmp_path: Path, option: str,
                                                     name: str) -> None:
    code, out = invoke(env, "season", "rerun", "--season", "2026", option, str(tmp_path / name))
    assert code == 1 and out.startswith(f"error: {option} {tmp_path / name}: "), out
    with session_scope() as session:
        assert session.scalar(select(func.count()).select_from(Run)) == 0
    assert list(tmp_path.iterdir()) == []


def test_an_unreachable_database_is_one_error_line() -> None:
    process = cli("season", "list", env={"DATABASE_URL": "postgresql://postgres@127.0.0.1:1/nonexistent_db_x"})
    out, err = process.communicate(timeout=60)
    assert process.returncode == 1 and out == ""
    assert len(err.splitlines()) == 1 and err.startswith("error: database postgresql://postgres@127.0.0.1:1/"), err


def test_a_renewal_starts_from_the_greatest_lower_season(env: dict[str, str]) -> None:
    for season in ("2026", "2027", "2026"):  # 2026 re-run last: its run is the newest finished one
        code, out = invoke(env, "season", "rerun", "--season", season, *SMALL)
        assert code in (0, 3), out
    base = newest_run("2027").id
    code, out = invoke(env, "season", "rerun", "--season", "2028", *SMALL)
    assert code in (0, 3) and f"renewing season 2027 (run {base})" in out, out
    assert newest_run("2028").params["renews"] == base


def test_the_first_season_writes_no_change_report_and_says_so(env: dict[str, str], tmp_path: Path) -> None:
    report = tmp_path / "changes.html"
    code, out = invoke(env, "season", "rerun", "--season", "2026", *SMALL, "--report", str(report))
    assert code in (0, 3), out
    assert "no change report written: season 2026 is the first season" in out and not report.exists()


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM], ids=["SIGINT", "SIGTERM"])
def test_an_interrupted_rerun_cancels_its_run(env: dict[str, str], db: Engine, signum: signal.Signals) -> None:
    process = cli("season", "rerun", "--season", "2026", env=env)
    try:
        run_id = running_run(db, "2026")
        assert run_id, "the run never started solving"
        process.send_signal(signum)
        out, err = process.communicate(timeout=60)
    finally:
        process.kill()
    assert process.returncode == 1 and f"error: interrupted; run {run_id} cancelled" in err, out + err
    with db.connect() as conn:
        assert conn.scalar(select(Run.state).where(Run.id == run_id)) == "cancelled"


def test_an_interrupted_solve_that_does_not_stop_in_time_is_marked_cancelled(env: dict[str, str]) -> None:
    run = Run(id=uuid.uuid4().hex, state="running", season="2026", params={}, request_hash="-", snapshot_hash="-",
              worker_id=worker_name())  # this process's solve
    with session_scope() as session:
        session.add(run)
    stuck = threading.Event()
    worker = threading.Thread(target=stuck.wait)  # a solving thread that never ends by itself
    worker.start()
    try:
        assert _stop(run.id, worker, wait_s=0.2) == "cancelled"
    finally:
        stuck.set()
    with session_scope() as session:
        ended = session.get(Run, run.id)
        assert ended is not None
        assert ended.cancel_requested and ended.finished_at is not None and ended.error == INTERRUPTED


def test_an_interrupt_leaves_another_workers_solve_to_it(env: dict[str, str]) -> None:
    # A run some other worker claimed (a Celery worker) is asked to stop, not marked cancelled over its answer.
    run = Run(id=uuid.uuid4().hex, state="running", season="2026", params={}, request_hash="-", snapshot_hash="-",
              worker_id="elsewhere:1")
    with session_scope() as session:
        session.add(run)
    done = threading.Thread(target=lambda: None)
    done.start()
    assert _stop(run.id, done, wait_s=0.2) == "running"
    with session_scope() as session:
        ended = session.get(Run, run.id)
        assert ended is not None and ended.cancel_requested and ended.finished_at is None and ended.error is None


@pytest.mark.parametrize("receiver", [1], indirect=True)
def test_the_callback_of_a_rerun_is_retried_before_the_cli_exits(env: dict[str, str], receiver: Receiver) -> None:
    url = f"http://127.0.0.1:{receiver.server_address[1]}/hook"
    # the retry comes a second after the first answer (500): after the solve, when the CLI would be gone
    process = cli("season", "rerun", "--season", "2026", *SMALL,
                  env={**env, "JIEDUI_WEBHOOK_URL": url, "JIEDUI_WEBHOOK_BACKOFF_SECONDS": "1"})
    out, err = process.communicate(timeout=120)
    assert process.returncode in (0, 3), out + err
    run = newest_run("2026")
    assert (run.webhook_state, run.webhook_attempts) == ("delivered", 2)
    assert [h["X-Jiedui-Attempt"] for h, _ in receiver.received] == ["1", "2"]
