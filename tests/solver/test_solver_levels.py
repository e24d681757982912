"""Objective levels, priority villages, diagnosis, recruitment, determinism, serialisation."""

from __future__ import annotations

import json
from dataclasses import replace

from solver_builders import V, inst, level, pairs, spec, vil

from solver import MatchInstance, MatchSolution, PreviousPair, Progress, solve
from solver.side import PLAN_ROUNDS_FIRST
from solver.synthetic import generate
from solver.validate import validate


def test_match_level_prefers_higher_proficiency():
    sol = solve(
        inst(
            [
                spec("S1", expertise={"A01": 1}),
                spec("S2", expertise={"A01": 3}, east=30.0),
            ],
            [vil(1)],
        )
    )
    assert (
        pairs(sol) == {("S2", V(1))}
        and level(sol, "match") == 3.0
        and sol.status == "optimal"
    )


def test_continuity_level_decides_between_equal_scores():
    specs = [spec("S1", east=1.0), spec("S2", east=30.0)]
    prev = (PreviousPair("S2", V(1), "良好"),)
    assert pairs(solve(inst(specs, [vil(1)], previous=prev))) == {("S2", V(1))}
    failed = (
        PreviousPair("S2", V(1), "不合格"),
    )  # graded below continuity_min_grade: no continuity
    assert pairs(solve(inst(specs, [vil(1)], previous=failed))) == {("S1", V(1))}


def test_an_ungraded_previous_pair_counts_for_continuity():
    # Not evaluated yet (no service record grade): kept like a 合格 pair, as the season renewal promises.
    specs = [spec("S1", east=1.0), spec("S2", east=30.0)]
    sol = solve(inst(specs, [vil(1)], previous=(PreviousPair("S2", V(1), None),)))
    assert pairs(sol) == {("S2", V(1))} and level(sol, "continuity") == 1.0
    assert validate(inst(specs, [vil(1)], previous=(PreviousPair("S2", V(1), None),)), sol) == []


def test_travel_level_picks_the_closer_specialist():
    sol = solve(inst([spec("S1", east=30.0), spec("S2", east=5.0)], [vil(1)]))
    assert pairs(sol) == {("S2", V(1))} and abs(level(sol, "travel") - 5.0) < 0.1


def test_balance_level_spreads_load():
    sol = solve(
        inst(
            [spec("S1", capacity=2), spec("S2", capacity=2)],
            [vil(1), vil(2)],
            levels=("coverage", "balance"),
        )
    )
    assert {a.specialist_id for a in sol.assignments} == {"S1", "S2"} and level(
        sol, "balance"
    ) == 2.0


def test_level_order_matters():
    specs = [
        spec("S1", expertise={"A01": 3}, east=40.0),
        spec("S2", expertise={"A01": 1}, east=2.0),
    ]
    assert pairs(solve(inst(specs, [vil(1)]))) == {("S1", V(1))}
    assert pairs(solve(inst(specs, [vil(1)], levels=("travel", "match")))) == {
        ("S2", V(1))
    }


def test_priority_village_gets_two_specialists_and_weighs_more():
    specs = [spec("S1", capacity=1), spec("S2", capacity=1)]
    vs = [vil(1, poverty_alleviated=True), vil(2)]
    sol = solve(inst(specs, vs, priority_required=2))
    assert {v for _, v in pairs(sol)} == {V(1)} and level(sol, "coverage") == 20.0
    assert sol.uncovered[0].village_id == V(2)


def test_uncovered_reasons():
    far = solve(inst([spec("S1", max_distance_km=10.0)], [vil(1, east=50.0)]))
    reason = far.uncovered[0].reasons[0]
    assert reason.code == "no_expert_in_range" and reason.detail["nearest_id"] == "S1"
    nobody = solve(inst([spec("S1", expertise={"A02": 1})], [vil(1)]))
    assert nobody.uncovered[0].reasons[0].code == "no_expert_in_range"
    locked = solve(
        inst([spec("S1", capacity=1)], [vil(1), vil(2)], locked=(("S1", V(1)),))
    )
    assert locked.uncovered[0].reasons[0].code == "locked_elsewhere"


def test_recruitment_by_county_and_industry_equals_deficit():
    other = {"county": "410102", "township": "410102001"}
    vs = [
        vil(1),
        vil(2),
        vil(3),
        vil(4, needs=(("A02", 1.0),), **other),
        vil(5, needs=(("A02", 1.0),), **other),
    ]
    sol = solve(
        inst(
            [
                spec(
                    "S1",
                    capacity=1,
                    expertise={"A01": 1, "A02": 1},
                    max_distance_km=None,
                )
            ],
            vs,
        )
    )
    deficit = sum(u.missing for u in sol.uncovered)
    assert deficit == 4 and sum(r.slots for r in sol.recruitment) == deficit
    slots = {(r.county, r.industry): r.slots for r in sol.recruitment}
    assert sum(slots.values()) == 4 and set(slots) <= {
        ("410101", "A01"),
        ("410102", "A02"),
    }


def test_determinism_and_json_round_trip():
    i = generate(120, 90, seed=3)
    a, b = solve(i), solve(i)
    strip = lambda s: {
        k: v for k, v in s.to_dict().items() if k not in ("solve_seconds", "model_size")
    }
    assert strip(a) == strip(b) and validate(i, a) == []
    assert (
        MatchInstance.from_dict(json.loads(json.dumps(i.to_dict(), ensure_ascii=False)))
        == i
    )
    assert (
        MatchSolution.from_dict(json.loads(json.dumps(a.to_dict(), ensure_ascii=False)))
        == a
    )


def test_progress_and_early_stop():
    seen: list[Progress] = []
    i = generate(150, 110, seed=4)
    sol = solve(i, progress=seen.append, should_stop=lambda: any(p.phase == "network" for p in seen))
    assert seen and sol.status in ("feasible", "optimal") and validate(i, sol) == []
    # stopped before any re-solve kept the side rules: pairs are dropped instead of one more network solve
    assert "stopped before the re-solves, so pairs were dropped" in sol.method and "restricted" not in sol.method


def test_a_stop_during_the_price_rounds_drops_pairs_instead_of_re_solving():
    # The stop comes while the Lagrangian prices are refined (answer first, as on a province): no network
    # re-solve follows, the pairs that break the rules are dropped, and the answer keeps every rule.
    base = generate(150, 110, seed=4)
    i = MatchInstance(base.specialists, base.villages, replace(base.params, max_changes=10_000))
    seen: list[Progress] = []

    def stop() -> bool:  # false until the bound has been reported once
        return any(p.phase == "bound" for p in seen)

    sol = solve(i, progress=seen.append, should_stop=stop)
    assert "stopped before the re-solves" in sol.method and "dropping pairs" in sol.method
    assert not any(p.phase == "restrict" for p in seen) and validate(i, sol) == []


def test_synthetic_with_all_rules_validates():
    i = generate(300, 220, seed=7)
    sol = solve(i)
    assert sol.status in ("optimal", "feasible") and validate(i, sol) == []
    assert sum(r.slots for r in sol.recruitment) == sum(
        u.missing for u in sol.uncovered
    )


def test_merged_level_with_weights():
    specs = [spec("S1", expertise={"A01": 3}), spec("S2", expertise={"A01": 1})]
    prev = (PreviousPair("S2", V(1), "优秀"),)
    assert pairs(solve(inst(specs, [vil(1)], previous=prev))) == {("S1", V(1))}
    # weights act on internal units (match x100): one continued pair is worth 5 match points here
    merged = inst(
        specs,
        [vil(1)],
        previous=prev,
        levels=("coverage", "match+continuity"),
        level_weights={"continuity": 500.0},
    )
    sol = solve(merged)
    assert pairs(sol) == {("S2", V(1))} and sol.levels[1].name == "match+continuity"
    assert validate(merged, sol) == [] and sol.status == "optimal"


def test_progress_reports_the_bound_while_it_is_refined():
    # The days budget and team rule bind here: the Lagrangian bound is reported as it falls, locks included.
    seen: list[Progress] = []
    i = generate(300, 220, seed=3)
    sol = solve(i, progress=seen.append)
    match = next(lv for lv in sol.levels if lv.name == "match")
    network = [p.bound for p in seen if p.phase == "network" and p.level == "match"]
    bounds = [p.bound for p in seen if p.phase == "bound" and p.level == "match"]
    assert network and len(bounds) > 1 and match.bound is not None
    assert network[0] > bounds[0] and bounds == sorted(bounds, reverse=True) and bounds[-1] < bounds[0]
    assert abs(bounds[-1] - match.bound) < 1e-6 and match.value <= match.bound


def test_bound_is_refined_before_the_safe_restriction_that_its_plan_guides():
    # max_changes puts the always-valid guided re-solve first; the prices are refined before it, since the
    # master LP's plan picks its days thresholds and team sides (and again after it, with the time left).
    seen: list[Progress] = []
    base = generate(300, 220, seed=3)
    i = MatchInstance(base.specialists, base.villages, replace(base.params, max_changes=10_000, exact_finish=False))
    sol = solve(i, progress=seen.append)
    phases = [p.phase for p in seen]
    bounds = [p.bound for p in seen if p.phase == "bound" and p.level == "match"]
    assert "restrict" in phases and phases.index("bound") < phases.index("restrict")
    match = next(lv for lv in sol.levels if lv.name == "match")
    assert len(bounds) > 1 and bounds == sorted(bounds, reverse=True) and bounds[-1] < bounds[0]
    assert abs(bounds[-1] - match.bound) < 1e-6 and match.value <= match.bound and validate(i, sol) == []


def _rounds(sol: MatchSolution) -> int:
    return int(sol.method.split("refined by ")[1].split(" ")[0])


def test_gap_limit_stops_refining_the_bound_once_the_answer_is_close_enough():
    # After the safe re-solve (first here, as max_changes applies) the bound is refined only while the match
    # gap exceeds gap_limit: 1% is reached at once, so no more rounds follow the ones before the answer (the exact
    # finish, which would prove the level, is off).
    base = generate(300, 220, seed=3)
    strict = MatchInstance(base.specialists, base.villages, replace(base.params, max_changes=10_000,
                                                                    exact_finish=False))
    loose = MatchInstance(base.specialists, base.villages, replace(strict.params, gap_limit=0.01))
    exact, early = solve(strict), solve(loose)
    match = next(lv for lv in early.levels if lv.name == "match")
    assert "within gap_limit=0.01" in early.method and "within gap_limit" not in exact.method
    assert _rounds(early) == PLAN_ROUNDS_FIRST < _rounds(exact)
    assert match.gap is not None and 0 < match.gap <= 0.01 and validate(loose, early) == []
    assert pairs(early) == pairs(exact)  # the answer came before the refinement; only the bound differs


def test_a_big_instance_solves_its_master_lp_by_pdlp(monkeypatch):
    # Beyond SIMPLEX_UP_TO villages (a province; here forced at 100) the master LP is solved by PDLP: its plan
    # guides the answer, and after the answer its rounds go on, up to WIDE_ROUNDS x bound_rounds.
    from solver import dual

    base = generate(300, 220, seed=3)
    i = MatchInstance(base.specialists, base.villages, replace(base.params, max_changes=10_000, exact_finish=False))
    simplex = solve(i)
    monkeypatch.setattr(dual, "SIMPLEX_UP_TO", 100)
    first_order = solve(i)
    match = next(lv for lv in first_order.levels if lv.name == "match")
    assert "master LP solved by PDLP" in first_order.method and "PDLP" not in simplex.method
    assert match.bound is not None and match.value <= match.bound and validate(i, first_order) == []
    assert _rounds(first_order) > PLAN_ROUNDS_FIRST
    assert pairs(solve(i)) == pairs(first_order)  # the same input gives the same answer


def test_a_stop_before_the_first_solve_keeps_only_the_locked_pairs():
    # A cancel that arrives while the candidates are built: no network is solved, the answer is the locks.
    i = generate(150, 110, seed=4)
    sol = solve(i, should_stop=lambda: True)
    assert i.params.locked and sol.status == "feasible" and sol.method.startswith("stopped before the first solve")
    assert validate(i, sol) == [] and not any(lv.proven for lv in sol.levels)
    assert {(a.specialist_id, a.village_id) for a in sol.assignments} == set(i.params.locked)


def test_progress_bounds_hold_for_the_answer_when_side_rules_cost_coverage():
    # The network covers 375 units; the days budget and team rule allow 373. Bound reports used to give the
    # match level's bound assuming the network's coverage (-87308 points), a number no answer could have.
    seen: list[Progress] = []
    sol = solve(generate(200, 70, seed=4), progress=seen.append)
    assert level(sol, "coverage") == 373.0
    bounds = [p for p in seen if p.phase == "bound"]
    assert bounds, "no bound reported"
    for p in bounds:
        assert p.level is not None and p.bound is not None and p.bound >= level(sol, p.level) - 1e-9, p
    last = seen[-1]
    assert (last.phase, last.bound, last.gap) == ("done", sol.bound, sol.gap)
