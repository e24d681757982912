"""`jiedui season rerun` over two seasons of the 六安 demo: continuity, grades, leavers, new villages, limits."""

import random
from pathlib import Path

from openpyxl import load_workbook
from sqlalchemy import func, select, update

from app.db import session_scope
from app.schemas.records import ServiceRecordIn
from app.schemas.villages import VillageIn
from app.services.records import bulk_upsert_records
from app.services.results import diff_runs
from app.services.villages import bulk_upsert_villages
from models import Run, RunAssignment, RunUncovered, ServiceRecord, Specialist
from tests.cli.clihelp import invoke, newest_run

NEW_VILLAGES = ["341522100901", "341522100902", "341522100903"]


def pairs(run_id: str) -> set[tuple[str, str]]:
    with session_scope() as session:
        return {(s, v) for s, v in session.execute(
            select(RunAssignment.specialist_code, RunAssignment.village_code).where(RunAssignment.run_id == run_id))}


def grade_season_one(first: set[tuple[str, str]]) -> dict[tuple[str, str], str]:
    rng = random.Random(7)
    grades = {p: rng.choices(["优秀", "良好", "合格", "不合格"], [3, 5, 2, 1])[0] for p in sorted(first)}
    with session_scope() as session:
        bulk_upsert_records(session, rows=[ServiceRecordIn(season="2026", specialist=s, village=v, grade=g,
                                                           service_days=30, visits=4) for (s, v), g in grades.items()])
    return grades


def test_two_seasons_keep_good_replace_failing_cover_new(env: dict[str, str], tmp_path: Path) -> None:
    code, out = invoke(env, "season", "rerun", "--season", "2026")
    assert code in (0, 3), out
    first = pairs(newest_run("2026").id)
    grades = grade_season_one(first)
    leavers = sorted({s for s, _ in first})[:25]
    with session_scope() as session:
        session.execute(update(Specialist).where(Specialist.code.in_(leavers)).values(active=False))
        bulk_upsert_villages(session, rows=[VillageIn(code=c, name=f"新村{i}", kind="村委会", needs=[
            {"industry": "grain", "weight": 2, "primary": True}]) for i, c in enumerate(NEW_VILLAGES)])
    report = tmp_path / "changes.xlsx"
    code, out = invoke(env, "season", "rerun", "--season", "2027", "--from-season", "2026", "--max-changes", "400",
                       "--report", str(report), "--report", str(tmp_path / "changes.html"),
                       "--export", str(tmp_path / "names.xlsx"))
    assert code in (0, 3), out
    second_run = newest_run("2027")
    second = pairs(second_run.id)
    with session_scope() as session:
        active = dict(session.execute(select(Specialist.code, Specialist.active)).all())
    good_feasible = {p for p, g in grades.items() if g in ("优秀", "良好") and active[p[0]]}
    assert good_feasible <= second  # every good pairing still feasible is kept
    failing = {p for p, g in grades.items() if g == "不合格"}
    assert failing and not (failing & second)  # failing pairings replaced
    assert not {p for p in second if p[0] in leavers}  # leavers released
    covered = {v for _, v in second}
    assert set(NEW_VILLAGES) <= covered  # new villages covered
    dropped_previous = len(first - second)
    assert dropped_previous <= 400
    with session_scope() as session:
        counts = diff_runs(session, a=newest_run("2026").id, b=second_run.id)["counts"]
        uncovered = session.scalar(select(func.count()).where(RunUncovered.run_id == second_run.id))
    sheet = list(load_workbook(report)["变动明细"].values)[1:]
    kinds = {k: sum(1 for r in sheet if r[0] == k) for k in ("保留", "调整", "新增", "取消")}
    assert kinds["保留"] == len(first & second) == counts["kept"]
    assert kinds["调整"] + kinds["取消"] == dropped_previous
    assert kinds["新增"] + kinds["调整"] == len(second - first)
    assert (code == 0) == (uncovered == 0)
    assert "科技特派员结对变动报告" in (tmp_path / "changes.html").read_text(encoding="utf-8")


def test_max_changes_is_respected(env: dict[str, str]) -> None:
    invoke(env, "season", "rerun", "--season", "2026")
    first = pairs(newest_run("2026").id)
    grades = grade_season_one(first)
    code, out = invoke(env, "season", "rerun", "--season", "2027", "--max-changes", "10")
    assert code in (0, 3), out
    failing = {p for p, g in grades.items() if g == "不合格"}
    dropped = first - pairs(newest_run("2027").id)
    assert failing <= dropped  # failing pairings are always replaced ...
    assert len(dropped - failing) <= 10  # ... and at most 10 of the others change


def test_unknown_season_is_an_error_and_writes_nothing(env: dict[str, str]) -> None:
    code, out = invoke(env, "season", "rerun", "--season", "2027", "--from-season", "1999")
    assert code == 1 and "unknown season '1999'" in out
    with session_scope() as session:
        assert session.scalar(select(func.count()).select_from(Run)) == 0


def test_run_from_another_scope_is_refused(env: dict[str, str]) -> None:
    code, out = invoke(env, "season", "rerun", "--season", "2026", "--county", "341525")
    assert code in (0, 3), out
    run_id = newest_run("2026").id
    code, out = invoke(env, "season", "rerun", "--season", "2027", "--from-run", run_id, "--county", "341524")
    assert code == 1 and "cannot seed a run" in out and "from_run: scope differs" in out
    code, out = invoke(env, "season", "rerun", "--season", "2027", "--from-season", "2026", "--county", "341524")
    assert code == 1 and f"run {run_id} (season 2026) covered counties 341525" in out
    assert "from_season: scope differs" in out  # the option the operator gave, not --from-run
    with session_scope() as session:
        assert session.scalar(select(func.count()).select_from(Run)) == 1


def test_malformed_grade_file_is_refused(env: dict[str, str], tmp_path: Path) -> None:
    bad = tmp_path / "grades.csv"
    bad.write_text("season,specialist,village,grade\n2026,TP00001,341525100201,很好\n", encoding="utf-8")
    code, out = invoke(env, "records", "import", str(bad))
    assert code != 0 and "grade" in out
    with session_scope() as session:
        assert session.scalar(select(func.count()).select_from(ServiceRecord)) == 0


def test_the_adopted_run_seeds_the_next_season(env: dict[str, str]) -> None:
    invoke(env, "season", "rerun", "--season", "2026")
    first = newest_run("2026").id
    code, out = invoke(env, "season", "rerun", "--season", "2026", "--adopt")
    second = newest_run("2026").id
    assert code in (0, 3) and f"run {second} adopted as season 2026's pairings" in out, out
    code, out = invoke(env, "season", "adopt", first, "--note", "县局审定")
    assert code == 0 and f"(replacing run {second})" in out, out
    code, out = invoke(env, "season", "list")
    assert f"pairing run: {first}" in out and "runs: 2" in out, out
    code, out = invoke(env, "season", "rerun", "--season", "2027")
    assert code in (0, 3), out
    assert newest_run("2027").params["renews"] == first  # the adopted run, not the newer one
    assert invoke(env, "season", "withdraw", "2026")[0] == 0
    assert f"pairing run: {second}" in invoke(env, "season", "list")[1]
    code, out = invoke(env, "season", "withdraw", "2026")
    assert code == 1 and "no adopted run" in out


def test_the_exact_finish_proves_a_county_renewal_and_can_be_switched_off(env: dict[str, str]) -> None:
    code, out = invoke(env, "season", "rerun", "--season", "2026", "--county", "341525", "--exact-finish")
    assert code == 0, out
    proven = newest_run("2026")
    assert proven.state == "optimal", out
    code, out = invoke(env, "season", "rerun", "--season", "2026", "--county", "341525", "--no-exact-finish")
    assert code in (0, 3), out
    assert newest_run("2026").state == "feasible", out  # the quick answer leaves travel and balance unproven
