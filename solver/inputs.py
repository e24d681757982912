"""Malformed instances are refused up front with every problem named, instead of failing deep in numpy.

Callers that build instances themselves (other bureau systems, scripts) get a ValueError listing each bad
field; the service's own inputs are validated earlier and never reach these messages.
"""

from __future__ import annotations

import math
from collections import Counter

import numpy as np

from solver.model import GRADES, LEVEL_NAMES, MatchInstance, MatchParams, Specialist, Village

KINDS = ("individual", "team", "legal_person")
RULES = ("primary", "any", "none")


def check_instance(instance: MatchInstance) -> None:
    """Raise ValueError naming every malformed field of the instance; return quietly when it is sound."""
    problems = [*_ids(instance), *_specialists(instance.specialists), *_villages(instance.villages),
                *_params(instance.params)]
    if problems:
        shown = "; ".join(problems[:20]) + (f"; and {len(problems) - 20} more" if len(problems) > 20 else "")
        raise ValueError(f"invalid instance: {shown}")


BIG = 1_000_000.0  # scores, weights and proficiencies beyond this would overflow the solver's integer costs


def _finite(value: float | None, *, low: float = 0.0, high: float = math.inf, optional: bool = True) -> bool:
    # A number that is finite and within [low, high] (None allowed when optional).
    if value is None:
        return optional
    return isinstance(value, int | float) and math.isfinite(value) and low <= value <= high


def _ids(instance: MatchInstance) -> list[str]:
    # Specialist ids and village ids are unique. (A team member outside the instance is allowed: a run scoped to
    # some counties holds its teams but not members homed elsewhere, who cannot be paired in it anyway.)
    out = [f"specialist id {x!r} appears {n} times" for x, n in Counter(s.id for s in instance.specialists).items()
           if n > 1]
    out += [f"village id {x!r} appears {n} times" for x, n in Counter(v.id for v in instance.villages).items() if n > 1]
    return out


def _specialists(specialists: tuple[Specialist, ...]) -> list[str]:
    # Capacity, days, radius, coordinates and proficiencies are non-negative finite numbers; kinds are known.
    out = []
    for s in specialists:
        if not isinstance(s.capacity, int) or s.capacity < 0:
            out.append(f"specialist {s.id}: capacity {s.capacity!r} is not a whole number >= 0")
        for name in ("days_available", "max_distance_km"):
            if not _finite(getattr(s, name)):
                out.append(f"specialist {s.id}: {name} {getattr(s, name)!r} is not a finite number >= 0")
        for name in ("lon", "lat"):
            if not _finite(getattr(s, name), low=-math.inf):
                out.append(f"specialist {s.id}: {name} {getattr(s, name)!r} is not a finite number")
        out += [f"specialist {s.id}: proficiency {p!r} in {ind} is not a number from 0 to {BIG:g}"
                for ind, p in s.expertise.items() if not _finite(p, high=BIG, optional=False)]
        if s.kind not in KINDS:
            out.append(f"specialist {s.id}: kind {s.kind!r} is not one of {', '.join(KINDS)}")
    return out


def _villages(villages: tuple[Village, ...]) -> list[str]:
    # Coordinates are finite, need weights and service days non-negative finite numbers.
    out = []
    for v in villages:
        for name in ("lon", "lat"):
            if not _finite(getattr(v, name), low=-math.inf):
                out.append(f"village {v.id}: {name} {getattr(v, name)!r} is not a finite number")
        out += [f"village {v.id}: weight {n.weight!r} of need {n.industry!r} is not a number from 0 to {BIG:g}"
                for n in v.needs if not _finite(n.weight, high=BIG, optional=False)]
        if not _finite(v.service_days, optional=False):
            out.append(f"village {v.id}: service_days {v.service_days!r} is not a finite number >= 0")
    return out


def _params(p: MatchParams) -> list[str]:
    # Rule names, counts, distances, levels, weights and overrides are within their ranges.
    out = []
    if p.expertise_rule not in RULES:
        out.append(f"expertise_rule {p.expertise_rule!r} is not one of {', '.join(RULES)}")
    for name, low in (("required", 0), ("priority_required", 0), ("priority_weight", 1), ("visits_per_season", 0)):
        value = getattr(p, name)
        if not isinstance(value, int) or value < low:
            out.append(f"{name} {value!r} is not a whole number >= {low}")
    if not _finite(p.km_per_travel_day, optional=False) or p.km_per_travel_day <= 0:
        out.append(f"km_per_travel_day {p.km_per_travel_day!r} is not a finite number > 0")
    for name in ("km_same_township", "km_same_county", "km_other_county", "time_limit_s", "gap_limit"):
        if not _finite(getattr(p, name), optional=False):
            out.append(f"{name} {getattr(p, name)!r} is not a finite number >= 0")
    out += [f"level {part!r} (in {entry!r}) is not one of {', '.join(LEVEL_NAMES)}"
            for entry in p.levels for part in (x.strip() for x in entry.split("+")) if part and part not in LEVEL_NAMES]
    out += [f"level_weights[{k!r}] = {w!r}: " + ("unknown level" if k not in LEVEL_NAMES else f"not in (0, {BIG:g}]")
            for k, w in p.level_weights.items()
            if k not in LEVEL_NAMES or not _finite(w, high=BIG, optional=False) or w <= 0]
    if p.max_changes is not None and (not isinstance(p.max_changes, int) or p.max_changes < 0):
        out.append(f"max_changes {p.max_changes!r} is not a whole number >= 0")
    if p.continuity_min_grade not in GRADES:
        out.append(f"continuity_min_grade {p.continuity_min_grade!r} is not one of {', '.join(GRADES)}")
    for o in p.overrides:
        for name, high in (("score", BIG), ("effort_days", 366.0)):
            if not _finite(getattr(o, name), high=high):
                out.append(f"override {o.specialist_id}/{o.village_id}: {name} {getattr(o, name)!r} "
                           f"is not a number from 0 to {high:g}")
    table = p.override_table
    if table is not None:  # NaN there means "not given"
        for name, column, high in (("score", table.score, BIG), ("effort_days", table.effort_days, 366.0)):
            bad = np.flatnonzero(np.isinf(column) | (column < 0) | (column > high))
            if len(bad):
                out.append(f"override table: {len(bad)} {name} value(s) outside 0 to {high:g} (first at row {bad[0]})")
    return out
