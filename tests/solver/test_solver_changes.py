"""max_changes at its limit: the fewest changes possible is found, one fewer is reported infeasible (no crash)."""

from __future__ import annotations

from solver import solve
from solver.model import MatchParams
from solver.synthetic import generate
from solver.validate import validate


def test_max_changes_at_the_fewest_possible_changes_is_feasible() -> None:
    # An exact CP-SAT count (kept pairs under capacity, days, villages and teams) gives at least 31 changes here.
    i = generate(250, 200, seed=6, params=MatchParams(time_limit_s=60, max_changes=31, workers=2))
    sol = solve(i)
    assert sol.status in ("optimal", "feasible"), sol.messages
    assert validate(i, sol) == []


def test_one_change_fewer_than_possible_is_infeasible_with_the_reason() -> None:
    # 31 changes at least; with 30 the CP-SAT polish used to run on a rule-breaking answer and abort the process.
    i = generate(200, 150, seed=2, params=MatchParams(time_limit_s=60, max_changes=30, workers=2))
    sol = solve(i)
    assert sol.status == "infeasible" and "max_changes=30" in sol.messages[0]
    assert validate(i, sol) == []
    one_more = generate(200, 150, seed=2, params=MatchParams(time_limit_s=60, max_changes=31, workers=2))
    assert solve(one_more).status != "infeasible"
