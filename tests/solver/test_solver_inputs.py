"""Malformed instances are refused with every bad field named, before any solving."""

from __future__ import annotations

import math
from dataclasses import replace

import pytest
from solver_builders import inst, spec, vil

from solver import solve
from solver.model import Need, PairOverride


@pytest.mark.parametrize(("change", "named"), [
    (lambda i: replace(i, specialists=(*i.specialists, i.specialists[0])), "specialist id 'S1' appears 2 times"),
    (lambda i: replace(i, villages=(*i.villages, i.villages[0])), "appears 2 times"),
    (lambda i: replace(i, specialists=(replace(i.specialists[0], capacity=-1),)), "capacity -1"),
    (lambda i: replace(i, specialists=(replace(i.specialists[0], days_available=math.nan),)), "days_available nan"),
    (lambda i: replace(i, villages=(replace(i.villages[0], lon=math.inf),)), "lon inf"),
    (lambda i: replace(i, villages=(replace(i.villages[0], needs=(Need("A01", math.nan),)),)), "weight nan"),
    (lambda i: replace(i, params=replace(i.params, expertise_rule="primry")), "expertise_rule 'primry'"),
    (lambda i: replace(i, params=replace(i.params, km_per_travel_day=0.0)), "km_per_travel_day"),
    (lambda i: replace(i, params=replace(i.params, levels=("match", "travle"))), "level 'travle'"),
    (lambda i: replace(i, params=replace(i.params, level_weights={"travel": 1e300})), "level_weights['travel']"),
    (lambda i: replace(i, params=replace(i.params, overrides=(PairOverride("S1", i.villages[0].id, math.inf),))),
     "score inf"),
])
def test_a_malformed_instance_is_a_value_error_naming_the_field(change, named) -> None:  # type: ignore[no-untyped-def]
    good = inst([spec("S1")], [vil(1), vil(2)])
    assert solve(good).status == "optimal"
    with pytest.raises(ValueError, match="invalid instance") as err:
        solve(change(good))
    assert named in str(err.value)


def test_a_team_member_outside_the_instance_is_allowed() -> None:
    team = spec("T1", kind="team", members=("S1", "S9"))
    assert solve(inst([spec("S1"), team], [vil(1)])).status == "optimal"
