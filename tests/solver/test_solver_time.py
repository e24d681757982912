"""Time limits: when a full re-solve no longer fits, the violators' villages are re-placed around everyone else."""

from __future__ import annotations

import dataclasses
from typing import Any

from solver import solve
from solver.model import MatchInstance, MatchParams
from solver.synthetic import generate
from solver.validate import validate


def town(time_limit_s: float, **params: Any) -> MatchInstance:
    base = MatchParams(time_limit_s=time_limit_s, workers=1)
    return generate(300, 260, seed=3, params=dataclasses.replace(base, **params))


def test_no_time_for_a_full_re_solve_settles_around_the_rule_keepers_and_keeps_every_rule() -> None:
    i = town(1e-6)
    sol = solve(i)
    assert validate(i, sol) == []
    assert "did not fit a full re-solve" in sol.method and "settle: kept" in sol.method
    roomy = solve(town(30.0))
    assert "did not fit" not in roomy.method and "master LP's plan" in roomy.method
    assert sol.levels[0].value >= 0.95 * roomy.levels[0].value  # coverage is mostly kept


def test_max_changes_never_takes_the_settling_shortcut() -> None:
    i = town(1e-6, max_changes=10_000)
    sol = solve(i)
    assert validate(i, sol) == []
    assert "did not fit" not in sol.method
