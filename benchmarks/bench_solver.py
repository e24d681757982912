"""Benchmark of the Jiedui solver on seeded synthetic city and province instances.

Usage:  .venv/bin/python benchmarks/bench_solver.py [--only city,province] [--repeat N]

Each run happens in a fresh subprocess (so ru_maxrss is the peak memory of that
run alone); the instance is generated inside it (generation is not timed, its
memory is included). Prints ONE markdown table. "core MCF" is a single OR-Tools
min-cost flow on the same candidate arcs with coverage and match combined
(candidate building excluded); "ratio" = solver end-to-end time / core MCF time.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import time
from dataclasses import replace
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

INSTANCES: dict[str, dict[str, Any]] = {
    "city": {
        "n_villages": 2000,
        "n_specialists": 1500,
        "county_spacing_km": 45.0,
        "repeat": 3,
    },
    "city-quick": {  # the same city without the exact finish (what the city row was before reduced-cost fixing)
        "n_villages": 2000,
        "n_specialists": 1500,
        "county_spacing_km": 45.0,
        "repeat": 3,
        "exact_finish": False,
    },
    "city-600s": {  # the same city given ten minutes: time for the exact finish to prove every level
        "n_villages": 2000,
        "n_specialists": 1500,
        "county_spacing_km": 45.0,
        "repeat": 1,
        "time_limit_s": 600.0,
    },
    "city-30s": {  # the same city at half the default limit: the exact finish proves what it can and hands over
        "n_villages": 2000,
        "n_specialists": 1500,
        "county_spacing_km": 45.0,
        "repeat": 3,
        "time_limit_s": 30.0,
    },
    "city-network-rules": {
        "n_villages": 2000,
        "n_specialists": 1500,
        "county_spacing_km": 45.0,
        "repeat": 3,
        "side_rules": False,
    },
    "province": {
        "n_villages": 16000,
        "n_specialists": 17000,
        "county_spacing_km": 64.0,
        "repeat": 1,
    },
    "province-network-rules": {
        "n_villages": 16000,
        "n_specialists": 17000,
        "county_spacing_km": 64.0,
        "repeat": 1,
        "side_rules": False,
    },
}


def _instance(name: str) -> Any:
    from solver.model import MatchParams
    from solver.synthetic import generate

    cfg = INSTANCES[name]
    params = MatchParams(time_limit_s=cfg.get("time_limit_s", 60.0), workers=2,
                         exact_finish=cfg.get("exact_finish", True))
    if not cfg.get(
        "side_rules", True
    ):  # locks, forbidden, radius, expertise, three-areas stay on
        params = replace(params, use_days_budget=False, team_rule=False)
    return generate(
        cfg["n_villages"],
        cfg["n_specialists"],
        seed=1,
        county_spacing_km=cfg["county_spacing_km"],
        params=params,
    )


def _core_mcf_seconds(instance: Any) -> float:
    # One min-cost flow over the same eligible pairs: coverage (weighted) then match, combined in one cost.
    import numpy as np
    from ortools.graph.python import min_cost_flow

    from solver.candidates import build_pairs, prepare

    prep = prepare(instance)
    build_pairs(prep)
    t0 = time.perf_counter()
    n_s, n_v = len(prep.spec_ids), len(prep.vil_ids)
    score = np.rint(prep.score * 100).astype(np.int64)
    big = int(score.max(initial=0)) * int(prep.s_cap.sum()) + 1
    tails = np.concatenate(
        [np.zeros(n_s), 1 + prep.ps, 1 + n_s + np.arange(n_v), [0]]
    ).astype(np.int32)
    heads = np.concatenate(
        [
            1 + np.arange(n_s),
            1 + n_s + prep.pv,
            np.full(n_v, 1 + n_s + n_v),
            [1 + n_s + n_v],
        ]
    ).astype(np.int32)
    caps = np.concatenate(
        [prep.s_cap * prep.s_ok, np.ones(len(prep.ps)), prep.v_req, [prep.v_req.sum()]]
    ).astype(np.int64)
    costs = np.concatenate([np.zeros(n_s), -score, -big * prep.v_weight, [0]]).astype(
        np.int64
    )
    mcf = min_cost_flow.SimpleMinCostFlow()
    mcf.add_arcs_with_capacity_and_unit_cost(tails, heads, caps, costs)
    supply = np.zeros(n_s + n_v + 2, dtype=np.int64)
    supply[0], supply[-1] = prep.v_req.sum(), -prep.v_req.sum()
    mcf.set_nodes_supplies(np.arange(len(supply), dtype=np.int32), supply)
    assert mcf.solve() == mcf.OPTIMAL
    return time.perf_counter() - t0


def worker(name: str, core: bool) -> None:
    """Run one solve (or the core MCF) and print a JSON line with results and peak memory."""
    from solver import solve

    instance = _instance(name)
    if core:
        out: dict[str, Any] = {"core_s": _core_mcf_seconds(instance)}
    else:
        t0 = time.perf_counter()
        sol = solve(instance)
        wall = time.perf_counter() - t0
        from solver.validate import validate

        assert validate(instance, sol) == [], name  # every rule and level recomputed from the answer alone
        out = {
            "wall_s": wall,
            "status": sol.status,
            "method": sol.method,
            "gap": sol.gap,
            "levels": [lv.to_dict() for lv in sol.levels],
            "size": sol.model_size,
            "uncovered": sum(u.missing for u in sol.uncovered),
        }
    out["maxrss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps(out, ensure_ascii=False))


def _run(name: str, core: bool) -> dict[str, Any]:
    cmd = [sys.executable, __file__, "--worker", name] + (["--core"] if core else [])
    res = subprocess.run(
        cmd,
        capture_output=True,
        text=True,
        check=True,
        env=os.environ | {"PYTHONPATH": str(ROOT)},
    )
    return json.loads(res.stdout.strip().splitlines()[-1])


def _fmt_level(lv: dict[str, Any]) -> str:
    gap = "n/a" if lv["gap"] is None else f"{100 * lv['gap']:.3f}%"
    bound = "-" if lv["bound"] is None else f"{lv['bound']:.10g}"
    return f"{lv['value']:.10g} / {bound} ({gap}{'' if lv['proven'] else ', unproven'})"


def _short_method(method: str) -> str:
    base = (
        "MCF lexicographic ("
        + method.split("solves: ")[1].split(";")[0].replace(" | ", " → ")
        + ")"
        if "solves: " in method
        else method
    )
    if "Lagrangian" in method:
        rounds = method.split("refined by ")[1].split(" ")[0]
        wide = ", master LP by PDLP" if "solved by PDLP" in method else ""
        base += f" + Lagrangian bound ({rounds} price rounds{wide})"
    if "restricted every specialist" in method:
        plan = ", around the master LP's plan" if "master LP's plan" in method else ""
        base += f" + guided restriction (all days-critical specialists{plan})"
    elif "restricted violators only" in method:
        rounds = method.split("violators only, ")[1].split(" rounds")[0]
        base += f" + guided restriction (violators, {rounds} rounds)"
    elif "restrictions (" in method:
        rounds = method.split("restrictions (")[1].split(" rounds")[0]
        base += f" + side-rule restriction ({rounds} rounds)"
    if "more price rounds before reduced-cost fixing" in method:
        more = method.split(" more price rounds before reduced-cost fixing")[0].split("; ")[-1]
        base += f" + {more} price rounds before fixing"
    if "proven optimal by exact MILPs" in method:
        proved = method.split(" proven optimal by exact MILPs")[0].split("; ")[-1] + " proven"
        fixed = " after reduced-cost fixing" if "reduced-cost fixing left" in method else ""
        base += f" + exact MILPs{fixed} ({proved})"
    if "CP-SAT polish on" in method:
        base += " + CP-SAT polish" + (
            " (improved)" if method.endswith("improved") else ""
        )
    return base


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument(
        "--only", default=",".join(INSTANCES), help="comma-separated instance names"
    )
    ap.add_argument(
        "--repeat",
        type=int,
        default=None,
        help="runs per instance (default 3 city / 1 province)",
    )
    ap.add_argument("--worker", help=argparse.SUPPRESS)
    ap.add_argument("--core", action="store_true", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.worker:
        worker(args.worker, args.core)
        return
    names = [n for n in args.only.split(",") if n]
    level_names = ["coverage", "match", "continuity", "travel", "balance"]
    print(
        "| instance | villages / specialists / pairs | method | status | time s (median) | "
        + " | ".join(f"{n} value / bound (gap)" for n in level_names)
        + " | core MCF s | ratio | peak MB |"
    )
    print("|" + "---|" * (9 + len(level_names)))
    for name in names:
        reps = args.repeat or INSTANCES[name]["repeat"]
        runs = [_run(name, core=False) for _ in range(reps)]
        core = [_run(name, core=True)["core_s"] for _ in range(reps)]
        t = statistics.median(r["wall_s"] for r in runs)
        c = statistics.median(core)
        last = runs[-1]
        size = last["size"]
        levels = {lv["name"]: _fmt_level(lv) for lv in last["levels"]}
        statuses = [r["status"] for r in runs]
        status = last["status"] if len(set(statuses)) == 1 else ", ".join(
            f"{s} {statuses.count(s)}/{len(runs)}" for s in sorted(set(statuses)))  # runs that ended differently
        print(
            f"| {name} | {size['villages']} / {size['specialists']} / {size['candidates']} "
            f"| {_short_method(last['method'])} | {status} | {t:.2f} | "
            + " | ".join(levels.get(n, "-") for n in level_names)
            + f" | {c:.2f} | {t / c:.1f} | {max(r['maxrss_mb'] for r in runs):.0f} |",
            flush=True,
        )


if __name__ == "__main__":
    main()
