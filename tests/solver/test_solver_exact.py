"""The exact finish: small instances get every level proven by MILPs, within the time limit, stoppable."""

import subprocess
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
import scipy.sparse as sp
from hypothesis import given, settings
from hypothesis import strategies as st

from solver import exact, milp_process, solve
from solver.synthetic import generate
from solver.validate import validate


def test_levels_the_network_leaves_unproven_are_proven_exactly():
    # Side rules bind here (the days budget costs coverage); before the exact finish travel and balance were
    # reported without a bound and the run was only "feasible".
    i = generate(200, 70, seed=4)
    sol = solve(i)
    assert validate(i, sol) == []
    assert sol.status == "optimal" and all(lv.proven and lv.gap == 0 for lv in sol.levels)
    assert "proven optimal by exact MILPs" in sol.method


def test_the_exact_finish_can_be_switched_off_for_the_quick_answer():
    i = generate(200, 70, seed=4)
    quick = solve(replace(i, params=replace(i.params, exact_finish=False)))
    assert validate(i, quick) == [] and quick.status == "feasible" and "exact MILPs" not in quick.method
    assert [lv.value for lv in quick.levels[:2]] == [lv.value for lv in solve(i).levels[:2]]


def test_a_milp_in_a_child_process_gives_the_same_answer(monkeypatch: pytest.MonkeyPatch):
    i = generate(120, 45, seed=4)
    here = solve(i)
    assert "proven optimal by exact MILPs" in here.method
    monkeypatch.setattr(milp_process, "IN_PROCESS_UP_TO", 0)
    there = solve(i)
    assert [a.to_dict() for a in there.assignments] == [a.to_dict() for a in here.assignments]
    assert [lv.value for lv in there.levels] == [lv.value for lv in here.levels] and there.status == here.status


def _hard_model(n: int = 3000) -> tuple[np.ndarray, sp.csr_matrix, np.ndarray, np.ndarray, np.ndarray]:
    # A knapsack-like MILP big enough to run in a child process.
    rng = np.random.default_rng(0)
    weights = rng.integers(10, 1000, n).astype(float)
    a = sp.csr_matrix(np.vstack([weights, rng.integers(10, 1000, n)]))
    return -rng.integers(10, 1000, n).astype(float), a, np.full(2, -np.inf), np.full(2, weights.sum() / 3), np.ones(n)


def test_a_stop_or_the_deadline_ends_a_milp_at_once():
    cost, a, lo, hi, ints = _hard_model()
    t = time.perf_counter()
    assert milp_process.solve_milp(cost, a, lo, hi, ints, time.perf_counter() + 60, lambda: True) is None
    found = milp_process.solve_milp(cost, a, lo, hi, ints, time.perf_counter() + 0.3)
    assert found is None or not found.optimal  # killed at the deadline, or its best answer so far, unproven
    assert time.perf_counter() - t < 2.0


def test_a_milp_out_of_time_hands_over_its_best_answer_unproven():
    cost, a, lo, hi, ints = _hard_model()
    start = np.zeros(len(cost))
    found = milp_process.solve_milp(cost, a, lo, hi, ints, time.perf_counter() + 4, start=start)
    assert found is not None and not found.optimal
    assert (a @ found.x <= hi + 1e-6).all() and set(np.unique(found.x)) <= {0.0, 1.0}
    assert cost @ found.x < cost @ start  # better than where it started


def test_a_small_but_hard_milp_still_stops_at_once():
    # 2,000 variables or fewer ran in this process, where a stop could not reach it (a knapsack ran 26 s).
    cost, a, lo, hi, ints = _hard_model(1500)
    t = time.perf_counter()
    assert milp_process.solve_milp(cost, a, lo, hi, ints, time.perf_counter() + 60, lambda: True) is None
    assert time.perf_counter() - t < milp_process.IN_PROCESS_S + 1.5


def test_no_child_process_leaves_the_answer_unproven(monkeypatch: pytest.MonkeyPatch):
    def refused(*args: object, **kwargs: object) -> None:
        raise BlockingIOError(11, "Resource temporarily unavailable")

    monkeypatch.setattr(milp_process, "IN_PROCESS_UP_TO", 0)
    monkeypatch.setattr(milp_process.subprocess, "Popen", refused)
    i = generate(120, 45, seed=4)
    sol = solve(i)
    assert validate(i, sol) == [] and sol.status == "feasible"  # the heuristic answer, travel unproven


def test_the_child_ends_with_its_parent(tmp_path):
    # A solving process killed outright (a pool terminated) used to leave its MILP child running, and its files.
    import subprocess
    import sys

    script = tmp_path / "parent.py"
    script.write_text(
        "import time, numpy as np, scipy.sparse as sp, sys\n"
        f"sys.path.insert(0, {str(Path(__file__).parent)!r})\n"
        "from test_solver_exact import _hard_model\n"
        "from solver import milp_process\n"
        "c, a, lo, hi, ints = _hard_model(20000)\n"
        "milp_process.solve_milp(c, a, lo, hi, ints, time.perf_counter() + 120)\n")
    parent = subprocess.Popen([sys.executable, str(script)])
    try:
        deadline = time.monotonic() + 30
        child = None
        while child is None and time.monotonic() < deadline:
            found = subprocess.run(["pgrep", "-P", str(parent.pid), "-f", "solver.milp_process"], capture_output=True,
                                   text=True, check=False).stdout.split()
            child = int(found[0]) if found else None
            time.sleep(0.1)
        assert child is not None, "no MILP child started"
        folder = next(Path(tempfile.gettempdir()).glob("jiedui-milp-*"))
    finally:
        parent.kill()
        parent.wait()
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline and Path(f"/proc/{child}").exists():
        time.sleep(0.1)
    assert not Path(f"/proc/{child}").exists() or "Z" in Path(f"/proc/{child}/stat").read_text().split()[2]
    cost, a, lo, hi, ints = _hard_model(3000)
    milp_process.solve_milp(cost, a, lo, hi, ints, time.perf_counter() + 0.2)  # the next MILP sweeps the folder
    assert not folder.exists()


@settings(max_examples=200, deadline=None)
@given(st.lists(st.lists(st.integers(-20, 20), min_size=5, max_size=5), min_size=2, max_size=3),
       st.lists(st.lists(st.integers(0, 1), min_size=5, max_size=5), min_size=1, max_size=12))
def test_joined_levels_order_answers_lexicographically(levels: list[list[int]], points: list[list[int]]) -> None:
    # One merged objective ranks any 0/1 points exactly as the levels do, one after the other.
    costs = [np.array(c, dtype=np.int64) for c in levels]
    merged = exact._merged(costs)
    xs = [np.array(p) for p in points]
    lex = [tuple(int(c @ x) for c in costs) for x in xs]
    for a in range(len(xs)):
        for b in range(len(xs)):
            assert (int(merged @ xs[a]) < int(merged @ xs[b])) == (lex[a] < lex[b])


@settings(max_examples=200, deadline=None)
@given(st.lists(st.lists(st.integers(-20, 20), min_size=5, max_size=5), min_size=1, max_size=3),
       st.lists(st.lists(st.integers(0, 1), min_size=5, max_size=5), min_size=1, max_size=12),
       st.integers(0, 40))
def test_a_bound_on_joined_levels_bounds_the_first(levels: list[list[int]], points: list[list[int]], short: int) -> None:
    # Any bound on the merged cost of a set of 0/1 points (here their minimum, less `short`) bounds the first level's
    # cost at each of them; at the minimum itself it is the first level's own value there when nothing is short
    # and the lower levels are at their largest.
    costs = [np.array(c, dtype=np.int64) for c in levels]
    merged = exact._merged(costs)
    xs = [np.array(p) for p in points]
    lowest = min(int(merged @ x) for x in xs)
    b = exact.first_bound(costs, lowest - short - 0.3)
    assert all(b <= int(costs[0] @ x) for x in xs)
    best = min(xs, key=lambda x: int(merged @ x))
    if short == 0 and all(int(c @ best) == int(np.maximum(c, 0).sum()) for c in costs[1:]):
        assert b == int(costs[0] @ best)


def test_a_milp_cut_by_the_time_limit_still_bounds_its_first_level(monkeypatch: pytest.MonkeyPatch):
    # The second full MILP (travel with balance) is made to look cut by the time limit, with HiGHS's bound a tenth
    # below its answer: travel gets that bound (at most the true optimum, below the answer), so the run reports a gap,
    # and balance stays unproven.
    i = generate(200, 70, seed=4)
    best = solve(i)
    real, full = exact.solve_milp, []

    def cut(cost: np.ndarray, a: sp.csr_matrix, *args: object, **kwargs: object) -> milp_process.Found | None:
        found = real(cost, a, *args, **kwargs)  # type: ignore[arg-type]
        full.extend([a.shape[1]] if not full or a.shape[1] == full[0] else [])  # a crossover has fewer columns
        if found is None or not found.optimal or len(full) < 2 or a.shape[1] != full[0]:
            return found
        value = float(cost @ found.x)
        return milp_process.Found(found.x, False, value - abs(value) / 10)

    monkeypatch.setattr(exact, "solve_milp", cut)
    sol = solve(i)
    assert validate(i, sol) == [] and sol.status == "feasible" and "travel bounded by its exact MILP" in sol.method
    names = [lv.name for lv in sol.levels]
    travel, opt = sol.levels[names.index("travel")], best.levels[names.index("travel")]
    assert all(lv.proven and lv.gap == 0 for lv in sol.levels[:names.index("travel")])
    assert travel.proven and travel.gap is not None and travel.gap > 0.05 and sol.gap == travel.gap
    assert travel.bound is not None and travel.bound <= opt.value <= travel.value
    assert not sol.levels[names.index("balance")].proven


def test_match_and_continuity_join_and_balance_joins_travel_as_its_tie_breaker() -> None:
    small, wide = np.array([-50, -100, 0]), np.array([-1, 0, -1])
    assert exact._groups([small, wide], 0) == [[0, 1]]
    travel, steps = np.arange(6000) % 997 + 1, np.tile([1, 3, 5], 2000)  # km tenths; balance steps 2k - 1
    assert exact._groups([travel, steps], 0) == [[0], [1]]  # too wide for an ordinary join
    assert exact._groups([travel, steps], 0, tie_breakers={1}) == [[0, 1]]
    assert exact._groups([small, wide, np.array([7, 1, 2])], 1) == [[1, 2]]
    huge = np.array([1 << 30, (1 << 30) + 1, 3])
    assert exact._groups([huge, steps[:3]], 0, tie_breakers={1}) == [[0], [1]]  # past TIE_BREAK_UP_TO


@pytest.mark.parametrize("seed", [4, 6])
def test_balance_as_travels_tie_breaker_reaches_the_optimum_of_two_milps_in_turn(seed: int,
                                                                                 monkeypatch: pytest.MonkeyPatch):
    # One MILP with travel and balance joined proves the same travel and balance as a travel MILP and then a
    # balance MILP with travel held at its optimum.
    i = generate(200, 70, seed=seed)
    joined = solve(i)
    monkeypatch.setattr(exact, "TIE_BREAK_UP_TO", 0)
    apart = solve(i)
    assert validate(i, joined) == [] and joined.status == apart.status == "optimal"
    assert [lv.value for lv in joined.levels] == [lv.value for lv in apart.levels]


def test_a_crossover_takes_the_best_of_two_answers_pairs():
    # Four pairs, at most two taken: the first answer takes 0 and 1, the better one 2; the crossover may only use
    # their pairs (0, 1, 2), so it takes 1 and 2 (-3), not the better pair 3 that neither answer holds.
    model = exact._Model(free=np.arange(4), n_vars=4, a=sp.csr_matrix(np.ones((1, 4))), lo=np.array([-np.inf]),
                         hi=np.array([2.0]), steps=np.zeros(0, np.int64), step_of=np.zeros(0, np.int64), teams=[])
    cost = np.array([3, -1, -2, -5])
    first, better = np.array([1.0, 1, 0, 0]), np.array([0.0, 0, 1, 0])
    out = exact._crossover(model, cost, [model.a], [model.lo], [model.hi], first, better, time.perf_counter() + 30, None)
    assert out.tolist() == [0, 1, 1, 0]


def test_a_crossover_takes_all_the_time_left_when_a_full_milp_would_not_fit_it():
    # The last full MILP took 12 s: with 8 s left the next one would rarely finish, so the crossover may take them all;
    # with 40 s left it takes a quarter and leaves the rest to the proof.
    assert exact.crossover_share(8.0, 12.0) == 1.0
    assert exact.crossover_share(40.0, 12.0) == exact.CROSSOVER_SHARE == 0.25
    assert exact.crossover_share(8.0, 0.0) == 0.25  # no full MILP yet


def test_a_better_answer_from_a_cut_milp_keeps_the_bound_of_the_level_it_improved():
    # Coverage proven (held = 1); match's MILP was cut with a better answer (done = 1): match's bound still holds (no
    # level above it moved), the levels below it lose theirs (they held for the old answer's match).
    values, bounds, proven = [-10, -95, 4, 700], [-10, -100, 2, 650], [True, True, True, True]
    assert exact.after_finish(values, bounds, proven, 1, 1, True) == ([-10, -100, 4, 700], [True, True, False, False])
    # Match and continuity proven with a changed answer: their values are their bounds, travel's bound is void.
    assert exact.after_finish(values, bounds, proven, 1, 3, True) == ([-10, -95, 4, 700], [True, True, True, False])
    # The answer unchanged: the bounds below the proven levels stand.
    assert exact.after_finish(values, bounds, proven, 1, 2, False) == ([-10, -95, 2, 650], [True, True, True, True])


def test_a_milp_in_this_process_prints_nothing():
    # HiGHS's constructor prints a banner before any option can stop it; the service's log and the CLI's output
    # must not get it (a fresh process: the banner comes once per process).
    code = ("import numpy as np, scipy.sparse as sp\n"
            "from solver import milp_process\n"
            "x = milp_process._solve(-np.ones(3), sp.csr_matrix(np.ones((1, 3))), np.array([-np.inf]), np.array([2.0]),"
            " np.ones(3), 5.0, np.zeros(0))\n"
            "print('sum', int(x.x.sum()))\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out == "sum 2\n"


def test_progress_names_each_level_the_exact_finish_proves():
    i = generate(200, 70, seed=4)
    heard: list[tuple[str, str | None, float | None, float | None]] = []
    sol = solve(i, progress=lambda p: heard.append((p.phase, p.level, p.value, p.bound)))
    proven = {level: (value, bound) for phase, level, value, bound in heard if phase == "exact" and level}
    assert sol.status == "optimal" and {"travel", "balance"} <= set(proven)
    for lv in sol.levels:
        if lv.name in proven:
            assert proven[lv.name] == (lv.value, lv.value)


def test_a_reseat_keeps_days_bound_specialists_and_teams_and_re_solves_the_rest_exactly():
    # From the quick answer (it keeps the rules; the side rules bind here) the re-seat keeps every days-bound
    # specialist's and team's pairs, re-solves the others exactly as a network, and is lexicographically at least
    # as good.
    from solver import restrict
    from solver.build import make_setup
    from solver.candidates import build_pairs, prepare
    from solver.levels import level_spec, pair_level_values
    from solver.repair import find_violations
    from solver.side import reseated

    i = generate(200, 70, seed=4)
    quick = solve(replace(i, params=replace(i.params, exact_finish=False)))
    prep = prepare(i)
    build_pairs(prep)
    members = {s.id: s.members for s in i.specialists if s.kind == "team" and s.members}
    setup = make_setup(prep, members)
    spec = level_spec(i.params.levels)
    index = {(prep.spec_ids[s], prep.vil_ids[v]): k for k, (s, v) in enumerate(zip(prep.ps, prep.pv))}
    assigned = np.sort(np.array([index[(a.specialist_id, a.village_id)] for a in quick.assignments]))
    again = reseated(setup, members, spec, ["+".join(n) for n in spec], assigned)
    assert again is not None and not find_violations(setup, again).any()
    held = np.zeros(len(prep.spec_ids), dtype=bool)
    held[restrict.critical(setup, restrict.empty(setup))] = True
    for t, ms in setup.teams.items():
        held[[t, *ms]] = True
    assert held.any() and (~held).any()
    assert set(assigned[held[prep.ps[assigned]]].tolist()) == set(again[held[prep.ps[again]]].tolist())
    before, after = pair_level_values(prep, assigned, spec), pair_level_values(prep, again, spec)
    assert after <= before  # every level as an integer to minimise: lexicographically no worse


def test_a_start_that_presolve_carries_over_wrongly_gives_no_false_proof():
    # The joined travel+balance MILP of a county of the 六安 demo (金寨县), started from the quick answer. HiGHS 1.16's
    # presolve carries that start into its reduced model as a better point than it is, takes it as the incumbent,
    # prunes the optimum and used to hand the start back as "optimal" (travel 11428.2 km; the optimum is 11383.6).
    # The answer must be the optimum HiGHS finds with presolve off, where the trap is not.
    import highspy

    with np.load(Path(__file__).parent / "data" / "highs_start_trap.npz") as d:
        cost, lo, hi, ints, start = d["cost"], d["lo"], d["hi"], d["integ"], d["start"]
        a = sp.csr_matrix((d["data"], d["indices"], d["indptr"]), shape=tuple(d["shape"]))
    h = highspy.Highs()
    for option, value in (("output_flag", False), ("presolve", "off"), ("mip_rel_gap", 0.0), ("mip_abs_gap", 0.0)):
        h.setOptionValue(option, value)
    h.passModel(milp_process.model(cost, a, lo, hi, ints))
    h.run()
    optimum = cost @ np.rint(np.asarray(h.getSolution().col_value))
    assert h.getModelStatus() == highspy.HighsModelStatus.kOptimal and cost @ start > optimum
    found = milp_process._solve(cost, a, lo, hi, ints, 60.0, start)
    assert found is not None and found.optimal and cost @ found.x == optimum


def test_a_proof_whose_bound_misses_its_answer_is_no_proof(monkeypatch: pytest.MonkeyPatch):
    # Whatever HiGHS says, "optimal" needs its bound to reach the value of the answer it returns.
    cost, a, lo, hi, ints = -np.ones(3), sp.csr_matrix(np.ones((1, 3))), np.array([-np.inf]), np.array([2.0]), np.ones(3)
    real = milp_process._quiet_highs

    def lying() -> object:
        h = real()
        info = h.getInfo

        class Info:
            def __getattr__(self, name: str) -> object:
                return -3.0 if name == "mip_dual_bound" else getattr(info(), name)

        h.getInfo = Info
        return h

    monkeypatch.setattr(milp_process, "_quiet_highs", lying)
    found = milp_process._solve(cost, a, lo, hi, ints, 5.0, np.zeros(3))
    assert found is not None and not found.optimal and cost @ found.x == -2

