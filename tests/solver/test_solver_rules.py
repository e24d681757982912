"""One satisfied and one would-break case per hard rule."""

from __future__ import annotations

import json
from pathlib import Path

from solver_builders import V, check, inst, pairs, spec, vil

from solver import PairOverride, PreviousPair, solve
from solver.model import MatchInstance


def test_coverage_all_villages_covered():
    sol = check(inst([spec("S1", capacity=2)], [vil(1), vil(2)]))
    assert pairs(sol) == {("S1", V(1)), ("S1", V(2))} and sol.status == "optimal"


def test_capacity_limits_load_and_names_full_expert():
    sol = check(inst([spec("S1", capacity=2)], [vil(1), vil(2), vil(3)]))
    assert len(sol.assignments) == 2 and len(sol.uncovered) == 1
    reason = sol.uncovered[0].reasons[0]
    assert reason.code == "experts_full" and reason.detail["specialists"] == ["S1"]


def test_capacity_reason_counts_and_names_only_those_full():
    # Two eligible for the last village: one full, one with too few days left. It used to say "all 1 eligible".
    full = spec("S1", capacity=1)
    short = spec("S2", capacity=2, days_available=45.0, east=1.0)
    sol = check(inst([full, short], [vil(1), vil(2), vil(3)]))
    codes = {r.code: r for r in sol.uncovered[0].reasons}
    assert codes["experts_full"].message == "1 of the 2 eligible specialists are at capacity: S1"
    assert codes["days_budget"].detail["count"] == 1


def test_a_long_list_of_full_specialists_says_how_many_more():
    specs = [spec(f"S{i:02d}", capacity=1) for i in range(25)]
    sol = check(inst(specs, [vil(i) for i in range(26)]))
    reason = sol.uncovered[0].reasons[0]
    assert reason.detail["count"] == 25 and len(reason.detail["specialists"]) == 20
    assert reason.message.startswith("all 25 eligible") and reason.message.endswith("S19 and 5 more")


def test_days_budget_counts_total_days():
    # 24, 28 and 34 days per pair; 60 days available: the best two (34 + 28) would break the budget.
    s = spec("S1", capacity=2, days_available=60.0, expertise={"A01": 1})
    vs = [
        vil(1, 1.0, (("A01", 3.0),)),
        vil(2, 1.0, (("A01", 2.0),), service_days=24.0),
        vil(3, 1.0, service_days=20.0),
    ]
    sol = check(inst([s], vs))
    assert pairs(sol) == {("S1", V(1)), ("S1", V(3))}
    cov, match = sol.levels[0], sol.levels[1]
    # the network relaxation says 5.0; the Lagrangian bound, which keeps the days budget, proves 4.0
    assert cov.gap == 0 and (match.value, match.bound) == (4.0, 4.0)
    relaxed = check(inst([s], vs, use_days_budget=False))
    assert pairs(relaxed) == {("S1", V(1)), ("S1", V(2))}


def test_radius():
    sol = check(
        inst([spec("S1", max_distance_km=50.0)], [vil(1, east=40.0), vil(2, east=60.0)])
    )
    assert pairs(sol) == {("S1", V(1))}
    assert sol.uncovered[0].reasons[0].code == "no_expert_in_range"
    off = check(
        inst([spec("S1", max_distance_km=50.0)], [vil(2, east=60.0)], use_radius=False)
    )
    assert pairs(off) == {("S1", V(2))}


def test_expertise_rules():
    s = spec("S1", expertise={"A02": 3})
    v = vil(1, needs=(("A01", 2.0), ("A02", 1.0)))
    assert pairs(check(inst([s], [v], expertise_rule="primary"))) == set()
    assert pairs(check(inst([s], [v], expertise_rule="any"))) == {("S1", V(1))}
    stranger = spec("S2", expertise={"A09": 1})
    assert pairs(check(inst([stranger], [v], expertise_rule="any"))) == set()
    assert pairs(check(inst([stranger], [v], expertise_rule="none"))) == {("S2", V(1))}


def test_inactive_and_failed_grade_excluded():
    sol = check(
        inst(
            [
                spec("S1", active=False),
                spec("S2", grade="不合格"),
                spec("S3", grade="合格"),
            ],
            [vil(1)],
        )
    )
    assert pairs(sol) == {("S3", V(1))}


def test_lock_kept_even_if_worse_and_out_of_radius():
    good, weak = (
        spec("S1", expertise={"A01": 3}),
        spec("S2", expertise={"A01": 1}, max_distance_km=5.0, east=20.0),
    )
    assert pairs(check(inst([good, weak], [vil(1)]))) == {("S1", V(1))}
    sol = check(inst([good, weak], [vil(1)], locked=(("S2", V(1)),)))
    assert pairs(sol) == {("S2", V(1))} and sol.assignments[0].locked
    assert sol.assignments[0].reason.endswith("locked by the user")
    renewed = check(inst([good, weak], [vil(1)], locked=(("S2", V(1)),), previous=(PreviousPair("S2", V(1), "良好"),)))
    assert renewed.assignments[0].reason.endswith("kept: locked as last season's pairing")  # a renewal's lock


def test_contradicting_locks_are_infeasible():
    both = inst(
        [spec("S1")], [vil(1)], locked=(("S1", V(1)),), forbidden=(("S1", V(1)),)
    )
    assert solve(both).status == "infeasible"
    over = inst(
        [spec("S1", capacity=1)], [vil(1), vil(2)], locked=(("S1", V(1)), ("S1", V(2)))
    )
    assert solve(over).status == "infeasible"


def test_forbidden():
    good, weak = spec("S1", expertise={"A01": 3}), spec("S2", expertise={"A01": 1})
    sol = check(inst([good, weak], [vil(1)], forbidden=(("S1", V(1)),)))
    assert pairs(sol) == {("S2", V(1))}
    alone = check(inst([good], [vil(1)], forbidden=(("S1", V(1)),)))
    assert alone.uncovered[0].reasons[0].code == "forbidden"


def test_team_rule():
    team = spec("T1", kind="team", members=("M1",), expertise={"A01": 2}, capacity=1)
    member = spec("M1", expertise={"A02": 2}, capacity=1)
    vs = [vil(1), vil(2, needs=(("A02", 1.0),))]
    sol = check(inst([team, member], vs))
    assert len(sol.assignments) == 1
    assert len(check(inst([team, member], vs, team_rule=False)).assignments) == 2


def test_three_areas_rule():
    tap = spec("S1", three_areas_programme=True, capacity=3)
    home = vil(1, three_areas=True)
    away = vil(2, three_areas=True, county="410102", township="410102001")
    plain = vil(3, county="410102", township="410102001")
    sol = check(inst([tap], [home, away, plain], three_areas_rule=True))
    assert pairs(sol) == {("S1", away.id)}
    assert len(check(inst([tap], [home, away, plain])).assignments) == 3


def test_overrides_score_days_and_restrict():
    a, b = spec("S1", expertise={"A01": 3}), spec("S2", expertise={"A09": 1})
    sol = check(
        inst([a, b], [vil(1)], overrides=(PairOverride("S2", V(1), score=10.0),))
    )
    assert pairs(sol) == {("S2", V(1))} and sol.assignments[0].score == 10.0
    tight = spec("S1", days_available=20.0)  # village needs 30 service days
    assert pairs(check(inst([tight], [vil(1)]))) == set()
    eff = check(
        inst([tight], [vil(1)], overrides=(PairOverride("S1", V(1), effort_days=15.0),))
    )
    assert pairs(eff) == {("S1", V(1))}
    only = check(
        inst(
            [a, b],
            [vil(1), vil(2)],
            overrides=(PairOverride("S1", V(2)),),
            restrict_to_overrides=True,
        )
    )
    assert pairs(only) == {("S1", V(2))}


def test_max_changes_keeps_previous_pairs():
    s1, s2 = (
        spec("S1", expertise={"A01": 1, "A02": 3}, capacity=1),
        spec("S2", expertise={"A01": 3, "A02": 1}, capacity=1),
    )
    vs = [vil(1), vil(2, needs=(("A02", 1.0),))]
    prev = (PreviousPair("S1", V(1), "合格"), PreviousPair("S2", V(2), "合格"))
    assert pairs(check(inst([s1, s2], vs, previous=prev))) == {
        ("S1", V(2)),
        ("S2", V(1)),
    }
    sol = check(inst([s1, s2], vs, previous=prev, max_changes=0))
    assert pairs(sol) == {("S1", V(1)), ("S2", V(2))}


def test_max_changes_impossible_when_previous_pairs_exceed_capacity():
    # Last season S1 held two villages but now has room for one: keeping both (max_changes=0) cannot be done.
    s1 = spec("S1", capacity=1)
    prev = (PreviousPair("S1", V(1), "优秀"), PreviousPair("S1", V(2), "优秀"))
    sol = solve(inst([s1], [vil(1), vil(2)], previous=prev, max_changes=0))
    assert sol.status == "infeasible" and sol.assignments == []
    sol = check(inst([s1], [vil(1), vil(2)], previous=prev, max_changes=1))
    assert len(sol.assignments) == 1


def test_recruitment_names_the_village_the_answer_leaves_open() -> None:
    # S2 can serve {001, 004} (20 + 4 and 20 + 4 days) or {003} (30 + 4), never {001, 003} (58 > 50 days).
    # The network relaxation ignores the days and would recruit for 004; the answer leaves 003 open.
    s2 = spec("S2", 0, {"A01": 3, "A03": 2}, capacity=2, days_available=50.0)
    vils = [vil(1, 10, needs=(("A03", 1.0),), service_days=20.0),
            vil(3, 40, needs=(("A03", 2.0),), service_days=30.0, county="410102", township="410102001"),
            vil(4, 20, needs=(("A01", 1.0),), service_days=20.0)]
    sol = check(inst([s2], vils))
    assert [u.village_id for u in sol.uncovered] == [V(3)]
    assert [(r.industry, r.slots, r.villages) for r in sol.recruitment] == [("A03", 1, [V(3)])]


def test_a_partly_covered_village_says_everyone_eligible_already_serves_it() -> None:
    sol = check(inst([spec("S1")], [vil(1)], required=2))
    (u,) = sol.uncovered
    assert [r.code for r in u.reasons] == ["too_few_eligible"] and "S1" in u.reasons[0].message


def test_recruitment_covers_every_open_village_when_the_relaxation_fills_only_some() -> None:
    # A random tiny instance (seed 35 of a reviewer's search): the answer leaves 003 (A01), 004 (A02) and 006 (A03,
    # county 410102) open; the relaxation recruits for two of them, and the third recruit once went to 003 again.
    data = json.loads((Path(__file__).parent / "data" / "recruit_three_open.json").read_text(encoding="utf-8"))
    sol = check(MatchInstance.from_dict(data))
    assert sorted(u.village_id[-3:] for u in sol.uncovered) == ["003", "004", "006"]
    assert sorted((r.county, r.industry, r.slots, r.villages[0][-3:]) for r in sol.recruitment) == [
        ("410101", "A01", 1, "003"), ("410101", "A02", 1, "004"), ("410102", "A03", 1, "006")]
