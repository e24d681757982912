"""How far the solver's answer and bound are from the true optimum, on the synthetic city with every rule.

Usage:  .venv/bin/python benchmarks/bench_exact.py [--time-limit 900]

Solves the same instance as bench_solver.py's "city" twice: with `solver.solve`, and as one exact MILP
with HiGHS (scipy.optimize.milp) over the same eligible pairs, with the days budget and the team rule as
constraints (a binary per team). Coverage is held at full (every village's demand met; the solver proves
this is the coverage optimum on this instance, and the script refuses to run otherwise), and the MILP
maximises match x K + continuity (K exceeds any continuity total). Locked pairs are constants.
Prints one table: method, time, coverage, match, continuity, and the MILP's own bound.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np
import scipy.sparse as sp
from scipy.optimize import Bounds, LinearConstraint, milp

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks.bench_solver import _instance
from solver import solve
from solver.build import make_setup, team_groups
from solver.candidates import build_pairs, prepare


def exact(instance: object, time_limit: float) -> dict[str, float]:
    """(match, continuity) optimum with every village covered, by one HiGHS MILP."""
    prep = prepare(instance)  # type: ignore[arg-type]
    build_pairs(prep)
    members = {s.id: s.members for s in instance.specialists if s.kind == "team" and s.members}  # type: ignore[attr-defined]
    setup = make_setup(prep, members)
    free = np.flatnonzero(~setup.fixed & (setup.cap_eff[prep.ps] > 0) & (setup.req_res[prep.pv] > 0)
                          & (prep.days <= (prep.s_days - setup.days0)[prep.ps] + 1e-9))
    groups = team_groups(setup)
    n, g = len(free), len(groups)
    s, v = prep.ps[free], prep.pv[free]
    cols = np.arange(n)
    rows = [sp.csr_matrix((np.ones(n), (v, cols)), shape=(len(prep.vil_ids), n + g))]
    hi = [setup.req_res.astype(float)]
    rows.append(sp.csr_matrix((np.ones(n), (s, cols)), shape=(len(prep.spec_ids), n + g)))
    hi.append(setup.cap_eff.astype(float))  # capacity left after locks (0 when a lock blocks the team side)
    finite = np.isfinite(prep.s_days)
    rows.append(sp.csr_matrix((prep.days[free] * finite[s], (s, cols)), shape=(len(prep.spec_ids), n + g)))
    hi.append(np.where(finite, prep.s_days - setup.days0, 0.0))
    for k, (t, ms) in enumerate(groups):  # team used (y=1): members idle; y=0: the team idle
        on_t, on_m = cols[s == t], cols[np.isin(s, ms)]
        rows.append(sp.csr_matrix((np.r_[np.ones(len(on_t)), -float(prep.s_cap[t])],
                                   (np.zeros(len(on_t) + 1, int), np.r_[on_t, n + k])), shape=(1, n + g)))
        hi.append(np.zeros(1))
        rows.append(sp.csr_matrix((np.r_[np.ones(len(on_m)), float(n)],
                                   (np.zeros(len(on_m) + 1, int), np.r_[on_m, n + k])), shape=(1, n + g)))
        hi.append(np.full(1, float(n)))
    a = sp.vstack(rows, format="csr")
    lo = np.full(a.shape[0], -np.inf)
    lo[: len(prep.vil_ids)] = setup.req_res  # full coverage: every village's remaining demand met exactly
    cons = [LinearConstraint(a, lo, np.concatenate(hi))]
    ints, box = np.ones(n + g), Bounds(0, 1)
    opts = {"time_limit": time_limit, "disp": False}
    best_cover = int(np.sum(prep.v_weight * setup.req_res))
    k = int(prep.cont.sum()) + 1
    value = np.r_[np.rint(prep.score[free] * 100) * k + prep.cont[free], np.zeros(g)]
    t0 = time.perf_counter()
    second = milp(-value, constraints=cons, integrality=ints, bounds=box, options=opts)
    wall = time.perf_counter() - t0
    x = np.rint(second.x[:n]).astype(bool)
    locks = setup.lock_pairs
    lock_cover = int(np.sum(prep.v_weight * np.minimum(np.bincount(prep.pv[locks], minlength=len(prep.vil_ids)),
                                                       prep.v_req)))
    bound = -second.mip_dual_bound
    return {
        "time": wall,
        "status": second.status,
        "coverage": best_cover + lock_cover,
        "match": float(np.rint(prep.score[free][x] * 100).sum() + np.rint(prep.score[locks] * 100).sum()) / 100,
        "continuity": float(prep.cont[free][x].sum() + prep.cont[locks].sum()),
        "match_bound": (bound // k + np.rint(prep.score[locks] * 100).sum()) / 100,
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--time-limit", type=float, default=900.0, help="seconds for the MILP")
    args = ap.parse_args()
    instance = _instance("city")
    t0 = time.perf_counter()
    sol = solve(instance)
    ours = time.perf_counter() - t0
    if sol.levels[0].value != sol.levels[0].bound or sol.uncovered:
        raise SystemExit("this comparison needs full coverage (the solver's coverage equals its bound)")
    ex = exact(instance, args.time_limit)
    print("| method | time s | coverage | match value / bound | continuity |")
    print("|---|---|---|---|---|")
    lv = {x.name: x for x in sol.levels}
    print(f"| jiedui solver ({sol.status}) | {ours:.2f} | {lv['coverage'].value:g} | "
          f"{lv['match'].value:g} / {lv['match'].bound:g} | {lv['continuity'].value:g} |")
    state = "optimal" if ex["status"] == 0 else f"stopped (status {ex['status']})"
    print(f"| HiGHS MILP, {state} | {ex['time']:.1f} | {ex['coverage']:g} | "
          f"{ex['match']:g} / {ex['match_bound']:g} | {ex['continuity']:g} |")


if __name__ == "__main__":
    main()
