"""Property tests: random small instances pass the independent validator and match an exact MILP optimum."""

from __future__ import annotations

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from scipy.optimize import Bounds, LinearConstraint, milp
from solver_builders import at

from solver import (
    MatchInstance,
    MatchParams,
    MatchSolution,
    Need,
    PreviousPair,
    Specialist,
    Village,
    solve,
)
from solver.validate import _pair_rules, _rank, distance_km, validate

INDS = ("A01", "A02", "A03")


@st.composite
def instances(draw: st.DrawFn, side_rules: bool) -> MatchInstance:
    n_s, n_v = draw(st.integers(1, 5)), draw(st.integers(1, 6))
    specs = []
    for k in range(n_s):
        lon, lat = at(draw(st.floats(0, 100)), draw(st.floats(0, 40)))
        exp = draw(
            st.dictionaries(
                st.sampled_from(INDS), st.integers(1, 3), min_size=1, max_size=3
            )
        )
        team = side_rules and k == 0 and n_s > 2
        specs.append(
            Specialist(
                id=f"S{k}",
                county=f"41010{k % 2 + 1}",
                township=f"41010{k % 2 + 1}001",
                lon=None if draw(st.integers(0, 9)) == 0 else lon,
                lat=lat,
                expertise=exp,
                capacity=draw(st.integers(1, 3)),
                days_available=draw(st.sampled_from([None, 40.0, 70.0, 120.0]))
                if side_rules
                else draw(st.sampled_from([None, 40.0])),
                max_distance_km=draw(st.sampled_from([None, 30.0, 60.0, 100.0])),
                kind="team" if team else "individual",
                members=("S1", "S2") if team else (),
                active=draw(st.integers(0, 9)) > 0,
                grade=draw(st.sampled_from([None, "优秀", "合格", "不合格"])),
            )
        )
    vils = []
    for k in range(n_v):
        lon, lat = at(draw(st.floats(0, 100)), draw(st.floats(0, 40)))
        needs = draw(
            st.lists(st.sampled_from(INDS), min_size=1, max_size=2, unique=True)
        )
        vils.append(
            Village(
                id=f"41010{k % 2 + 1}001{k:03d}",
                county=f"41010{k % 2 + 1}",
                township=f"41010{k % 2 + 1}001",
                lon=lon,
                lat=lat,
                needs=tuple(
                    Need(i, draw(st.sampled_from([1.0, 1.5, 2.0])), primary=j == 0)
                    for j, i in enumerate(needs)
                ),
                poverty_alleviated=draw(st.booleans()),
                excluded=draw(st.integers(0, 14)) == 0,
                service_days=draw(st.sampled_from([20.0, 30.0])),
            )
        )
    prev = tuple(
        PreviousPair(
            f"S{draw(st.integers(0, n_s - 1))}",
            vils[draw(st.integers(0, n_v - 1))].id,
            draw(st.sampled_from(["优秀", "合格", "不合格"])),
        )
        for _ in range(draw(st.integers(0, 2)))
    )
    params = MatchParams(
        expertise_rule=draw(st.sampled_from(["primary", "any", "none"])),
        priority_required=draw(st.integers(1, 2)),
        use_days_budget=side_rules or draw(st.booleans()),
        team_rule=side_rules,
        previous=prev,
        max_changes=draw(st.sampled_from([None, 0, 1])) if side_rules else None,
        polish_time_s=0.05,
        time_limit_s=10.0,
    )
    return MatchInstance(tuple(specs), tuple(vils), params)


def exact_levels(i: MatchInstance) -> tuple[float, ...] | None:
    """Lexicographic optimum of all five levels (coverage, match, continuity, travel, balance), one MILP per level
    with the levels above held, over independently computed eligible pairs; HiGHS through scipy, without a start.

    Includes the total days budget, the team rule and max_changes; None when max_changes cannot be kept.
    """
    p = i.params
    cand = []
    for s in i.specialists:
        for v in i.villages:
            km, _ = distance_km(
                s, v, p.km_same_township, p.km_same_county, p.km_other_county
            )
            days = v.service_days + p.visits_per_season * float(
                np.ceil(round(km, 6) / p.km_per_travel_day)
            )
            if not _pair_rules(i, s, v, km, days, False, False, False, True):
                score = (
                    round(
                        sum(n.weight * s.expertise.get(n.industry, 0) for n in v.needs)
                        * 100
                    )
                    / 100
                )
                cand.append((s, v, score, days, round(km * 10)))
    if not cand:
        dropped = len({(q.specialist_id, q.village_id) for q in p.previous})
        return None if p.max_changes is not None and dropped > p.max_changes else (0.0, 0.0, 0.0, 0.0, 0.0)
    a_s = np.array(
        [[1.0 if c[0].id == s.id else 0.0 for c in cand] for s in i.specialists]
    )
    a_d = np.array(
        [[c[3] if c[0].id == s.id else 0.0 for c in cand] for s in i.specialists]
    )
    a_v = np.array(
        [[1.0 if c[1].id == v.id else 0.0 for c in cand] for v in i.villages]
    )
    req = [
        0 if v.excluded else (p.priority_required if v.priority else p.required)
        for v in i.villages
    ]
    cons = [
        LinearConstraint(a_s, 0, [s.capacity for s in i.specialists]),
        LinearConstraint(a_v, 0, req),
    ]
    if p.use_days_budget:
        cons.append(
            LinearConstraint(
                a_d,
                0,
                [
                    np.inf if s.days_available is None else s.days_available
                    for s in i.specialists
                ],
            )
        )
    teams = [s for s in i.specialists if p.team_rule and s.kind == "team" and s.members]
    if teams:  # one binary per team: the team is used (members may not be) or not (the team may not be)
        a_s, a_d = np.hstack([a_s, np.zeros((len(a_s), len(teams)))]), np.hstack([a_d, np.zeros((len(a_d), len(teams)))])
        a_v = np.hstack([a_v, np.zeros((len(a_v), len(teams)))])
        rows = []
        for k, t in enumerate(teams):
            on_t = [1.0 if c[0].id == t.id else 0.0 for c in cand] + [0.0] * len(teams)
            on_m = [1.0 if c[0].id in t.members else 0.0 for c in cand] + [0.0] * len(teams)
            on_t[len(cand) + k], on_m[len(cand) + k] = -float(t.capacity), float(len(cand))
            rows += [(on_t, -np.inf, 0.0), (on_m, -np.inf, float(len(cand)))]
        team_cons = [LinearConstraint(np.array([r[0] for r in rows]), [r[1] for r in rows], [r[2] for r in rows])]
        cons = [LinearConstraint(a_s, 0, [s.capacity for s in i.specialists]), LinearConstraint(a_v, 0, req)] + (
            [LinearConstraint(a_d, 0, [np.inf if s.days_available is None else s.days_available
                                       for s in i.specialists])] if p.use_days_budget else []) + team_cons
    extra = np.zeros(len(teams))
    w = np.concatenate([np.array([p.priority_weight if c[1].priority else 1 for c in cand], dtype=float), extra])
    if p.max_changes is not None:  # at most max_changes of last season's pairs dropped
        prev = {(q.specialist_id, q.village_id) for q in p.previous}
        kept = [1.0 if (c[0].id, c[1].id) in prev else 0.0 for c in cand] + [0.0] * len(teams)
        cons = cons + [LinearConstraint(np.array([kept]), len(prev) - p.max_changes, np.inf)]
    good = max(_rank(p.continuity_min_grade), 0)
    kept_ok = {(q.specialist_id, q.village_id) for q in p.previous if q.grade is None or _rank(q.grade) >= good}
    # balance: per specialist, load steps k = 1..capacity costing 2k - 1 (convex: the LP fills them in order)
    steps = [(r, 2 * k - 1) for r, s in enumerate(i.specialists) for k in range(1, s.capacity + 1)]
    n_x = len(cand) + len(teams)
    cons = [LinearConstraint(np.hstack([c.A, np.zeros((c.A.shape[0], len(steps)))]), c.lb, c.ub) for c in cons]
    load = np.zeros((len(i.specialists), n_x + len(steps)))
    row = {s.id: r for r, s in enumerate(i.specialists)}
    for k, c in enumerate(cand):
        load[row[c[0].id], k] = 1.0
    for j, (r, _) in enumerate(steps):
        load[r, n_x + j] = -1.0
    cons.append(LinearConstraint(load, 0, 0))
    pad = np.zeros(len(steps))
    levels = [  # per level: the cost to minimise, integral
        -np.concatenate([w, pad]),
        -np.concatenate([np.rint(np.array([c[2] for c in cand]) * 100), extra, pad]),
        -np.concatenate([np.array([1.0 if (c[0].id, c[1].id) in kept_ok else 0.0 for c in cand]), extra, pad]),
        np.concatenate([np.array([float(c[4]) for c in cand]), extra, pad]),
        np.concatenate([np.zeros(n_x), np.array([float(c) for _, c in steps])]),
    ]
    ints = np.concatenate([np.ones(n_x), np.zeros(len(steps))])
    box = Bounds(0, 1)
    values: list[float] = []
    for cost in levels:
        res = milp(cost, constraints=cons, integrality=ints, bounds=box)
        if res.fun is None:
            return None
        best = round(res.fun)
        values.append(best)
        cons = cons + [LinearConstraint(cost[None, :], -np.inf, best + 0.5)]  # held at its optimum
    cov, match, cont, travel, balance = values
    return -cov, -match / 100, -cont, travel / 10, balance


@settings(max_examples=50, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(instances(side_rules=False))
def test_levels_match_exact_milp_and_bounds_are_honest(i: MatchInstance) -> None:
    sol = solve(i)
    assert validate(i, sol) == []
    exact = exact_levels(i)
    assert exact is not None
    cov, match = exact[:2]
    c, m = sol.levels[0], sol.levels[1]
    assert c.value <= cov <= c.bound  # value feasible, bound valid
    if c.value == cov == c.bound:
        assert m.value <= match + 1e-6 <= m.bound + 2e-6
    if sol.status == "optimal":  # every level proven: the true lexicographic optimum
        assert _values(sol) == exact
    if not i.params.use_days_budget:  # pure network: always proven optimal
        assert sol.status == "optimal"


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(instances(side_rules=True))
def test_side_rules_always_valid(i: MatchInstance) -> None:
    sol = solve(i)
    assert validate(i, sol) == []
    if sol.status != "infeasible":
        assert sum(r.slots for r in sol.recruitment) == sum(
            u.missing for u in sol.uncovered
        )
    if sol.status != "infeasible":  # bounds stay honest under the side rules
        exact = exact_levels(i)
        assert exact is not None  # the answer keeps every rule, so they can be kept
        cov, match = exact[:2]
        c, m = sol.levels[0], sol.levels[1]
        assert c.value <= cov <= c.bound
        if c.value == cov == c.bound:
            assert m.value <= match + 1e-6 <= m.bound + 2e-6
        if sol.status == "optimal":  # every level proven (by the exact finish, often): the true optimum on each
            assert _values(sol) == exact


def _values(sol: MatchSolution) -> tuple[float, ...]:
    # The solution's five level values, rounded as exact_levels gives them.
    return tuple(round(lv.value, 2) for lv in sol.levels)
