"""Solver-independent checker: recompute every hard rule and level value from the output alone.

Deliberately written as plain scalar Python (no numpy, nothing from the
solver's own modules except the data classes) so that a bug in the vectorised
solver code cannot hide itself. Returns a list of problems; empty means valid.
"""

from __future__ import annotations

import math
from collections import Counter, defaultdict

from solver.model import (
    GRADES,
    MatchInstance,
    MatchParams,
    MatchSolution,
    Specialist,
    Village,
)
from solver.pairs import all_overrides

EARTH_KM = 6371.0088


def distance_km(
    s: Specialist, v: Village, same_town: float, same_county: float, other: float
) -> tuple[float, bool]:
    """Haversine distance, or the division-hierarchy estimate when coordinates are missing."""
    if None in (s.lon, s.lat, v.lon, v.lat):
        if s.township and s.township == v.township:
            return same_town, True
        if s.county and s.county == v.county:
            return same_county, True
        return other, True
    p1, p2 = math.radians(s.lat), math.radians(v.lat)  # type: ignore[arg-type]
    dl = math.radians(v.lon - s.lon)  # type: ignore[operator]
    a = (
        math.sin((p2 - p1) / 2) ** 2
        + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    )
    return 2 * EARTH_KM * math.asin(math.sqrt(min(1.0, max(0.0, a)))), False


def pair_days(s: Specialist, v: Village, p: MatchParams) -> tuple[float, float]:
    """(distance km, days) a pairing costs the specialist per season: service days plus travel days."""
    km, _ = distance_km(s, v, p.km_same_township, p.km_same_county, p.km_other_county)
    return km, v.service_days + p.visits_per_season * math.ceil(round(km, 6) / p.km_per_travel_day)


def _rank(grade: str | None) -> int:
    return GRADES.index(grade) if grade in GRADES else -1


def validate(
    instance: MatchInstance, solution: MatchSolution, tol: float = 1e-6
) -> list[str]:
    """All violated hard rules and mismatching level values of `solution` for `instance`."""
    p = instance.params
    errors: list[str] = []
    if solution.status == "infeasible":
        return (
            []
            if not solution.assignments
            else ["infeasible solution lists assignments"]
        )
    specs = {s.id: s for s in instance.specialists}
    vils = {v.id: v for v in instance.villages}
    forbidden = set(p.forbidden)
    locked = set(p.locked)
    overrides = {(o.specialist_id, o.village_id): o for o in all_overrides(p)}
    pairs = [(a.specialist_id, a.village_id) for a in solution.assignments]
    if len(set(pairs)) != len(pairs):
        errors.append("duplicate assignment")
    load: Counter[str] = Counter()
    per_v: Counter[str] = Counter()
    days_used: defaultdict[str, float] = defaultdict(float)
    totals = {
        "coverage": 0.0,
        "match": 0.0,
        "continuity": 0.0,
        "travel": 0.0,
        "balance": 0.0,
    }
    good = max(_rank(p.continuity_min_grade), 0)
    prev_ok = {  # ungraded pairs (no evaluation yet) count too
        (q.specialist_id, q.village_id) for q in p.previous if q.grade is None or _rank(q.grade) >= good
    }
    for sid, vid in pairs:
        s, v = specs.get(sid), vils.get(vid)
        if s is None or v is None:
            errors.append(f"unknown pair ({sid}, {vid})")
            continue
        load[sid] += 1
        per_v[vid] += 1
        km, days = pair_days(s, v, p)
        o = overrides.get((sid, vid))
        if o is not None and o.effort_days is not None:
            days = o.effort_days
        days_used[sid] += days
        score = sum(n.weight * s.expertise.get(n.industry, 0) for n in v.needs)
        if o is not None and o.score is not None:
            score = o.score
        totals["match"] += round(score * 100) / 100
        totals["continuity"] += (sid, vid) in prev_ok
        totals["travel"] += round(km * 10) / 10
        errors += _pair_rules(
            instance,
            s,
            v,
            km,
            days,
            (sid, vid) in locked,
            (sid, vid) in forbidden,
            o is not None and o.score is not None,
            (sid, vid) in overrides,
        )
    for sid, n in load.items():
        if n > specs[sid].capacity:
            errors.append(f"{sid} exceeds capacity {specs[sid].capacity} with {n}")
        budget = specs[sid].days_available
        if p.use_days_budget and budget is not None and days_used[sid] > budget + tol:
            errors.append(f"{sid} uses {days_used[sid]:g} days > {budget:g}")
        totals["balance"] += n * n
    for vid, n in per_v.items():
        v = vils[vid]
        need = p.priority_required if v.priority else p.required
        if n > need:
            errors.append(f"village {vid} has {n} specialists > required {need}")
    for v in instance.villages:
        if not v.excluded:
            need = p.priority_required if v.priority else p.required
            totals["coverage"] += (p.priority_weight if v.priority else 1) * min(
                per_v[v.id], need
            )
    errors += [
        f"lock ({a}, {b}) not kept"
        for a, b in sorted(locked)
        if (a, b) not in set(pairs)
    ]
    errors += _team_rule(instance, load)
    errors += _max_changes(instance, set(pairs))
    errors += _levels(solution, totals, tol)
    return errors


def _pair_rules(
    instance: MatchInstance,
    s: Specialist,
    v: Village,
    km: float,
    days: float,
    is_locked: bool,
    is_forbidden: bool,
    score_given: bool,
    in_overrides: bool,
) -> list[str]:
    # Per-pair eligibility; locks waive the geometric, expertise, programme and override rules.
    p = instance.params
    tag = f"({s.id}, {v.id})"
    out = []
    if is_forbidden:
        out.append(f"{tag} is forbidden")
    if not s.active or s.grade == "不合格":
        out.append(f"{tag}: specialist inactive or graded 不合格")
    if v.excluded:
        out.append(f"{tag}: village excluded")
    if is_locked:
        return out
    if p.use_radius and s.max_distance_km is not None and km > s.max_distance_km + 1e-9:
        out.append(f"{tag}: {km:.1f} km beyond radius {s.max_distance_km}")
    if (
        p.use_days_budget
        and s.days_available is not None
        and days > s.days_available + 1e-9
    ):
        out.append(f"{tag}: pair needs {days:g} days > {s.days_available:g}")
    if not score_given:
        industries = [n.industry for n in v.needs]
        primary = v.primary_industry()
        if p.expertise_rule == "primary" and (
            primary is None or s.expertise.get(primary, 0) <= 0
        ):
            out.append(f"{tag}: specialist lacks primary industry {primary}")
        if p.expertise_rule == "any" and not any(
            s.expertise.get(i, 0) > 0 for i in industries
        ):
            out.append(f"{tag}: specialist has none of the village's industries")
    if (
        p.three_areas_rule
        and s.three_areas_programme
        and (not v.three_areas or v.county == s.county)
    ):
        out.append(f"{tag}: three-areas programme specialist outside the rule")
    if p.restrict_to_overrides and not in_overrides:
        out.append(f"{tag}: not an override pair")
    return out


def _team_rule(instance: MatchInstance, load: Counter[str]) -> list[str]:
    # A team member may not be paired individually when the team is paired.
    if not instance.params.team_rule:
        return []
    return [
        f"team {s.id} and member {m} both paired"
        for s in instance.specialists
        if s.kind == "team" and load[s.id] > 0
        for m in s.members
        if m != s.id and load[m] > 0
    ]


def _max_changes(instance: MatchInstance, pairs: set[tuple[str, str]]) -> list[str]:
    # At most max_changes of last season's pairs may be dropped.
    p = instance.params
    if p.max_changes is None:
        return []
    prev = {(q.specialist_id, q.village_id) for q in p.previous}
    dropped = len(prev - pairs)
    return (
        [f"{dropped} previous pairs dropped > max_changes {p.max_changes}"]
        if dropped > p.max_changes
        else []
    )


def _levels(solution: MatchSolution, totals: dict[str, float], tol: float) -> list[str]:
    # Reported single-criterion level values must match the recomputation.
    out = []
    for lv in solution.levels:
        if (
            lv.name in totals
            and abs(lv.value - totals[lv.name])
            > max(tol, 1e-6 * abs(totals[lv.name])) + 1e-6
        ):
            out.append(
                f"level {lv.name}: reported {lv.value} but recomputed {totals[lv.name]}"
            )
        if lv.bound is not None and lv.gap is not None:
            better = (
                lv.value > lv.bound + 1e-6
                if lv.sense == "max"
                else lv.value < lv.bound - 1e-6
            )
            if better and lv.proven:
                out.append(
                    f"level {lv.name}: value {lv.value} beats its proven bound {lv.bound}"
                )
    if solution.status == "optimal" and any(
        lv.gap not in (0, 0.0) for lv in solution.levels
    ):
        out.append("status optimal with a non-zero gap")
    return out
