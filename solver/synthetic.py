"""Seeded generator of realistic synthetic matching instances.

Counties sit on a rough grid; each county has its own industry mix (a
Dirichlet draw concentrated on a few industries); villages cluster around
township centres, specialists around county seats. About 15% of villages are
priority villages; specialists have 1-3 industries with proficiency 1-3,
capacity mostly 2 (some 1-4), 60-150 available days and a 50-120 km radius;
there are teams with members, legal persons, three-areas programme
specialists, inactive or 不合格 specialists, and last season's pairs with grades.
"""

from __future__ import annotations

import math

import numpy as np

from solver.model import (
    MatchInstance,
    MatchParams,
    Need,
    PreviousPair,
    Specialist,
    Village,
)

INDUSTRIES: tuple[str, ...] = tuple(f"A{i:02d}" for i in range(1, 13))
KM_PER_DEG_LAT = 111.2


def _county_codes(n_counties: int) -> list[str]:
    # Six-digit county codes grouped in cities of up to 10 counties.
    return [f"41{1 + c // 10:02d}{1 + c % 10:02d}" for c in range(n_counties)]


def _offsets_to_lonlat(
    x_km: np.ndarray, y_km: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    # Local flat projection around (113E, 34N).
    lat = 34.0 + y_km / KM_PER_DEG_LAT
    lon = 113.0 + x_km / (KM_PER_DEG_LAT * math.cos(math.radians(34.0)))
    return lon, lat


def generate(
    n_villages: int,
    n_specialists: int,
    seed: int = 0,
    county_spacing_km: float = 45.0,
    villages_per_county: int = 160,
    missing_coords: float = 0.01,
    with_rules: bool = True,
    params: MatchParams | None = None,
) -> MatchInstance:
    """Build a reproducible instance; `with_rules` adds locks, forbidden pairs and the three-areas rule."""
    rng = np.random.default_rng(seed)
    n_counties = max(1, round(n_villages / villages_per_county))
    side = math.ceil(math.sqrt(n_counties))
    counties = _county_codes(n_counties)
    cx = (np.arange(n_counties) % side) * county_spacing_km + rng.normal(
        0, 6, n_counties
    )
    cy = (np.arange(n_counties) // side) * county_spacing_km + rng.normal(
        0, 6, n_counties
    )
    mix = rng.dirichlet(np.full(len(INDUSTRIES), 0.35), size=n_counties)

    # Villages: township clusters inside counties.
    v_county = np.sort(rng.integers(0, n_counties, n_villages))
    v_town = rng.integers(0, 12, n_villages)
    town_dx = rng.normal(0, 12, (n_counties, 12))
    town_dy = rng.normal(0, 12, (n_counties, 12))
    vx = cx[v_county] + town_dx[v_county, v_town] + rng.normal(0, 3, n_villages)
    vy = cy[v_county] + town_dy[v_county, v_town] + rng.normal(0, 3, n_villages)
    v_lon, v_lat = _offsets_to_lonlat(vx, vy)
    v_missing = rng.random(n_villages) < missing_coords
    status = rng.random(n_villages)
    villages: list[Village] = []
    for i in range(n_villages):
        c = int(v_county[i])
        k = int(rng.integers(1, 4))
        inds = rng.choice(len(INDUSTRIES), size=k, replace=False, p=mix[c])
        needs = tuple(
            Need(
                INDUSTRIES[int(j)],
                weight=float(rng.choice([1.0, 1.0, 1.5, 2.0])) if r else 2.0,
                primary=r == 0,
            )
            for r, j in enumerate(inds)
        )
        township = f"{counties[c]}{int(v_town[i]) + 1:03d}"
        villages.append(
            Village(
                id=f"{township}{i % 1000:03d}",
                county=counties[c],
                township=township,
                lon=None if v_missing[i] else round(float(v_lon[i]), 5),
                lat=None if v_missing[i] else round(float(v_lat[i]), 5),
                needs=needs,
                poverty_alleviated=bool(status[i] < 0.08),
                designated_support=bool(0.08 <= status[i] < 0.12),
                three_areas=bool(0.12 <= status[i] < 0.15),
                excluded=bool(status[i] > 0.995),
                service_days=float(rng.choice([20.0, 25.0, 30.0])),
            )
        )
    villages = _unique_ids(villages)

    # Specialists: near county seats, expertise following the home county mix.
    s_county = rng.integers(0, n_counties, n_specialists)
    sx = cx[s_county] + rng.normal(0, 10, n_specialists)
    sy = cy[s_county] + rng.normal(0, 10, n_specialists)
    s_lon, s_lat = _offsets_to_lonlat(sx, sy)
    s_missing = rng.random(n_specialists) < missing_coords
    kind_draw = rng.random(n_specialists)
    specialists: list[Specialist] = []
    for i in range(n_specialists):
        c = int(s_county[i])
        k = int(rng.choice([1, 2, 2, 3]))
        p = 0.6 * mix[c] + 0.4 / len(INDUSTRIES)
        inds = rng.choice(len(INDUSTRIES), size=k, replace=False, p=p / p.sum())
        kind = (
            "team"
            if kind_draw[i] < 0.03
            else "legal_person"
            if kind_draw[i] < 0.05
            else "individual"
        )
        cap = (
            int(rng.choice([1, 2, 2, 2, 2, 2, 3, 4]))
            if kind == "individual"
            else int(rng.integers(3, 5))
        )
        grade_draw = rng.random()
        specialists.append(
            Specialist(
                id=f"S{i:06d}",
                county=counties[c],
                township=f"{counties[c]}{int(rng.integers(1, 13)):03d}",
                lon=None if s_missing[i] else round(float(s_lon[i]), 5),
                lat=None if s_missing[i] else round(float(s_lat[i]), 5),
                expertise={INDUSTRIES[int(j)]: int(rng.integers(1, 4)) for j in inds},
                capacity=cap,
                days_available=float(rng.integers(60, 151)),
                max_distance_km=float(rng.integers(50, 121)),
                kind=kind,
                three_areas_programme=bool(
                    kind == "individual" and rng.random() < 0.04
                ),
                active=bool(rng.random() > 0.03),
                grade=None
                if grade_draw < 0.3
                else "不合格"
                if grade_draw < 0.32
                else str(rng.choice(["优秀", "良好", "合格"])),
            )
        )
    specialists = _with_team_members(specialists, rng)
    previous = _previous_pairs(specialists, villages, rng)
    base = params or MatchParams()
    extra: dict[str, object] = {"previous": previous, "seed": seed}
    if with_rules:
        extra |= {
            "locked": _locks(previous, specialists, villages, rng),
            "forbidden": _forbidden(previous, rng),
            "three_areas_rule": True,
            "team_rule": True,
        }
    return MatchInstance(tuple(specialists), tuple(villages), _replace(base, extra))


def _replace(params: MatchParams, extra: dict[str, object]) -> MatchParams:
    # Fill only fields the caller left at their defaults.
    default = MatchParams()
    changes = {
        k: v for k, v in extra.items() if getattr(params, k) == getattr(default, k)
    }
    return MatchParams(**(params.__dict__ | changes))


def _unique_ids(villages: list[Village]) -> list[Village]:
    # Make 12-digit ids unique inside each township.
    seen: dict[str, int] = {}
    out: list[Village] = []
    for v in villages:
        n = seen.get(v.township, 0) + 1
        seen[v.township] = n
        out.append(Village(**(v.__dict__ | {"id": f"{v.township}{n:03d}"})))
    return out


def _with_team_members(
    specialists: list[Specialist], rng: np.random.Generator
) -> list[Specialist]:
    # Give each team 2-4 individual members from its own county (each person in at most one team).
    by_county: dict[str | None, list[int]] = {}
    for i, s in enumerate(specialists):
        if s.kind == "individual":
            by_county.setdefault(s.county, []).append(i)
    taken: set[int] = set()
    out = list(specialists)
    for i, s in enumerate(specialists):
        if s.kind != "team":
            continue
        pool = [j for j in by_county.get(s.county, []) if j not in taken]
        k = min(len(pool), int(rng.integers(2, 5)))
        chosen = (
            sorted(int(j) for j in rng.choice(pool, size=k, replace=False)) if k else []
        )
        taken.update(chosen)
        expertise = dict(s.expertise)
        for j in chosen:
            for ind, p in specialists[j].expertise.items():
                expertise[ind] = max(expertise.get(ind, 0), p)
        out[i] = Specialist(
            **(
                s.__dict__
                | {
                    "members": tuple(specialists[j].id for j in chosen),
                    "expertise": expertise,
                }
            )
        )
    return out


def _previous_pairs(
    specialists: list[Specialist], villages: list[Village], rng: np.random.Generator
) -> tuple[PreviousPair, ...]:
    # Last season: ~60% of villages had a same-county specialist with their primary industry.
    by_key: dict[tuple[str | None, str], list[str]] = {}
    for s in specialists:
        for ind in s.expertise:
            by_key.setdefault((s.county, ind), []).append(s.id)
    grades = ["优秀", "良好", "合格", "不合格"]
    out: list[PreviousPair] = []
    for v in villages:
        pool = by_key.get((v.county, v.primary_industry() or ""), [])
        if pool and rng.random() < 0.6:
            sid = pool[int(rng.integers(0, len(pool)))]
            out.append(
                PreviousPair(
                    sid, v.id, grades[int(rng.choice(4, p=[0.2, 0.4, 0.3, 0.1]))]
                )
            )
    return tuple(out)


def _locks(
    previous: tuple[PreviousPair, ...],
    specialists: list[Specialist],
    villages: list[Village],
    rng: np.random.Generator,
) -> tuple[tuple[str, str], ...]:
    # A handful of consistent locks: previous pairs of healthy individuals, one per specialist/village.
    ok_s = {
        s.id
        for s in specialists
        if s.active and s.grade != "不合格" and s.kind == "individual"
    }
    ok_v = {v.id for v in villages if not v.excluded}
    n = max(1, len(previous) // 200)
    picks = rng.permutation(len(previous))
    out: list[tuple[str, str]] = []
    used: set[str] = set()
    for i in picks:
        p = previous[int(i)]
        if (
            p.grade != "不合格"
            and p.specialist_id in ok_s
            and p.village_id in ok_v
            and p.specialist_id not in used
            and p.village_id not in used
        ):
            out.append((p.specialist_id, p.village_id))
            used.update((p.specialist_id, p.village_id))
        if len(out) >= n:
            break
    return tuple(sorted(out))


def _forbidden(
    previous: tuple[PreviousPair, ...], rng: np.random.Generator
) -> tuple[tuple[str, str], ...]:
    # Forbid a handful of last season's 不合格 pairs.
    bad = [(p.specialist_id, p.village_id) for p in previous if p.grade == "不合格"]
    k = min(len(bad), max(1, len(previous) // 300))
    return (
        tuple(sorted(bad[int(i)] for i in rng.choice(len(bad), size=k, replace=False)))
        if bad
        else ()
    )
