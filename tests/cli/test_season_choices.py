"""What a renewal starts from and keeps: grades at or above a threshold, the season's standing run, the CLI's own
solve under the Celery backend, and how errors are reported."""

import os

import redis
from sqlalchemy import select
from typer.testing import CliRunner

from app.cli import main
from app.db import session_scope
from app.schemas.records import ServiceRecordIn
from app.services.adoption import seasons_overview
from app.services.records import bulk_upsert_records
from app.services.season import plan_renewal, season_run
from app.workers.execute import worker_name
from models import Run, RunAssignment
from tests.cli.clihelp import invoke, newest_run

SMALL = ("--county", "341525")


def _pairs(run_id: str) -> list[tuple[str, str]]:
    with session_scope() as session:
        return sorted((s, v) for s, v in session.execute(
            select(RunAssignment.specialist_code, RunAssignment.village_code).where(RunAssignment.run_id == run_id)))


def test_keep_grades_is_a_threshold(env: dict[str, str]) -> None:
    # "合格" used to lock only the 合格 pairings, leaving the 优秀 ones free to move.
    code, out = invoke(env, "season", "rerun", "--season", "2026", *SMALL)
    assert code in (0, 3), out
    pairs = _pairs(newest_run("2026").id)
    with session_scope() as session:
        bulk_upsert_records(session, rows=[ServiceRecordIn(season="2026", specialist=s, village=v,
                                                           grade="合格" if i == 0 else "优秀")
                                           for i, (s, v) in enumerate(pairs)])
    with session_scope() as session:
        at_pass = plan_renewal(session, season="2027", from_season="2026", from_run=None, counties=["341525"],
                               keep_grades=["合格"], max_changes=None, time_limit_s=10)
        at_good = plan_renewal(session, season="2027", from_season="2026", from_run=None, counties=["341525"],
                               keep_grades=["良好"], max_changes=None, time_limit_s=10)
    assert len(at_pass.locked) > len(at_good.locked) > 0
    assert pairs[0] in at_pass.locked and pairs[0] not in at_good.locked
    assert set(at_good.locked) <= set(at_pass.locked)


def test_a_county_rerun_does_not_stand_for_the_season(env: dict[str, str]) -> None:
    code, out = invoke(env, "season", "rerun", "--season", "2026")
    assert code in (0, 3), out
    whole = newest_run("2026").id
    code, out = invoke(env, "season", "rerun", "--season", "2026", *SMALL)
    assert code in (0, 3), out
    assert newest_run("2026").id != whole
    with session_scope() as session:
        assert season_run(session, season="2026").id == whole
        assert seasons_overview(session, season="2026")[0]["pairing_run"] == whole
    code, out = invoke(env, "season", "rerun", "--season", "2027", "--time-limit", "5")  # renews the whole season
    assert code in (0, 3), out
    assert f"renewing season 2026 (run {whole})" in out


def test_the_cli_solves_its_run_itself_under_the_celery_backend(env: dict[str, str]) -> None:
    # It used to hand the run to the queue too: a Celery worker could take it and an interrupt lost its answer.
    broker = redis.Redis.from_url(os.environ["REDIS_URL"])
    broker.delete("jiedui-runs")
    code, out = invoke({**env, "JIEDUI_RUN_BACKEND": "celery", "REDIS_URL": os.environ["REDIS_URL"]},
                       "season", "rerun", "--season", "2026", *SMALL)
    assert code in (0, 3), out
    assert broker.llen("jiedui-runs") == 0
    with session_scope() as session:
        assert session.scalar(select(Run.worker_id).where(Run.season == "2026")) == worker_name()


def test_errors_go_to_stderr_and_a_bad_label_is_one_line(env: dict[str, str], tmp_path: str) -> None:
    runner = CliRunner()
    result = runner.invoke(main, ["season", "rerun", "--season", "2027", "--export", "x.pdf"], env=env)
    assert result.exit_code == 1
    assert result.stderr.startswith("error: --export x.pdf") and result.stdout == ""
    for label in ("a/b", ""):
        result = runner.invoke(main, ["season", "rerun", "--season", label], env=env)
        assert result.exit_code == 1 and result.stdout == ""
        assert result.stderr.count("\n") == 1 and result.stderr.startswith(f"error: --season {label!r}")


def test_the_summary_shows_shares_as_percentages(env: dict[str, str]) -> None:
    code, out = invoke(env, "season", "rerun", "--season", "2026", *SMALL)
    assert code in (0, 3), out
    lines = dict(line.split(": ", 1) for line in out.splitlines() if line.startswith(("coverage: ", "gap: ")))
    assert lines["coverage"].endswith("%"), out  # was 0.9954
    assert lines["gap"].endswith("%") or lines["gap"] == "no proven bound", out  # was 1.66e-05, or None
