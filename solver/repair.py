"""Side rules that break the network: detection, and CP-SAT polish on a neighbourhood.

Side rules: the total days budget (pair days vary), the team rule and max_changes.
The network optimum ignores them, so its level values are valid bounds.
`find_violations` checks any answer; after solver.restrict has produced an
answer that satisfies them, `repair` builds a CP-SAT model over a restricted
neighbourhood (violating specialists, the villages they hold or could hold, and
the best alternative specialists of those villages; every other pair fixed),
keeps the levels that already meet their bound, and optimises the rest level by
level, hinted with the incumbent. Deterministic time limits keep runs reproducible.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import partial

import numpy as np
from ortools.sat.python import cp_model

from solver.build import Setup
from solver.candidates import Prepared
from solver.levels import UNIT_SCALE

DAY_SCALE = 100
ALT_PER_VILLAGE = 4
CAND_PER_SPECIALIST = 6


@dataclass
class Violations:
    days: list[int] = field(default_factory=list)  # specialist indices over budget
    teams: list[int] = field(
        default_factory=list
    )  # team indices used together with a member
    changes: int = 0  # previous pairs dropped beyond max_changes

    def any(self) -> bool:
        return bool(self.days or self.teams or self.changes > 0)


def previous_keys(prep: Prepared) -> tuple[np.ndarray, int]:
    """Pair indices of last season's pairs that are still eligible, and the total number of previous pairs."""
    s_index = {x: i for i, x in enumerate(prep.spec_ids)}
    v_index = {x: i for i, x in enumerate(prep.vil_ids)}
    prev = sorted({(q.specialist_id, q.village_id) for q in prep.params.previous})
    keys = np.array(
        [
            s_index[a] * len(prep.vil_ids) + v_index[b]
            for a, b in prev
            if a in s_index and b in v_index
        ],
        dtype=np.int64,
    )
    all_keys = prep.pair_keys()
    pos = np.minimum(np.searchsorted(all_keys, keys), max(len(all_keys) - 1, 0))
    hit = all_keys[pos] == keys if len(all_keys) else np.zeros(len(keys), bool)
    return np.sort(pos[hit]), len(prev)


def find_violations(setup: Setup, assigned: np.ndarray) -> Violations:
    """Check the days budget, team rule and max_changes on a set of assigned pair indices."""
    prep = setup.prep
    n_s = len(prep.spec_ids)
    days = np.bincount(prep.ps[assigned], weights=prep.days[assigned], minlength=n_s)
    load = np.bincount(prep.ps[assigned], minlength=n_s)
    out = Violations(days=[int(s) for s in np.flatnonzero(days > prep.s_days + 1e-6)])
    out.teams = [
        t for t, ms in setup.teams.items() if load[t] > 0 and load[ms].sum() > 0
    ]
    if prep.params.max_changes is not None:
        prev, total = previous_keys(prep)
        kept = int(np.isin(prev, assigned).sum())
        out.changes = max(0, total - kept - prep.params.max_changes)
    return out


def neighbourhood(
    setup: Setup, assigned: np.ndarray, bad: set[int], with_previous: bool
) -> np.ndarray:
    """Pair indices left free for CP-SAT: pairs into the villages the `bad` specialists hold or could hold."""
    prep = setup.prep
    prev, _ = previous_keys(prep)
    bad_arr = np.array(sorted(bad), dtype=np.int64)
    usable = ~prep.locked & prep.s_ok[prep.ps]
    in_bad = np.isin(prep.ps, bad_arr) & usable
    villages = {int(v) for v in prep.pv[assigned[np.isin(prep.ps[assigned], bad_arr)]]}
    bounds = np.searchsorted(
        prep.ps, np.stack([bad_arr, bad_arr + 1])
    )  # prep.ps is sorted
    for a, b in zip(
        bounds[0], bounds[1]
    ):  # best candidate villages of each listed specialist
        idx = a + np.flatnonzero(in_bad[a:b])
        best = idx[np.lexsort((prep.dist[idx], -prep.score[idx]))][:CAND_PER_SPECIALIST]
        villages.update(int(v) for v in prep.pv[best])
    if with_previous:
        villages.update(int(v) for v in prep.pv[prev])
    v_arr = np.array(sorted(villages), dtype=np.int64)
    into = np.flatnonzero(np.isin(prep.pv, v_arr) & usable)
    keep = (
        np.isin(into, assigned) | np.isin(prep.ps[into], bad_arr) | np.isin(into, prev)
    )
    rest = into[~keep]
    order = rest[np.lexsort((prep.dist[rest], -prep.score[rest], prep.pv[rest]))]
    rank = np.arange(len(order)) - np.searchsorted(prep.pv[order], prep.pv[order])
    return np.sort(np.concatenate([into[keep], order[rank < ALT_PER_VILLAGE]]))


class _Ticker(cp_model.CpSolverSolutionCallback):
    # Reports CP-SAT progress at least every second and honours should_stop.
    def __init__(
        self,
        report: Callable[[float | None, float | None], None],
        should_stop: Callable[[], bool] | None,
    ) -> None:
        super().__init__()
        self.report = report
        self.should_stop = should_stop

    def on_solution_callback(self) -> None:
        self.report(self.ObjectiveValue(), self.BestObjectiveBound())
        if self.should_stop is not None and self.should_stop():
            self.StopSearch()


def repair(
    setup: Setup,
    assigned: np.ndarray,
    free: np.ndarray,
    spec: list[list[str]],
    budget: float,
    deadline: float,
    report: Callable[[str, float | None, float | None], None],
    should_stop: Callable[[], bool] | None,
    keep_levels: int = 0,
) -> tuple[np.ndarray | None, str]:
    """Re-optimise the free pairs lexicographically under all side rules; None if CP-SAT finds nothing."""
    prep = setup.prep
    p = prep.params
    m = cp_model.CpModel()
    x = {
        int(i): m.new_bool_var(
            f"x_{prep.spec_ids[prep.ps[i]]}_{prep.vil_ids[prep.pv[i]]}"
        )
        for i in free
    }
    fixed = np.setdiff1d(assigned, free)
    n_s, n_v = len(prep.spec_ids), len(prep.vil_ids)
    f_load = np.bincount(prep.ps[fixed], minlength=n_s)
    f_days = np.bincount(prep.ps[fixed], weights=prep.days[fixed], minlength=n_s)
    f_vil = np.bincount(prep.pv[fixed], minlength=n_v)
    by_s: dict[int, list[int]] = {}
    by_v: dict[int, list[int]] = {}
    for i in x:
        by_s.setdefault(int(prep.ps[i]), []).append(i)
        by_v.setdefault(int(prep.pv[i]), []).append(i)
    loads = capacity_and_days(m, prep, x, by_s, f_load, f_days)
    for (
        v,
        idx,
    ) in by_v.items():  # village demand: at most the required number of specialists
        m.add(sum(x[i] for i in idx) <= max(0, int(prep.v_req[v] - f_vil[v])))
    team_rule(m, setup, x, by_s, f_load)
    if p.max_changes is not None:  # keep enough of last season's pairs
        prev, total = previous_keys(prep)
        kept_fixed = int(np.isin(prev, fixed).sum())
        m.add(
            sum(x[int(i)] for i in prev if int(i) in x)
            >= total - p.max_changes - kept_fixed
        )
    chosen = {int(i) for i in assigned}
    for i, var in x.items():
        m.add_hint(var, i in chosen)
    solver = cp_model.CpSolver()
    solver.parameters.num_workers = max(1, p.workers)
    solver.parameters.random_seed = p.seed
    solver.parameters.relative_gap_limit = p.gap_limit
    solver.parameters.interleave_search = True  # deterministic parallel search
    best: np.ndarray | None = None
    status_text = []
    for k, names in enumerate(spec):
        expr = _level_expr(m, prep, x, loads, names)
        if (
            k < keep_levels
        ):  # level already at its proven bound: keep it, do not re-optimise
            m.add(expr <= _value(prep, x, names, assigned, loads))
            continue
        m.minimize(expr)
        left = deadline - time.perf_counter()
        if left <= 0.0 or (should_stop is not None and should_stop()):
            status_text.append(f"{'+'.join(names)}: no time")
            break
        share = budget / max(
            1, len(spec) - keep_levels
        )  # deterministic time keeps runs reproducible; wall time is a safety net
        solver.parameters.max_deterministic_time = share
        solver.parameters.max_time_in_seconds = max(0.1, left)
        label = "+".join(names)
        status = solver.solve(
            m, _Ticker(partial(report, label), should_stop)
        )
        if status not in (cp_model.OPTIMAL, cp_model.FEASIBLE):
            status_text.append(f"{label}: {solver.status_name(status)}")
            break
        value = round(solver.objective_value)
        status_text.append(f"{label}: {solver.status_name(status)}")
        best = np.array(
            sorted(i for i, var in x.items() if solver.boolean_value(var)),
            dtype=np.int64,
        )
        m.clear_hints()  # type: ignore[no-untyped-call]  # ortools leaves clear_hints unannotated
        for var in x.values():
            m.add_hint(var, solver.boolean_value(var))
        m.add(expr <= value)
    if best is None:
        return None, "; ".join(status_text)
    return np.sort(np.concatenate([fixed, best])), "; ".join(status_text)


def capacity_and_days(
    m: cp_model.CpModel,
    prep: Prepared,
    x: dict[int, cp_model.IntVar],
    by_s: dict[int, list[int]],
    f_load: np.ndarray,
    f_days: np.ndarray,
) -> dict[int, cp_model.IntVar]:
    # Capacity and days budget of every specialist with free pairs; returns their load variables.
    loads: dict[int, cp_model.IntVar] = {}
    for s, idx in sorted(by_s.items()):
        cap = int(prep.s_cap[s]) if prep.s_ok[s] else 0
        load = m.new_int_var(
            int(f_load[s]), max(int(f_load[s]), cap), f"load_{prep.spec_ids[s]}"
        )
        m.add(load == int(f_load[s]) + sum(x[i] for i in idx))
        loads[s] = load
        if np.isfinite(prep.s_days[s]):
            budget = int(np.floor((prep.s_days[s] - f_days[s]) * DAY_SCALE + 1e-6))
            m.add(
                sum(int(np.ceil(prep.days[i] * DAY_SCALE - 1e-6)) * x[i] for i in idx)
                <= budget
            )
    return loads


def team_rule(
    m: cp_model.CpModel,
    setup: Setup,
    x: dict[int, cp_model.IntVar],
    by_s: dict[int, list[int]],
    f_load: np.ndarray,
) -> None:
    # Team rule: when a team is paired, none of its members is paired individually.
    for t, ms in sorted(setup.teams.items()):
        if t not in by_s and not any(mm in by_s for mm in ms):
            continue
        used = m.new_bool_var(f"team_{setup.prep.spec_ids[t]}")
        if f_load[t] > 0:
            m.add(used == 1)
        if f_load[ms].sum() > 0:
            m.add(used == 0)
        for i in by_s.get(t, []):
            m.add_implication(x[i], used)
        for mm in ms:
            for i in by_s.get(mm, []):
                m.add_implication(x[i], used.Not())


def _level_expr(
    m: cp_model.CpModel,
    prep: Prepared,
    x: dict[int, cp_model.IntVar],
    loads: dict[int, cp_model.IntVar],
    names: list[str],
) -> cp_model.LinearExpr | int:
    # Integer cost (minimised) of one level over the free pairs, same units as the network.
    weights = prep.params.level_weights
    terms: list[cp_model.LinearExpr | int] = []
    idx = np.array(sorted(x), dtype=np.int64)
    for n in names:
        w = float(weights.get(n, 1.0)) if len(names) > 1 else 1.0
        if n == "balance":
            for s, load in sorted(loads.items()):
                top = int(prep.s_cap[s]) + 1
                table = np.cumsum(
                    [0] + [int(np.rint(w * (2 * j - 1))) for j in range(1, top + 1)]
                ).tolist()
                sq = m.new_int_var(min(table), max(table), f"sq_{prep.spec_ids[s]}")
                m.add_element(load, table, sq)
                terms.append(sq)
            continue
        coef = _criterion(prep, idx, n)
        coef = np.rint(w * coef).astype(np.int64)
        terms.append(sum(int(c) * x[int(i)] for c, i in zip(coef, idx) if c != 0))
    return sum(terms)


def _criterion(prep: Prepared, idx: np.ndarray, name: str) -> np.ndarray:
    # Per-pair cost of a non-balance criterion (coverage counts per assigned unit).
    if name == "coverage":
        return np.asarray(-prep.v_weight[prep.pv[idx]].astype(np.float64))
    if name == "match":
        return np.asarray(-np.rint(prep.score[idx] * UNIT_SCALE["match"]))
    if name == "continuity":
        return np.asarray(-prep.cont[idx].astype(np.float64))
    return np.asarray(np.rint(prep.dist[idx] * UNIT_SCALE["travel"]))


def _value(
    prep: Prepared,
    x: dict[int, cp_model.IntVar],
    names: list[str],
    assigned: np.ndarray,
    loads: dict[int, cp_model.IntVar],
) -> int:
    # Value of a level expression at the incumbent (free pairs in `assigned`, loads from it).
    chosen = {int(i) for i in assigned}
    weights = prep.params.level_weights
    idx = np.array(sorted(i for i in x if i in chosen), dtype=np.int64)
    total = 0
    for n in names:
        w = float(weights.get(n, 1.0)) if len(names) > 1 else 1.0
        if n == "balance":
            load = np.bincount(prep.ps[assigned], minlength=len(prep.spec_ids))
            for s in loads:
                total += sum(
                    int(np.rint(w * (2 * j - 1))) for j in range(1, int(load[s]) + 1)
                )
            continue
        total += (
            int(np.rint(w * _criterion(prep, idx, n)).astype(np.int64).sum())
            if len(idx)
            else 0
        )
    return total
