"""Seasonal renewal of the demo city, end to end: `jiedui season rerun` as a cron job would run it.

Fresh database with the 六安 demo catalogue; season 2026 is paired, graded (seeded: 30% 优秀, 45% 良好,
17% 合格, 8% 不合格) and 30 specialists are deactivated; then the 2027 rerun is timed as a whole process
(start-up, snapshot, solve, name list and change report written).

    .venv/bin/python benchmarks/bench_season.py [--repeat 3] [--database sqlite|postgres]
"""

import argparse
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--database", choices=["sqlite", "postgres"], default="sqlite")
    ap.add_argument("--no-exact-finish", action="store_true", help="the quick answer (passed on to the rerun)")
    args = ap.parse_args()
    tmp = Path(tempfile.mkdtemp())
    pg_name = f"jiedui_bench_season_{os.getpid()}"
    if args.database == "postgres":
        subprocess.run(["psql", "-h", "127.0.0.1", "-U", "postgres", "-q", "-c", f"CREATE DATABASE {pg_name}"], check=True)
        url = f"postgresql://postgres@127.0.0.1:5432/{pg_name}"
    else:
        url = f"sqlite:///{tmp / 'season.db'}"
    env = {**os.environ, "DATABASE_URL": url}
    jiedui = [sys.executable, "-m", "app.cli"]
    try:
        subprocess.run([*jiedui, "demo", "load"], env=env, check=True, capture_output=True)
        first = subprocess.run([*jiedui, "season", "rerun", "--season", "2026"], env=env, capture_output=True,
                               check=False)
        assert first.returncode in (0, 3), first.stdout
        os.environ["DATABASE_URL"] = url
        from sqlalchemy import select, update

        from app.db import session_scope
        from app.schemas.records import ServiceRecordIn
        from app.services.records import bulk_upsert_records
        from models import Run, RunAssignment, Specialist

        rng = random.Random(2026)
        with session_scope() as session:
            run_id = session.scalar(select(Run.id).where(Run.season == "2026"))
            pairs = sorted((s, v) for s, v in session.execute(
                select(RunAssignment.specialist_code, RunAssignment.village_code).where(RunAssignment.run_id == run_id)))
            bulk_upsert_records(session, rows=[ServiceRecordIn(
                season="2026", specialist=s, village=v, service_days=30, visits=4,
                grade=rng.choices(["优秀", "良好", "合格", "不合格"], [30, 45, 17, 8])[0]) for s, v in pairs])
            leavers = sorted({s for s, _ in pairs})[::40][:30]
            session.execute(update(Specialist).where(Specialist.code.in_(leavers)).values(active=False))
        times, outputs = [], []
        for i in range(args.repeat):
            t0 = time.perf_counter()
            done = subprocess.run([*jiedui, "season", "rerun", "--season", f"2027-{i}", "--from-season", "2026",
                                   "--max-changes", "300", "--export", str(tmp / "names.xlsx"),
                                   "--report", str(tmp / "changes.html"), "--report", str(tmp / "changes.xlsx"),
                                   *(["--no-exact-finish"] if args.no_exact_finish else [])],
                                  env=env, capture_output=True, text=True, check=False)
            times.append(time.perf_counter() - t0)
            outputs.append(done)
            assert done.returncode in (0, 3), done.stdout + done.stderr
        last = dict(line.split(": ", 1) for line in outputs[-1].stdout.splitlines() if ": " in line)
        print(f"\nseasonal rerun on {args.database}: demo city (1,970 villages, 1,500 specialists), "
              f"{len(pairs)} pairings renewed, {'quick answer' if args.no_exact_finish else 'exact finish'}\n")
        print("| measure | value |")
        print("|---|---|")
        print(f"| end to end (s), median of {args.repeat} | {statistics.median(times):.2f} |")
        print(f"| min / max (s) | {min(times):.2f} / {max(times):.2f} |")
        for key in ("state", "coverage", "gap", "kept", "moved", "new", "dropped"):
            print(f"| {key} | {last.get(key, '')} |")
    finally:
        if args.database == "postgres":
            subprocess.run(["psql", "-h", "127.0.0.1", "-U", "postgres", "-q", "-c",
                            f"DROP DATABASE IF EXISTS {pg_name} WITH (FORCE)"], check=False)


if __name__ == "__main__":
    main()
