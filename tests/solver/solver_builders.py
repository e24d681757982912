"""Tiny hand-made instances for the solver tests (no __init__: imported by file name)."""

from __future__ import annotations

import math
from typing import Any

from solver.model import (
    MatchInstance,
    MatchParams,
    MatchSolution,
    Need,
    Specialist,
    Village,
)

LON0, LAT0 = 113.0, 34.0
COUNTY = "410101"
TOWN = "410101001"


def at(east_km: float, north_km: float) -> tuple[float, float]:
    """Lon/lat of a point `east_km`, `north_km` from the reference point."""
    lat = LAT0 + north_km / 111.195
    lon = LON0 + east_km / (111.195 * math.cos(math.radians(LAT0)))
    return lon, lat


def spec(
    sid: str, east: float = 0.0, expertise: dict[str, int] | None = None, **kw: Any
) -> Specialist:
    lon, lat = at(east, 0.0)
    base: dict[str, Any] = {
        "county": COUNTY,
        "township": TOWN,
        "lon": lon,
        "lat": lat,
        "expertise": expertise or {"A01": 2},
    }
    return Specialist(id=sid, **(base | kw))


def vil(
    n: int,
    east: float = 0.0,
    needs: tuple[tuple[str, float], ...] = (("A01", 1.0),),
    **kw: Any,
) -> Village:
    lon, lat = at(east, 0.0)
    base: dict[str, Any] = {"county": COUNTY, "township": TOWN, "lon": lon, "lat": lat}
    need_objs = tuple(Need(ind, w, primary=i == 0) for i, (ind, w) in enumerate(needs))
    return Village(id=f"{TOWN}{n:03d}", needs=need_objs, **(base | kw))


def inst(specs: list[Specialist], vils: list[Village], **params: Any) -> MatchInstance:
    return MatchInstance(
        tuple(specs), tuple(vils), MatchParams(**({"time_limit_s": 10.0} | params))
    )


def pairs(sol: MatchSolution) -> set[tuple[str, str]]:
    return {(a.specialist_id, a.village_id) for a in sol.assignments}


def level(sol: MatchSolution, name: str) -> float:
    return next(lv.value for lv in sol.levels if lv.name == name)


def V(n: int) -> str:
    return f"{TOWN}{n:03d}"


def check(i: MatchInstance) -> MatchSolution:
    """Solve, and let the independent validator recompute every rule and level from the answer."""
    from solver import solve
    from solver.validate import validate

    sol = solve(i)
    assert validate(i, sol) == [], validate(i, sol)
    return sol
