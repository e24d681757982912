"""`jiedui season rerun`: renew last season's pairings unattended, export the name list and the change report;
`jiedui season adopt / withdraw / list`: which run holds each season's pairings.

Exit codes of rerun: 0 full coverage, 3 partial coverage, 1 error (bad input or output path, a failed, infeasible
or cancelled run, an interrupt: Ctrl-C or SIGTERM cancels the run).
"""

import os
import signal
import threading
import time
from contextlib import suppress
from pathlib import Path
from types import FrameType

import typer

from app.cli.output import message, rich_enabled, stderr, table
from models.run import ANSWERED_STATES, FINAL_STATES

app = typer.Typer(help="Seasonal renewal of pairings.", no_args_is_help=True)
EXPORT_SUFFIXES = (".xlsx", ".csv", ".json")
REPORT_SUFFIXES = (".html", ".xlsx")
STOP_WAIT_S = 10.0  # after an interrupt, how long the solve may take to store its best answer
INTERRUPTED = "interrupted: the CLI that was solving it stopped"


def _interrupt(signum: int, frame: FrameType | None) -> None:
    raise KeyboardInterrupt


def _watch(run_id: str) -> dict[str, object]:
    """Solve the run in this process and show its progress until it ends; returns the final run row.
    On Ctrl-C or SIGTERM the run is stopped (see _stop) and the command exits 1."""
    from app.workers.execute import execute_run

    worker = threading.Thread(target=execute_run, args=(run_id,), daemon=True)  # dies with the CLI: see _stop
    previous = signal.signal(signal.SIGTERM, _interrupt)
    try:
        worker.start()
        _progress(run_id)
        worker.join(timeout=10)
    except KeyboardInterrupt:
        state = _stop(run_id, worker)
        _join_callbacks()
        stderr(f"error: interrupted; run {run_id} {state}")
        raise typer.Exit(1) from None
    finally:
        signal.signal(signal.SIGTERM, previous)
    _join_callbacks()
    return _final(run_id)


def _progress(run_id: str) -> None:
    """Show the run's progress until it ends."""
    from app.db import session_scope
    from models import Run

    def poll() -> tuple[str, dict[str, object]]:
        with session_scope() as session:
            run = session.get(Run, run_id)
            assert run is not None
            return run.state, dict(run.progress or {})

    state, progress = poll()
    if rich_enabled():
        from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

        with Progress(SpinnerColumn(), TextColumn("{task.description}"), TimeElapsedColumn()) as bar:
            task = bar.add_task("queued")
            while state not in FINAL_STATES:
                time.sleep(0.5)
                state, progress = poll()
                bar.update(task, description=f"{state} · {progress.get('phase', '')} {progress.get('level') or ''} "
                                             f"value {progress.get('value')} bound {progress.get('bound')}")
    else:
        last = ""
        while state not in FINAL_STATES:
            time.sleep(0.5)
            state, progress = poll()
            line = f"{state}: {progress.get('phase', '')} {progress.get('level') or ''}".strip()
            if line != last:
                message(line)
                last = line


def _final(run_id: str) -> dict[str, object]:
    from app.db import session_scope
    from models import Run

    with session_scope() as session:
        run = session.get(Run, run_id)
        assert run is not None
        return {"state": run.state, "result": run.result or {}, "error": run.error}


def _stop(run_id: str, worker: threading.Thread, wait_s: float = STOP_WAIT_S) -> str:
    """After an interrupt: ask the run to stop, give the solve `wait_s` to store its best answer, and mark a run
    still not final cancelled (its solving thread dies with this process). Returns the run's state."""
    from sqlalchemy import select, update

    from app.db import session_scope
    from app.errors import Conflict
    from app.services.runs import cancel_run
    from app.workers.execute import worker_name
    from app.workers.jobs import notify_after_commit
    from models import Run
    from models.base import utcnow

    with session_scope() as session:
        run = session.get(Run, run_id)
        assert run is not None
        with suppress(Conflict):  # it ended meanwhile
            cancel_run(session, run=run)
    worker.join(timeout=wait_s)
    with session_scope() as session:  # only a solve of this process is ended here; another worker's stores its answer
        if session.execute(update(Run).where(Run.id == run_id, Run.state.not_in(FINAL_STATES),
                                             Run.worker_id == worker_name()).values(
                state="cancelled", finished_at=utcnow(), lease_expires_at=None, error=INTERRUPTED)
                           ).rowcount:  # type: ignore[attr-defined]
            notify_after_commit(session, run_id)
        state = session.scalar(select(Run.state).where(Run.id == run_id))
    return str(state)


def _join_callbacks() -> None:
    """Wait for the run's completion callback (the thread sending it is a daemon too), bounded by its retries."""
    from app.webhooks import delivery_seconds
    from app.workers.execute import join_deliveries

    if not join_deliveries(delivery_seconds()):
        stderr("warning: the completion callback is still being sent; giving up on it")


def _label_problem(season: str) -> str | None:
    """Why a season label is refused (as the API refuses it), or None."""
    from pydantic import TypeAdapter, ValidationError

    from app.schemas.records import Season

    try:
        TypeAdapter(Season).validate_python(season)
    except ValidationError as exc:
        return str(exc.errors()[0]["msg"])
    return None


def _output_problem(export: Path | None, reports: list[Path]) -> str | None:
    """Why an output file could not be written, found before anything is solved; None when all can be."""
    paths: list[tuple[str, Path, tuple[str, ...]]] = [("--export", export, EXPORT_SUFFIXES)] if export else []
    paths += [("--report", path, REPORT_SUFFIXES) for path in reports]
    for option, path, suffixes in paths:
        if path.suffix.lower() not in suffixes:
            return f"{option} {path}: the file name must end in {', '.join(suffixes)}"
        if not path.parent.is_dir():
            return f"{option} {path}: directory {path.parent} does not exist"
        if not os.access(path.parent, os.W_OK):
            return f"{option} {path}: directory {path.parent} is not writable"
    return None


@app.command()
def rerun(
    season: str = typer.Option(..., "--season", help="label of the new season, e.g. 2027"),
    from_season: str | None = typer.Option(None, "--from-season",
                                           help="renew the pairings of this season (default: the greatest "
                                                "label below --season, else the greatest other one)"),
    from_run: str | None = typer.Option(None, "--from-run", help="renew the pairings of this run"),
    county: list[str] = typer.Option([], "--county", help="limit to these counties (6-digit codes); repeatable"),
    max_changes: int | None = typer.Option(None, "--max-changes", min=0,
                                           help="at most N of last season's keepable pairings change (failing and "
                                                "leavers' pairings are always replaced)"),
    keep_grades: str = typer.Option("优秀,良好", "--keep-grades",
                                    help="pairings graded at or above the lowest of these are kept where feasible "
                                         "(合格 keeps 合格, 良好 and 优秀)"),
    time_limit: float = typer.Option(60.0, "--time-limit", min=1, help="solver time limit in seconds"),
    exact_finish: bool = typer.Option(True, "--exact-finish/--no-exact-finish",
                                      help="prove the levels left unproven by exact MILPs within the time limit (a "
                                           "whole city: about a minute); --no-exact-finish: the quick answer"),
    export: Path | None = typer.Option(None, "--export", help="write the name list (.xlsx, .csv or .json)"),
    report: list[Path] = typer.Option([], "--report", help="write the change report (.html or .xlsx); repeatable"),
    adopt: bool = typer.Option(False, "--adopt", help="adopt the new run as the season's pairings when it finishes "
                                                     "optimal or feasible (otherwise adopt it later: season adopt)"),
) -> None:
    """Build this season's run from the catalogue and last season's pairings and grades, solve it, report."""
    from app.db import migrate_to_head, session_scope
    from app.errors import JieduiError
    from app.services.runs import submit_run
    from app.services.season import plan_renewal

    label = _label_problem(season)
    if label:
        stderr(f"error: --season {season!r}: {label}")
        raise typer.Exit(1)
    if from_season and from_run:
        stderr("error: give at most one of --from-season and --from-run")
        raise typer.Exit(1)
    problem = _output_problem(export, report)
    if problem:
        stderr(f"error: {problem}")
        raise typer.Exit(1)
    migrate_to_head()
    try:
        with session_scope() as session:
            plan = plan_renewal(session, season=season, from_season=from_season, from_run=from_run, counties=county,
                                keep_grades=[g.strip() for g in keep_grades.split(",") if g.strip()],
                                max_changes=max_changes, time_limit_s=time_limit, exact_finish=exact_finish)
            run, _ = submit_run(session, body=plan.body, enqueue=False)  # solved here, by _watch, not by workers
            run_id = run.id
    except JieduiError as exc:
        stderr(f"error: {exc.message}")
        for err in exc.errors[:20]:
            stderr(f"  {err.get('field')}: {err.get('message')}")
        raise typer.Exit(1) from None
    if not plan.base_run:
        message(f"no earlier season: making the first pairing of season {season}")
    elif plan.base_season:
        message(f"renewing season {plan.base_season} (run {plan.base_run})")
    else:
        message(f"renewing run {plan.base_run} (it has no season)")
    message(f"run {run_id}: {len(plan.locked)} pairings locked, {len(plan.preferred)} preferred, "
            f"{len(plan.released)} released")
    final = _watch(run_id)
    result = final["result"]
    assert isinstance(result, dict)
    if final["state"] == "cancelled":
        stderr(f"error: run {run_id} was cancelled")
        raise typer.Exit(1)
    if final["state"] not in ANSWERED_STATES:
        stderr(f"error: run {run_id} ended {final['state']}: {final['error'] or ''}")
        raise typer.Exit(1)
    _write_outputs(run_id, export=export, reports=report if plan.base_run else [])
    if report and not plan.base_run:
        message(f"no change report written: season {season} is the first season, there is no earlier one to compare with")
    if adopt:
        _adopt(season, run_id, note="jiedui season rerun --adopt")
    table(f"season {season} (run {run_id})", {
        "state": final["state"], "villages": result.get("villages"), "covered": result.get("covered"),
        "coverage": percent(result.get("coverage")), "gap": percent(result.get("gap"), digits=3, none="no proven bound"),
        **(_change_counts(run_id) if plan.base_run else {}),
    })
    raise typer.Exit(0 if result.get("uncovered") == 0 else 3)


def percent(share: object, digits: int = 1, none: str = "-") -> str:
    """A share (0.9954) as a percentage ("99.5%"); `none` when there is none."""
    return f"{float(share) * 100:.{digits}f}%" if isinstance(share, int | float) else none


def _change_counts(run_id: str) -> dict[str, int]:
    from app.db import session_scope
    from app.services.changes import change_report
    from models import Run

    with session_scope() as session:
        run = session.get(Run, run_id)
        assert run is not None
        return dict(change_report(session, run=run)["counts"])


def _write_outputs(run_id: str, *, export: Path | None, reports: list[Path]) -> None:
    """Write the name list and change reports the operator asked for."""
    from app.db import session_scope
    from app.services.changes import change_names, change_report, report_html, report_xlsx
    from app.services.export import export_run
    from models import Run

    with session_scope() as session:
        run = session.get(Run, run_id)
        assert run is not None
        if export:
            content, _, _ = export_run(session, run=run, fmt=export.suffix.lower().lstrip("."))
            export.write_bytes(content)
            message(f"name list written to {export}")
        if reports:
            data, names = change_report(session, run=run), change_names(session, run=run)
            for path in reports:
                if path.suffix.lower() == ".xlsx":
                    path.write_bytes(report_xlsx(data, names))
                else:
                    path.write_text(report_html(data, names), encoding="utf-8")
                message(f"change report written to {path}")


def _adopt(season: str, run_id: str, *, note: str | None) -> None:
    from app.db import session_scope
    from app.services.adoption import adopt_run

    with session_scope() as session:
        _, replaced = adopt_run(session, season=season, run_id=run_id, note=note)
    message(f"run {run_id} adopted as season {season}'s pairings" + (f" (replacing run {replaced})" if replaced else ""))


@app.command("adopt")
def adopt_command(
    run_id: str = typer.Argument(..., help="a run that ended optimal or feasible"),
    note: str | None = typer.Option(None, "--note", help="who approved it, when"),
) -> None:
    """Adopt a finished run as its season's pairings (renewals start from it)."""
    from app.db import migrate_to_head, session_scope
    from app.errors import JieduiError
    from models import Run

    migrate_to_head()
    try:
        with session_scope() as session:
            run = session.get(Run, run_id)
            season = run.season if run is not None else None
        if run is None or season is None:
            stderr(f"error: run {run_id} " + ("not found" if run is None else "has no season"))
            raise typer.Exit(1)
        _adopt(season, run_id, note=note)
    except JieduiError as exc:
        stderr(f"error: {exc.message}")
        raise typer.Exit(1) from None


@app.command("withdraw")
def withdraw_command(season: str = typer.Argument(..., help="the season whose adoption to withdraw")) -> None:
    """Withdraw a season's adoption: its newest finished run stands for it again."""
    from app.db import migrate_to_head, session_scope
    from app.errors import JieduiError
    from app.services.adoption import withdraw_adoption

    migrate_to_head()
    try:
        with session_scope() as session:
            withdraw_adoption(session, season=season)
    except JieduiError as exc:
        stderr(f"error: {exc.message}")
        raise typer.Exit(1) from None
    message(f"season {season}: adoption withdrawn")


@app.command("list")
def list_command() -> None:
    """Every season with runs: counts, the adopted run and the run holding its pairings."""
    from app.db import migrate_to_head, session_scope
    from app.services.adoption import seasons_overview

    migrate_to_head()
    with session_scope() as session:
        seasons = seasons_overview(session)
    if not seasons:
        message("no season has runs yet")
    for s in seasons:
        adoption = s["adoption"]
        table(f"season {s['season']}", {
            "runs": s["runs"], "finished": s["finished"], "pairing run": s["pairing_run"] or "-",
            "adopted": f"{adoption['run_id']} at {adoption['adopted_at']:%Y-%m-%d %H:%M}" if adoption else "no",
            "coverage": percent(s["coverage"])})
