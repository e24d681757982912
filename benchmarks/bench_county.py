"""County runs of the 六安 demo: what the exact finish proves, and what it costs.

A county bureau pairs its own villages (a run scoped to one county, every specialist of the city eligible).
For each of the seven counties this solves the run twice: without the exact finish (`exact_finish=False`:
network, Lagrangian bound, guided re-solves, CP-SAT polish) and with it (the default), and prints one
table: size, time, status, the lowest level proven, travel and balance.

    .venv/bin/python benchmarks/bench_county.py [--time-limit 60]
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--time-limit", type=float, default=60.0)
    args = ap.parse_args()
    os.environ["DATABASE_URL"] = f"sqlite:///{Path(tempfile.mkdtemp()) / 'county.db'}"
    from dataclasses import replace

    from app.db import migrate_to_head, session_scope
    from app.demo.load import load_demo
    from app.schemas.runs import RunCreate
    from app.services.runs import solver_params
    from app.services.snapshot import build_instance
    from models import County
    from solver import solve
    from solver.validate import validate

    migrate_to_head()
    with session_scope() as session:
        load_demo(session)
    with session_scope() as session:
        counties = [(c.code, c.name) for c in session.query(County).order_by(County.code)]
        instances = {}
        for code, _ in counties:
            body = RunCreate(counties=[code], time_limit_s=args.time_limit)
            instances[code] = build_instance(session, counties=[code], specialists_in_scope_only=False,
                                             params=solver_params(session, body=body, table=None))
    print("| county | villages / pairs | method | time s | status | proven down to | travel km | balance |")
    print("|---|---|---|---|---|---|---|---|")
    for code, name in counties:
        for label, on in (("without exact finish", False), ("with exact finish", True)):
            instance = replace(instances[code], params=replace(instances[code].params, exact_finish=on))
            t = time.perf_counter()
            sol = solve(instance)
            seconds = time.perf_counter() - t
            assert validate(instance, sol) == [], code
            held = 0
            while held < len(sol.levels) and sol.levels[held].proven and sol.levels[held].gap == 0:
                held += 1
            lowest = sol.levels[held - 1].name if held else "-"
            lv = {x.name: x for x in sol.levels}
            print(f"| {code} {name} | {len(instance.villages)} / {sol.model_size.get('candidates', '-')} | {label} | "
                  f"{seconds:.2f} | {sol.status} | {lowest} | {lv['travel'].value:g} | {lv['balance'].value:g} |",
                  flush=True)


if __name__ == "__main__":
    main()
