"""Vectorised construction of eligible (specialist, village) pairs.

Specialists and villages are sorted by id and turned into numpy arrays. Pairs
are built per industry group (villages whose needs the industry can serve x
specialists holding it), in blocks of about a million, with boolean masks for
every eligibility rule; no Python loop ever runs over all pairs. Overrides and
locks (few) are evaluated afterwards as an explicit list of pairs.

Distances: haversine km between home and village; when either side lacks
coordinates the distance is estimated from the division hierarchy
(`km_same_township` 8 km, `km_same_county` 35 km, `km_other_county` 90 km by
default, see MatchParams). Travel days per pair:
`visits_per_season * ceil(distance_km / km_per_travel_day)`.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from solver.model import MatchInstance, MatchParams, keeps_continuity
from solver.pairs import keyed, lookup, merged_overrides
from solver.spatial import spatial_blocks

EARTH_RADIUS_KM = 6371.0088
BLOCK = 1 << 20


@dataclass
class Prepared:
    """Array form of an instance: entities sorted by id, pairs sorted by (specialist, village)."""

    params: MatchParams
    spec_ids: list[str]
    vil_ids: list[str]
    industries: list[str]
    s_lon: np.ndarray
    s_lat: np.ndarray
    s_county: np.ndarray
    s_town: np.ndarray
    s_radius: np.ndarray
    s_days: np.ndarray
    s_cap: np.ndarray
    s_ok: np.ndarray  # active and not graded 不合格
    s_tap: np.ndarray  # three-areas programme
    prof: np.ndarray  # specialists x industries, int8
    v_lon: np.ndarray
    v_lat: np.ndarray
    v_county: np.ndarray
    v_town: np.ndarray
    v_three: np.ndarray
    v_excluded: np.ndarray
    v_service: np.ndarray
    v_primary: np.ndarray  # industry index or -1
    v_req: np.ndarray
    v_weight: np.ndarray  # coverage weight per unit
    need_w: np.ndarray  # villages x industries, float
    ps: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int32))
    pv: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int32))
    score: np.ndarray = field(default_factory=lambda: np.zeros(0))
    dist: np.ndarray = field(default_factory=lambda: np.zeros(0))
    est: np.ndarray = field(default_factory=lambda: np.zeros(0, bool))
    travel_days: np.ndarray = field(default_factory=lambda: np.zeros(0))
    days: np.ndarray = field(default_factory=lambda: np.zeros(0))
    cont: np.ndarray = field(default_factory=lambda: np.zeros(0, bool))
    locked: np.ndarray = field(default_factory=lambda: np.zeros(0, bool))
    county_names: dict[int, str] = field(default_factory=dict)

    def key(self, s: np.ndarray, v: np.ndarray) -> np.ndarray:
        return s.astype(np.int64) * len(self.vil_ids) + v.astype(np.int64)

    def pair_keys(self) -> np.ndarray:
        return self.key(self.ps, self.pv)


def sorted_unique(a: np.ndarray) -> np.ndarray:
    """Sorted distinct values (sort-based; faster than hashing for big int arrays)."""
    a = np.sort(a)
    return a[np.r_[True, a[1:] != a[:-1]]] if len(a) else a


def member(sorted_keys: np.ndarray, query: np.ndarray) -> np.ndarray:
    """Boolean mask: which `query` values occur in the sorted array `sorted_keys`."""
    if len(sorted_keys) == 0:
        return np.zeros(len(query), dtype=bool)
    pos = np.minimum(np.searchsorted(sorted_keys, query), len(sorted_keys) - 1)
    return np.asarray(sorted_keys[pos] == query)


def _codes(values: list[str | None], table: dict[str, int]) -> np.ndarray:
    # Map division codes to small ints (-1 = unknown).
    return np.array(
        [table.setdefault(x, len(table)) if x else -1 for x in values], dtype=np.int64
    )


def _coord(values: list[float | None]) -> np.ndarray:
    return np.array(
        [np.nan if x is None else float(x) for x in values], dtype=np.float64
    )


def prepare(instance: MatchInstance) -> Prepared:
    """Sort entities by id and build the per-entity arrays (no pairs yet)."""
    p = instance.params
    specs = sorted(instance.specialists, key=lambda s: s.id)
    vils = sorted(instance.villages, key=lambda v: v.id)
    industries = sorted(
        {i for s in specs for i in s.expertise}
        | {n.industry for v in vils for n in v.needs}
    )
    ind = {x: k for k, x in enumerate(industries)}
    prof = np.zeros((len(specs), len(industries)), dtype=np.int8)
    for r, s in enumerate(specs):
        for code, level in s.expertise.items():
            prof[r, ind[code]] = max(0, min(127, int(level)))
    need_w = np.zeros((len(vils), len(industries)), dtype=np.float64)
    for r, v in enumerate(vils):
        for n in v.needs:
            need_w[r, ind[n.industry]] += float(n.weight)
    counties: dict[str, int] = {}
    towns: dict[str, int] = {}
    priority = np.array([v.priority for v in vils], dtype=bool)
    excluded = np.array([v.excluded for v in vils], dtype=bool)
    req = np.where(priority, p.priority_required, p.required).astype(np.int64)
    prep = Prepared(
        params=p,
        spec_ids=[s.id for s in specs],
        vil_ids=[v.id for v in vils],
        industries=industries,
        s_lon=_coord([s.lon for s in specs]),
        s_lat=_coord([s.lat for s in specs]),
        s_county=_codes([s.county for s in specs], counties),
        s_town=_codes([s.township for s in specs], towns),
        s_radius=np.array(
            [
                np.inf
                if s.max_distance_km is None or not p.use_radius
                else s.max_distance_km
                for s in specs
            ]
        ),
        s_days=np.array(
            [
                np.inf
                if s.days_available is None or not p.use_days_budget
                else s.days_available
                for s in specs
            ]
        ),
        s_cap=np.array([max(0, s.capacity) for s in specs], dtype=np.int64),
        s_ok=np.array([s.active and s.grade != "不合格" for s in specs], dtype=bool),
        s_tap=np.array([s.three_areas_programme for s in specs], dtype=bool),
        prof=prof,
        v_lon=_coord([v.lon for v in vils]),
        v_lat=_coord([v.lat for v in vils]),
        v_county=_codes([v.county for v in vils], counties),
        v_town=_codes([v.township for v in vils], towns),
        v_three=np.array([v.three_areas for v in vils], dtype=bool),
        v_excluded=excluded,
        v_service=np.array([float(v.service_days) for v in vils]),
        v_primary=np.array(
            [ind.get(v.primary_industry() or "", -1) for v in vils], dtype=np.int64
        ),
        v_req=np.where(excluded, 0, np.maximum(req, 0)),
        v_weight=np.where(priority, max(1, int(p.priority_weight)), 1).astype(np.int64),
        need_w=need_w,
    )
    prep.county_names = {k: c for c, k in counties.items()}
    return prep


def distances(
    prep: Prepared, s: np.ndarray, v: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Km between aligned specialist/village index arrays, and whether each is estimated."""
    p = prep.params
    lat1, lat2 = np.radians(prep.s_lat[s]), np.radians(prep.v_lat[v])
    dlon = np.radians(prep.v_lon[v] - prep.s_lon[s])
    a = (
        np.sin((lat2 - lat1) / 2) ** 2
        + np.cos(lat1) * np.cos(lat2) * np.sin(dlon / 2) ** 2
    )
    km = 2 * EARTH_RADIUS_KM * np.arcsin(np.sqrt(np.clip(a, 0.0, 1.0)))
    est = np.isnan(km)
    if est.any():
        same_town = (prep.s_town[s] == prep.v_town[v]) & (prep.s_town[s] >= 0)
        same_county = (prep.s_county[s] == prep.v_county[v]) & (prep.s_county[s] >= 0)
        guess = np.where(
            same_town,
            p.km_same_township,
            np.where(same_county, p.km_same_county, p.km_other_county),
        )
        km = np.where(est, guess, km)
    return km, est


def travel_days(prep: Prepared, km: np.ndarray) -> np.ndarray:
    """Season travel days of a pair: visits_per_season * ceil(km / km_per_travel_day)."""
    p = prep.params
    return p.visits_per_season * np.ceil(
        np.round(km, 6) / max(p.km_per_travel_day, 1e-9)
    )


def expertise_ok(prep: Prepared, s: np.ndarray, v: np.ndarray) -> np.ndarray:
    """Expertise rule: primary need held / any need held / no rule."""
    rule = prep.params.expertise_rule
    if rule == "none":
        return np.ones(len(s), dtype=bool)
    if rule == "any":
        return np.asarray(((prep.prof[s] > 0) & (prep.need_w[v] > 0)).any(axis=1))
    prim = prep.v_primary[v]
    return np.asarray((prim >= 0) & (prep.prof[s, np.maximum(prim, 0)] > 0))


def rule_masks(
    prep: Prepared, s: np.ndarray, v: np.ndarray, km: np.ndarray, days: np.ndarray
) -> dict[str, np.ndarray]:
    """Every per-pair eligibility rule except expertise, forbidden and overrides (True = passes)."""
    p = prep.params
    three = np.ones(len(s), dtype=bool)
    if p.three_areas_rule:
        tap = prep.s_tap[s]
        outside = prep.v_county[v] != prep.s_county[s]
        three = ~tap | (prep.v_three[v] & outside)
    return {
        "inactive": prep.s_ok[s] & (prep.s_cap[s] > 0),
        "excluded": ~prep.v_excluded[v],
        "radius": km <= prep.s_radius[s] + 1e-9,
        "three_areas": three,
        "days": days <= prep.s_days[s] + 1e-9,
    }


def score_of(prep: Prepared, s: np.ndarray, v: np.ndarray) -> np.ndarray:
    """Match score: sum over the village's needs of weight x proficiency."""
    out = np.zeros(len(s), dtype=np.float64)
    for k in range(len(prep.industries)):
        out += prep.need_w[v, k] * prep.prof[s, k]
    return out


def _groups(prep: Prepared) -> list[tuple[np.ndarray, np.ndarray]]:
    # (specialist indices, village indices) per industry group, per the expertise rule.
    usable_s = np.flatnonzero(prep.s_ok & (prep.s_cap > 0))
    usable_v = np.flatnonzero(~prep.v_excluded)
    rule = prep.params.expertise_rule
    if rule == "none":
        return [(usable_s, usable_v)]
    out = []
    for k in range(len(prep.industries)):
        s = usable_s[prep.prof[usable_s, k] > 0]
        v = usable_v[prep.v_primary[usable_v] == k] if rule == "primary" else usable_v[prep.need_w[usable_v, k] > 0]
        if len(s) and len(v):
            out.append((s, v))
    return out


def _block_pairs(
    prep: Prepared, s: np.ndarray, v: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    # Eligible (s, v) among aligned arrays by the geometric/day/programme rules.
    km, _ = distances(prep, s, v)
    days = prep.v_service[v] + travel_days(prep, km)
    masks = rule_masks(prep, s, v, km, days)
    keep = masks["radius"] & masks["three_areas"] & masks["days"]
    return s[keep], v[keep]


def build_pairs(prep: Prepared) -> None:
    """Fill prep.ps/pv and per-pair data with all eligible pairs (plus overrides and locks)."""
    p = prep.params
    s_parts: list[np.ndarray] = []
    v_parts: list[np.ndarray] = []
    for s_grp0, v_grp0 in _groups(prep):
        for s_grp, v_grp in spatial_blocks(prep, s_grp0, v_grp0):
            chunk = max(1, BLOCK // max(1, len(s_grp)))
            for start in range(0, len(v_grp), chunk):
                vv = v_grp[start : start + chunk]
                a, b = _block_pairs(
                    prep, np.repeat(s_grp, len(vv)), np.tile(vv, len(s_grp))
                )
                s_parts.append(a)
                v_parts.append(b)
    ps = np.concatenate(s_parts) if s_parts else np.zeros(0, np.int64)
    pv = np.concatenate(v_parts) if v_parts else np.zeros(0, np.int64)
    keys = sorted_unique(prep.key(ps, pv))
    s_index = {x: i for i, x in enumerate(prep.spec_ids)}
    v_index = {x: i for i, x in enumerate(prep.vil_ids)}

    def pair_keys(pairs: list[tuple[str, str]]) -> np.ndarray:
        ok = [
            (s_index[a], v_index[b]) for a, b in pairs if a in s_index and b in v_index
        ]
        arr = np.array(ok, dtype=np.int64).reshape(-1, 2)
        return prep.key(arr[:, 0], arr[:, 1])

    o_s, o_v, o_score, o_days = merged_overrides(p, s_index, v_index)
    over_keys, over_score, over_days = keyed(prep.key(o_s, o_v), o_score, o_days)
    lock_keys = pair_keys(sorted(set(p.locked)))
    forbid_keys = pair_keys(sorted(set(p.forbidden)))
    if p.restrict_to_overrides:
        keys = np.zeros(0, np.int64)
    keys = keys[
        ~member(
            sorted_unique(np.concatenate([over_keys, lock_keys, forbid_keys])), keys
        )
    ]

    # Overrides: re-checked one by one with their own days (expertise waived when a score is given).
    special = np.unique(np.concatenate([over_keys, lock_keys]))
    sp_s, sp_v = special // len(prep.vil_ids), special % len(prep.vil_ids)
    km, _ = distances(prep, sp_s, sp_v)
    sp_days = prep.v_service[sp_v] + travel_days(prep, km)
    pos, hit = lookup(over_keys, special)
    sp_score_given = np.zeros(len(special), dtype=bool)
    if len(over_keys):
        days_given = hit & ~np.isnan(over_days[pos])
        sp_days = np.where(days_given, over_days[pos], sp_days)
        sp_score_given = hit & ~np.isnan(over_score[pos])
    masks = rule_masks(prep, sp_s, sp_v, km, sp_days)
    ok = np.logical_and.reduce(list(masks.values())) & (
        expertise_ok(prep, sp_s, sp_v) | sp_score_given
    )
    ok &= ~np.isin(special, forbid_keys)
    ok |= np.isin(
        special, lock_keys
    )  # locks bypass per-pair rules (contradictions are checked in solve)
    keys = np.sort(np.concatenate([keys, special[ok]]))

    prep.ps = (keys // len(prep.vil_ids)).astype(np.int32)
    prep.pv = (keys % len(prep.vil_ids)).astype(np.int32)
    _fill_pair_data(prep, over_keys, over_score, over_days)


def _fill_pair_data(prep: Prepared, over_keys: np.ndarray, over_score: np.ndarray, over_days: np.ndarray) -> None:
    # Per-pair distance, days, score (with overrides), continuity and lock flags.
    p = prep.params
    s, v = prep.ps.astype(np.int64), prep.pv.astype(np.int64)
    prep.dist, prep.est = distances(prep, s, v)
    prep.travel_days = travel_days(prep, prep.dist)
    prep.days = prep.v_service[v] + prep.travel_days
    prep.score = score_of(prep, s, v)
    keys = prep.pair_keys()
    s_index = {x: i for i, x in enumerate(prep.spec_ids)}
    v_index = {x: i for i, x in enumerate(prep.vil_ids)}
    pos, hit = lookup(keys, over_keys)
    with_score = hit & ~np.isnan(over_score)
    prep.score[pos[with_score]] = over_score[with_score]
    with_days = hit & ~np.isnan(over_days)
    prep.days[pos[with_days]] = over_days[with_days]
    prev = [(q.specialist_id, q.village_id) for q in p.previous if keeps_continuity(q.grade, p.continuity_min_grade)]
    prev_keys = np.array(
        [
            prep.key(np.array([s_index[a]]), np.array([v_index[b]]))[0]
            for a, b in prev
            if a in s_index and b in v_index
        ],
        dtype=np.int64,
    )
    prep.cont = member(sorted_unique(prev_keys), keys)
    lock = [
        (s_index[a], v_index[b])
        for a, b in set(p.locked)
        if a in s_index and b in v_index
    ]
    lock_keys = np.array(
        [prep.key(np.array([a]), np.array([b]))[0] for a, b in lock], dtype=np.int64
    )
    prep.locked = member(sorted_unique(lock_keys), keys)
