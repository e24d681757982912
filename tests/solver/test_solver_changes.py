"""max_changes at its limit: the fewest changes possible is found, one fewer is reported infeasible with the proof (or
saying it has none; no crash);
the exact finish proves a max_changes run with the rule in its MILPs."""

from __future__ import annotations

from dataclasses import replace

import pytest

from solver import restrict, solve
from solver.model import MatchParams
from solver.synthetic import generate
from solver.validate import validate


def test_max_changes_at_the_fewest_possible_changes_is_feasible() -> None:
    # An exact CP-SAT count (kept pairs under capacity, days, villages and teams) gives at least 31 changes here;
    # the quick answer finds an assignment with 31 (the exact finish's proof is the next test's).
    i = generate(250, 200, seed=6, params=MatchParams(time_limit_s=60, max_changes=31, workers=2, exact_finish=False))
    sol = solve(i)
    assert sol.status in ("optimal", "feasible"), sol.messages
    assert validate(i, sol) == []


def test_one_change_fewer_than_possible_is_infeasible_with_the_reason() -> None:
    # 31 changes at least; with 30 the CP-SAT polish used to run on a rule-breaking answer and abort the process.
    i = generate(200, 150, seed=2, params=MatchParams(time_limit_s=60, max_changes=30, workers=2))
    sol = solve(i)
    assert sol.status == "infeasible" and sol.messages[0] == (
        "at most 94 of last season's 125 pairs can be kept together (capacity, days budget, village demand and team "
        "rule; proven by CP-SAT), so at least 31 change: more than max_changes=30")
    assert validate(i, sol) == []
    one_more = generate(200, 150, seed=2, params=MatchParams(time_limit_s=60, max_changes=31, workers=2))
    assert solve(one_more).status != "infeasible"


def test_an_unproven_max_changes_failure_says_it_is_not_proven(monkeypatch: pytest.MonkeyPatch) -> None:
    # With no budget CP-SAT proves nothing; the greedy fallback keeps 94 pairs, and the run says it found no answer
    # without claiming that none exists.
    monkeypatch.setattr(restrict, "MOST_KEPT_BUDGET", 0.0)
    i = generate(200, 150, seed=2, params=MatchParams(time_limit_s=60, max_changes=30, workers=2))
    sol = solve(i)
    assert sol.status == "infeasible" and sol.messages[0] == (
        "no assignment keeping all but max_changes=30 of last season's 125 pairs was found: the best found keeps 94 of "
        "them (31 change); CP-SAT did not prove within its budget that no more can be kept together")


def test_a_max_changes_run_is_proven_optimal_with_the_rule_in_its_milps() -> None:
    # At the fewest possible changes (31) the rule binds: the exact finish proves every level with it (the quick
    # answer is no better on any level), and the answer drops no more than 31 of last season's pairs.
    i = generate(250, 200, seed=6, params=MatchParams(time_limit_s=60, max_changes=31, workers=2))
    sol = solve(i)
    assert validate(i, sol) == [] and sol.status == "optimal", sol.method
    assert all(lv.proven and lv.gap == 0 for lv in sol.levels) and "exact MILPs" in sol.method
    quick = solve(replace(i, params=replace(i.params, exact_finish=False)))
    assert validate(i, quick) == [] and "exact MILPs" not in quick.method
    for q, e in zip(quick.levels, sol.levels):  # lexicographically: the first level that differs favours the proof
        if q.value != e.value:
            assert (e.value > q.value) == (e.sense == "max"), (q, e)
            break
    free = solve(replace(i, params=replace(i.params, max_changes=None, exact_finish=False)))  # more pairs change
    prev = {(q.specialist_id, q.village_id) for q in i.params.previous}
    kept = {(a.specialist_id, a.village_id) for a in sol.assignments} & prev
    assert len(prev - kept) <= 31 < len(prev - {(a.specialist_id, a.village_id) for a in free.assignments})
