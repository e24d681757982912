"""Lagrangian relaxation: exact knapsack, valid bounds at any prices, days-safe restrictions."""

from __future__ import annotations

import itertools
import time

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from ortools.graph.python import min_cost_flow
from solver_builders import inst, spec, vil

from solver import lagrange
from solver import restrict as restrictions
from solver.build import build_network, make_setup
from solver.candidates import build_pairs, prepare


@settings(max_examples=200, deadline=None)
@given(
    st.lists(st.tuples(st.integers(-5, 20), st.sampled_from([24.0, 29.0, 33.0, 38.0])), max_size=7),
    st.integers(0, 4),
    st.sampled_from([50.0, 60.0, 70.0, 100.0, 150.0]),
)
def test_knapsack_equals_brute_force(items: list[tuple[int, float]], k: int, budget: float) -> None:
    q, d = [x[0] for x in items], [x[1] for x in items]
    best = max(
        (sum(q[i] for i in c) for n in range(k + 1) for c in itertools.combinations(range(len(q)), n)
         if sum(d[i] for i in c) <= budget),
        default=0,
    )
    value, chosen = lagrange.knapsack(q, d, k, budget)
    assert value == best
    assert len(chosen) <= k and sum(d[i] for i in chosen) <= budget and sum(q[i] for i in chosen) == value


@st.composite
def relaxations(draw: st.DrawFn) -> lagrange.Relaxation:
    n_s, n_v = draw(st.integers(1, 3)), draw(st.integers(1, 4))
    arcs = sorted({(s, v) for s in range(n_s) for v in range(n_v) if draw(st.booleans())})
    s = np.array([a[0] for a in arcs], dtype=np.int64)
    v = np.array([a[1] for a in arcs], dtype=np.int64)
    team = n_s == 3 and draw(st.booleans())
    return lagrange.Relaxation(
        pairs=np.arange(len(arcs)),
        s=s,
        v=v,
        gain=np.array([draw(st.integers(-3, 30)) for _ in arcs], dtype=np.int64),
        days=np.array([draw(st.sampled_from([24.0, 30.0, 38.0])) for _ in arcs]),
        cap=np.array([draw(st.integers(0, 3)) for _ in range(n_s)], dtype=np.int64),
        left=np.array([draw(st.sampled_from([np.inf, 50.0, 65.0, 100.0])) for _ in range(n_s)]),
        req=np.array([draw(st.integers(0, 2)) for _ in range(n_v)], dtype=np.int64),
        groups=[(0, [1, 2])] if team else [],
    )


def brute_force(r: lagrange.Relaxation) -> int:
    # Best total gain over every assignment that keeps capacity, days, village demand and the team rule.
    options = []
    for s in range(len(r.cap)):
        mine = np.flatnonzero(r.s == s)
        options.append([c for n in range(int(r.cap[s]) + 1) for c in itertools.combinations(mine.tolist(), n)
                        if r.days[list(c)].sum() <= r.left[s]])
    best = 0
    for pick in itertools.product(*options):
        used = [a for c in pick for a in c]
        if np.any(np.bincount(r.v[used], minlength=len(r.req)) > r.req):
            continue
        if any(pick[t] and any(pick[m] for m in ms) for t, ms in r.groups):
            continue
        best = max(best, int(r.gain[used].sum()))
    return best


@settings(max_examples=150, deadline=None)
@given(relaxations(), st.lists(st.integers(0, 40), min_size=4, max_size=4))
def test_bound_holds_at_any_prices(r: lagrange.Relaxation, prices: list[int]) -> None:
    answer = lagrange.evaluate(r, np.array(prices[: len(r.req)], dtype=np.int64))
    assert answer.value >= brute_force(r)


@settings(max_examples=150, deadline=None)
@given(relaxations(), st.lists(st.integers(0, 40), min_size=8, max_size=8), st.lists(st.booleans(), min_size=12))
def test_incremental_answer_equals_full_answer(r: lagrange.Relaxation, prices: list[int], prefer: list[bool]) -> None:
    # Re-solving only the specialists next to re-priced villages gives the same answer as re-solving all.
    n_v, pref = len(r.req), np.resize(np.array(prefer), len(r.gain))
    before, after = np.array(prices[:n_v], dtype=np.int64), np.array(prices[4:4 + n_v], dtype=np.int64)
    full = lagrange.evaluate(r, after, pref)
    step = lagrange.evaluate(r, after, pref, since=(before, lagrange.evaluate(r, before, pref)))
    assert step.value == full.value and step.team_side == full.team_side
    assert (step.chosen == full.chosen).all() and (step.spec_value == full.spec_value).all()


def test_bound_is_exact_when_prices_are_zero_and_demand_is_loose() -> None:
    # One specialist, two villages each wanting one: the knapsack alone decides (38 + 30 > 60 days).
    r = lagrange.Relaxation(
        pairs=np.arange(2), s=np.array([0, 0]), v=np.array([0, 1]), gain=np.array([10, 7]),
        days=np.array([38.0, 30.0]), cap=np.array([2]), left=np.array([60.0]), req=np.array([1, 1]), groups=[],
    )
    answer = lagrange.evaluate(r, np.zeros(2, dtype=np.int64))
    assert answer.value == 10 == brute_force(r)
    assert answer.chosen.tolist() == [True, False]


def test_team_side_goes_to_the_side_worth_more() -> None:
    # Team 0 (gain 9 at one village) against members 1 and 2 (5 + 6 at two villages).
    r = lagrange.Relaxation(
        pairs=np.arange(3), s=np.array([0, 1, 2]), v=np.array([0, 1, 2]), gain=np.array([9, 5, 6]),
        days=np.full(3, 30.0), cap=np.array([1, 1, 1]), left=np.full(3, np.inf), req=np.array([1, 1, 1]),
        groups=[(0, [1, 2])],
    )
    answer = lagrange.evaluate(r, np.zeros(3, dtype=np.int64))
    assert answer.value == 11 and answer.team_side == {0: False}
    assert answer.chosen.tolist() == [False, True, True]


def test_level_bounds_follow_lexicographic_scales() -> None:
    # cost = 100 * level0 + level1 with level1 in [-10, 10]; combined bound -1234, level 0 achieved -12.
    assert lagrange.level_bounds(-1234, [100, 1], [10, 10], [-12, 0]) == [-12, -34]


def test_level_bounds_round_up_to_each_levels_grain() -> None:
    # Level 1's costs are multiples of 5 (say half points in tenths): no answer can reach -34, so -30 bounds it.
    assert lagrange.level_bounds(-1234, [100, 1], [10, 10], [-12, 0], [1, 5]) == [-12, -30]
    assert lagrange.level_bounds(-1234, [100, 1], [10, 10], [-12, 0], [1, 0]) == [-12, -34]  # all-zero level
    assert lagrange.grain(np.array([0, -150, 250, 0, 50])) == 50
    assert lagrange.grain(np.zeros(3, dtype=np.int64)) == 0


def test_the_last_levels_bound_never_falls_below_what_any_flow_can_cost() -> None:
    # Level 1 (say continuity) takes all the slack, -34; but no flow costs less than -20 on it (20 arcs at -1).
    assert lagrange.level_bounds(-1234, [100, 1], [10, 10], [-12, 0], [1, 1], [-5000, -20]) == [-12, -20]
    assert lagrange.level_bounds(-1234, [100, 1], [10, 10], [-12, 0], [1, 1], [-5000, -50]) == [-12, -34]


@settings(max_examples=80, deadline=None)
@given(st.lists(st.sampled_from([0.0, 30.0, 60.0, 90.0, 120.0]), min_size=1, max_size=8),
       st.integers(1, 4), st.sampled_from([60.0, 75.0, 100.0, 140.0]), st.data())
def test_guided_chain_keeps_any_network_pick_within_budget(east: list[float], cap: int, days: float,
                                                          data: st.DataObject) -> None:
    # The most days any flow of the restricted network can give the specialist stay within its budget.
    vils = [vil(k, e, service_days=float(data.draw(st.sampled_from([20, 25, 30])))) for k, e in enumerate(east)]
    i = inst([spec("S1", 0.0, capacity=cap, days_available=days, max_distance_km=200.0)], vils)
    prep = prepare(i)
    build_pairs(prep)
    setup = make_setup(prep, {})
    r = restrictions.empty(setup)
    pattern = np.array(data.draw(st.lists(st.sampled_from(range(len(prep.ps))), max_size=cap, unique=True)), dtype=np.int64)
    if prep.days[pattern].sum() > days:  # the Lagrangian answer always fits
        pattern = pattern[:0]
    restrictions.guided_chain(setup, r, 0, pattern)
    tau = r.tiers[0]
    assert sum(tau) <= days + 1e-9 and list(tau) == sorted(tau, reverse=True)
    assert all(d <= t + 1e-9 for d, t in zip(sorted(prep.days[pattern], reverse=True), tau))
    current = make_setup(prep, {}, banned=r.banned, cap_limit=r.cap_limit, tiers=r.tiers)
    net = build_network(current)
    assert set(pattern.tolist()) <= set(net.pair_index.tolist())
    cost = np.zeros(len(net.cap), dtype=np.int64)
    cost[net.pair_arcs] = -np.rint(prep.days[net.pair_index] * 100).astype(np.int64)
    mcf = min_cost_flow.SimpleMinCostFlow()
    mcf.add_arcs_with_capacity_and_unit_cost(net.tail.astype(np.int32), net.head.astype(np.int32), net.cap, cost)
    mcf.set_nodes_supplies(np.arange(net.n_nodes, dtype=np.int32), net.supply)
    assert mcf.solve() == mcf.OPTIMAL
    assert -mcf.optimal_cost() <= days * 100 + 1e-6


def test_team_conflict_is_proven_optimal_by_the_lagrangian_bound() -> None:
    # Team T can reach only V1, its members only V2 and V3 (radius); X reaches all at score 1.
    # The network relaxation pairs T and a member together (match 6); the best legal answer is the
    # members' side plus X (match 5), and the Lagrangian bound proves it.
    from solver import solve

    team = spec("T", 0.0, {"A01": 3}, capacity=2, kind="team", members=("M1", "M2"), max_distance_km=5.0)
    m1 = spec("M1", 50.0, {"A01": 2}, capacity=1, max_distance_km=5.0)
    m2 = spec("M2", 100.0, {"A01": 2}, capacity=1, max_distance_km=5.0)
    x = spec("X", 50.0, {"A01": 1}, capacity=1, max_distance_km=500.0)
    i = inst([team, m1, m2, x], [vil(1, 0.0), vil(2, 50.0), vil(3, 100.0)], use_days_budget=False)
    sol = solve(i)
    by_s = {a.specialist_id: a.village_id for a in sol.assignments}
    assert set(by_s) == {"M1", "M2", "X"}
    assert [lv.value for lv in sol.levels[:2]] == [3, 5]
    assert sol.levels[1].bound == 5 and all(lv.proven and lv.gap == 0 for lv in sol.levels[:4])
    # the network's balance bound came from the unreachable relaxed face; the exact finish proves balance
    assert sol.levels[4].proven and sol.levels[4].gap == 0 and sol.status == "optimal"
    assert "balance proven optimal by exact MILPs" in sol.method


def test_refined_prices_close_the_gap_on_a_contested_village() -> None:
    # Two specialists want the one village (gains 10 and 8): at zero prices the bound counts both (18).
    from solver import dual

    r = lagrange.Relaxation(
        pairs=np.arange(2), s=np.array([0, 1]), v=np.array([0, 0]), gain=np.array([10, 8]),
        days=np.full(2, 30.0), cap=np.array([1, 1]), left=np.full(2, np.inf), req=np.array([1]), groups=[],
    )
    zero = np.zeros(1, dtype=np.int64)
    start = lagrange.evaluate(r, zero)
    pricer = dual.Pricer(r, zero, start, np.zeros(2, dtype=bool), 1.0)
    rounds = pricer.run(50, time.perf_counter() + 5)
    assert start.value == 18 and pricer.answer.value == 10 == brute_force(r) and rounds >= 1
    assert pricer.answer.value == lagrange.evaluate(r, pricer.prices).value


@settings(max_examples=60, deadline=None)
@given(relaxations(), st.lists(st.integers(0, 40), min_size=4, max_size=4))
def test_refined_bound_never_rises_and_stays_valid(r: lagrange.Relaxation, prices: list[int]) -> None:
    from solver import dual

    p = np.array(prices[: len(r.req)], dtype=np.int64)
    start = lagrange.evaluate(r, p)
    pricer = dual.Pricer(r, p, start, np.zeros(len(r.gain), dtype=bool), 1.0)
    pricer.run(50, time.perf_counter() + 2)
    answer, plan = pricer.answer, pricer.plan
    assert brute_force(r) <= answer.value <= start.value
    for s in range(len(r.cap)):  # every specialist's plan keeps its capacity and days
        mine = np.flatnonzero(plan.chosen & (r.s == s))
        assert len(mine) <= r.cap[s] and r.days[mine].sum() <= r.left[s] + 1e-9
    for t, ms in r.groups:  # and the plan keeps each team apart from its members
        assert not (plan.chosen[r.s == t].any() and plan.chosen[np.isin(r.s, ms)].any())


def test_plan_gives_days_bound_specialists_the_villages_the_master_lp_shares_out() -> None:
    # A and B each have days for one village (30 of 40); both like X best (10), A nearly as much Y (9), B not (2).
    # At zero prices both answers take X; the best plan, A to Y and B to X (19), is the master LP's.
    from solver import dual

    r = lagrange.Relaxation(
        pairs=np.arange(4), s=np.array([0, 0, 1, 1]), v=np.array([0, 1, 0, 1]), gain=np.array([10, 9, 10, 2]),
        days=np.full(4, 30.0), cap=np.array([2, 2]), left=np.full(2, 40.0), req=np.array([1, 1]), groups=[],
    )
    zero = np.zeros(2, dtype=np.int64)
    start = lagrange.evaluate(r, zero)
    assert start.chosen.tolist() == [True, False, True, False] and start.value == 20
    pricer = dual.Pricer(r, zero, start, np.zeros(4, dtype=bool), 1.0)
    pricer.run(50, time.perf_counter() + 5)
    answer, plan = pricer.answer, pricer.plan
    assert plan.chosen.tolist() == [False, True, True, False]
    assert answer.value == 19 == brute_force(r)


def random_relaxation(seed: int, n_s: int = 40, n_v: int = 25) -> lagrange.Relaxation:
    # A seeded relaxation big enough that column generation takes several rounds.
    rng = np.random.default_rng(seed)
    arcs = [(s, v) for s in range(n_s) for v in range(n_v) if rng.random() < 0.3]
    return lagrange.Relaxation(
        pairs=np.arange(len(arcs)), s=np.array([a[0] for a in arcs]), v=np.array([a[1] for a in arcs]),
        gain=rng.integers(0, 30, len(arcs)), days=rng.choice([24.0, 30.0, 38.0], len(arcs)),
        cap=rng.integers(1, 4, n_s), left=rng.choice([50.0, 65.0, 100.0, np.inf], n_s),
        req=np.ones(n_v, dtype=np.int64), groups=[(0, [1, 2])],
    )


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_a_refinement_in_two_calls_equals_one_call(seed: int) -> None:
    # The pricer keeps its master between calls: 3 + 3 rounds give the prices, bound and plan of 6 rounds.
    from solver import dual

    r = random_relaxation(seed)
    p, prefer = np.zeros(len(r.req), dtype=np.int64), np.zeros(len(r.gain), dtype=bool)
    start = lagrange.evaluate(r, p)
    once, twice = dual.Pricer(r, p, start, prefer, 1.0), dual.Pricer(r, p, start, prefer, 1.0)
    far = time.perf_counter() + 30
    assert once.run(6, far) == twice.run(3, far) + twice.run(3, far) == 6
    assert once.answer.value < start.value
    assert (once.prices == twice.prices).all() and once.answer.value == twice.answer.value
    assert (once.plan.chosen == twice.plan.chosen).all()


@pytest.mark.parametrize("seed", [1, 2])
def test_a_first_order_master_reaches_the_simplex_bound(seed: int, monkeypatch: pytest.MonkeyPatch) -> None:
    # Beyond SIMPLEX_UP_TO villages (here 10) the master LP is solved by PDLP, whose duals are approximate;
    # tightening its tolerance when a round gains nothing, it ends at the exact simplex master's bound.
    from solver import dual

    r = random_relaxation(seed, n_s=60, n_v=40)
    p, prefer = np.zeros(len(r.req), dtype=np.int64), np.zeros(len(r.gain), dtype=bool)
    start = lagrange.evaluate(r, p)
    far = time.perf_counter() + 30
    exact = dual.Pricer(r, p, start, prefer, 1.0)
    exact.run(80, far)
    monkeypatch.setattr(dual, "SIMPLEX_UP_TO", 10)
    first_order = dual.Pricer(r, p, start, prefer, 1.0, threads=2)
    assert first_order.first_order and not exact.first_order
    first_order.run(80, far)
    assert exact.done and first_order.done and first_order.master is not None and first_order.master.threads == 2
    assert first_order.answer.value == exact.answer.value < start.value


def test_only_a_first_order_master_tightens_its_tolerance() -> None:
    from solver import dual

    r = random_relaxation(1)
    p = np.zeros(len(r.req), dtype=np.int64)
    simplex = dual._Master(r, np.ones(len(r.gain), dtype=bool), [], p, 1.0)
    first_order = dual._Master(r, np.ones(len(r.gain), dtype=bool), [], p, 1.0, threads=1)
    assert not simplex.tighten()
    steps = 0
    while first_order.tighten():
        steps += 1
    assert steps == 2 and first_order.tol == pytest.approx(dual.FIRST_ORDER_TOL[1] * 3)


def test_a_refinement_cut_short_is_guided_by_the_plan_of_its_last_checkpoint() -> None:
    # Stopped after 5 of 9 rounds, the guide takes the plan kept after round 4 (dual.PLAN_EVERY = 2): the
    # very plan a refinement of exactly 4 rounds ends with, so a slow machine still gets a reproducible plan.
    from solver import dual
    from solver.side import Guide

    r = random_relaxation(3)
    p, prefer = np.zeros(len(r.req), dtype=np.int64), np.zeros(len(r.gain), dtype=bool)
    start = lagrange.evaluate(r, p)
    far = time.perf_counter() + 30
    four = dual.Pricer(r, p, start, prefer, 1.0)
    assert four.run(4, far) == 4 and not four.done
    guide = Guide(r, [0], [1], [1], [1], [-(1 << 40)], 0, start, False, 0, dual.Pricer(r, p, start, prefer, 1.0),
                  lambda value: None)
    calls = iter(range(100))
    guide.refine(far, 9, should_stop=lambda: next(calls) >= 6)  # one check before the rounds
    assert guide.rounds == 5 and not guide.pricer.done and guide.planned and guide.plan_round == 4
    assert (guide.plan.chosen == four.plan.chosen).all() and guide.plan.team_side == four.plan.team_side
