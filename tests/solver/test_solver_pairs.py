"""Overrides as a column table (millions of pairs): same answers as the small tuple form, JSON round trip."""

import numpy as np
from solver_builders import V, check, inst, pairs, spec, vil

from solver import MatchInstance, PairOverride, PairTable

NAN = float("nan")


def table(rows: list[tuple[str, str, float, float]]) -> PairTable:
    specialists = tuple(sorted({r[0] for r in rows}))
    villages = tuple(sorted({r[1] for r in rows}))
    return PairTable(specialists, villages, np.array([specialists.index(r[0]) for r in rows]),
                     np.array([villages.index(r[1]) for r in rows]), np.array([r[2] for r in rows]),
                     np.array([r[3] for r in rows]))


def test_table_score_override_decides_like_the_tuple():
    a, b = spec("S1", expertise={"A01": 3}), spec("S2", expertise={"A09": 1})
    sol = check(inst([a, b], [vil(1)], override_table=table([("S2", V(1), 10.0, NAN)])))
    assert pairs(sol) == {("S2", V(1))} and sol.assignments[0].score == 10.0


def test_table_effort_days_make_a_tight_specialist_fit():
    tight = spec("S1", days_available=20.0)  # village needs 30 service days
    assert pairs(check(inst([tight], [vil(1)]))) == set()
    eff = check(inst([tight], [vil(1)], override_table=table([("S1", V(1), NAN, 15.0)])))
    assert pairs(eff) == {("S1", V(1))}


def test_table_restricts_candidates_and_last_row_wins():
    a, b = spec("S1", expertise={"A01": 3}), spec("S2", expertise={"A01": 1})
    rows = [("S1", V(2), 1.0, NAN), ("S2", V(1), 1.0, NAN), ("S2", V(1), 50.0, NAN)]
    sol = check(inst([a, b], [vil(1), vil(2)], override_table=table(rows), restrict_to_overrides=True))
    assert pairs(sol) == {("S1", V(2)), ("S2", V(1))}
    assert {x.village_id: x.score for x in sol.assignments}[V(1)] == 50.0


def test_table_and_tuple_give_the_same_answer():
    specs = [spec(f"S{i}", east=i * 3.0, expertise={"A01": 1 + i % 3}) for i in range(4)]
    vils = [vil(i) for i in range(1, 6)]
    rows = [(f"S{i}", V(j), float((i * 7 + j) % 5), NAN) for i in range(4) for j in range(1, 6)]
    with_table = check(inst(specs, vils, override_table=table(rows)))
    with_tuple = check(inst(specs, vils, overrides=tuple(PairOverride(s, v, sc) for s, v, sc, _ in rows)))
    assert pairs(with_table) == pairs(with_tuple)


def test_instance_with_table_round_trips_through_json():
    original = inst([spec("S1")], [vil(1)], override_table=table([("S1", V(1), 2.5, NAN)]))
    again = MatchInstance.from_dict(original.to_dict())
    assert again == original and again.params.override_table is not None
