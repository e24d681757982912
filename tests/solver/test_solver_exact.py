"""The exact finish: small instances get every level proven by MILPs, within the time limit, stoppable."""

import time

import numpy as np
import pytest
import scipy.sparse as sp

from solver import milp_process, solve
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
    assert milp_process.solve_milp(cost, a, lo, hi, ints, time.perf_counter() + 0.3) is None
    assert time.perf_counter() - t < 2.0
