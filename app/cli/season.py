"""`jiedui season rerun`: renew last season's pairings unattended, export the name list and the change report.

Exit codes: 0 full coverage, 3 partial coverage, 1 error (bad input, failed or infeasible run).
"""

import threading
import time
from pathlib import Path

import typer

from app.cli.output import message, rich_enabled, table

app = typer.Typer(help="Seasonal renewal of pairings.", no_args_is_help=True)
FINAL = ("optimal", "feasible", "infeasible", "failed", "cancelled")


def _watch(run_id: str) -> dict[str, object]:
    """Solve the run in this process and show its progress until it ends; returns the final run row."""
    from app.db import session_scope
    from app.workers.execute import execute_run
    from models import Run

    worker = threading.Thread(target=execute_run, args=(run_id,), daemon=True)
    worker.start()

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
            while state not in FINAL:
                time.sleep(0.5)
                state, progress = poll()
                bar.update(task, description=f"{state} · {progress.get('phase', '')} {progress.get('level') or ''} "
                                             f"value {progress.get('value')} bound {progress.get('bound')}")
    else:
        last = ""
        while state not in FINAL:
            time.sleep(0.5)
            state, progress = poll()
            line = f"{state}: {progress.get('phase', '')} {progress.get('level') or ''}".strip()
            if line != last:
                message(line)
                last = line
    worker.join(timeout=10)
    with session_scope() as session:
        run = session.get(Run, run_id)
        assert run is not None
        return {"state": run.state, "result": run.result or {}, "error": run.error}


@app.command()
def rerun(
    season: str = typer.Option(..., "--season", help="label of the new season, e.g. 2027"),
    from_season: str | None = typer.Option(None, "--from-season",
                                           help="renew the pairings of this season (default: the newest other one)"),
    from_run: str | None = typer.Option(None, "--from-run", help="renew the pairings of this run"),
    county: list[str] = typer.Option([], "--county", help="limit to these counties (6-digit codes); repeatable"),
    max_changes: int | None = typer.Option(None, "--max-changes", min=0, help="at most N of last season's keepable pairings change (failing and leavers' pairings are always replaced)"),
    keep_grades: str = typer.Option("优秀,良好", "--keep-grades", help="grades whose pairings are kept where feasible"),
    time_limit: float = typer.Option(60.0, "--time-limit", min=1, help="solver time limit in seconds"),
    export: Path | None = typer.Option(None, "--export", help="write the name list (.xlsx, .csv or .json)"),
    report: list[Path] = typer.Option([], "--report", help="write the change report (.html or .xlsx); repeatable"),
) -> None:
    """Build this season's run from the catalogue and last season's pairings and grades, solve it, report."""
    from app.db import migrate_to_head, session_scope
    from app.errors import JieduiError
    from app.services.runs import submit_run
    from app.services.season import plan_renewal

    if from_season and from_run:
        message("error: give at most one of --from-season and --from-run")
        raise typer.Exit(1)
    migrate_to_head()
    try:
        with session_scope() as session:
            plan = plan_renewal(session, season=season, from_season=from_season, from_run=from_run, counties=county,
                                keep_grades=[g.strip() for g in keep_grades.split(",") if g.strip()],
                                max_changes=max_changes, time_limit_s=time_limit)
            run, _ = submit_run(session, body=plan.body)
            run_id = run.id
    except JieduiError as exc:
        message(f"error: {exc.message}")
        for err in exc.errors[:20]:
            message(f"  {err.get('field')}: {err.get('message')}")
        raise typer.Exit(1) from None
    message(f"run {run_id}: {len(plan.locked)} pairings locked, {len(plan.preferred)} preferred, "
            f"{len(plan.released)} released")
    final = _watch(run_id)
    result = final["result"]
    assert isinstance(result, dict)
    if final["state"] not in ("optimal", "feasible", "cancelled"):
        message(f"error: run {run_id} ended {final['state']}: {final['error'] or ''}")
        raise typer.Exit(1)
    _write_outputs(run_id, export=export, reports=report if plan.base_run else [])
    table(f"season {season} (run {run_id})", {
        "state": final["state"], "villages": result.get("villages"), "covered": result.get("covered"),
        "coverage": result.get("coverage"), "gap": result.get("gap"),
        **(_change_counts(run_id) if plan.base_run else {}),
    })
    raise typer.Exit(0 if result.get("uncovered") == 0 else 3)


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
    from app.services.changes import change_report, report_html, report_xlsx
    from app.services.export import code_names, export_run
    from models import Run

    with session_scope() as session:
        run = session.get(Run, run_id)
        assert run is not None
        if export:
            content, _, _ = export_run(session, run=run, fmt=export.suffix.lstrip(".") or "xlsx")
            export.write_bytes(content)
            message(f"name list written to {export}")
        if reports:
            data, names = change_report(session, run=run), code_names(session)
            for path in reports:
                if path.suffix == ".xlsx":
                    path.write_bytes(report_xlsx(data, names))
                else:
                    path.write_text(report_html(data, names), encoding="utf-8")
                message(f"change report written to {path}")
