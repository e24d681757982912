"""A seeded, synthetic catalogue on top of the real 六安市 divisions.

Real: county, township and village codes, names and kinds, and township/county centre points
(see data/SOURCES.md). Synthetic, drawn from `random.Random(seed)` so a seed always gives the same rows:

* village coordinates: villages have none in the source, so each gets its township's point (its
  county's where the township has none) moved by a few kilometres in a random direction;
* village flags (脱贫村, 定点帮扶, 三区, 重点村) and industry needs, with mixes that follow the
  terrain and the county's known industries (大别山 tea, herbs, fungi and forestry in 金寨/霍山 and the
  舒城 mountain townships; grain, oil crops, pigs and poultry on the 霍邱/叶集/舒城 plains, fish in the
  霍邱 lake townships by 城西湖/城东湖; vegetables, cattle and e-commerce round the city);
* every specialist, team and legal person: names come from surname and given-name character lists,
  so no real person is described. Supply follows each county's demand, except for deliberate
  shortages (`SUPPLY_FACTOR` < 1: medicinal herbs, rural tourism, aquaculture) so matching is not trivial.
"""

import math
import random
from collections import Counter, defaultdict
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from app.demo import regions
from app.demo.tables import (
    BRANDS,
    CITY_ORGS,
    COUNTY_BOOST,
    GENERIC,
    GIVEN,
    GRADES,
    HILL_TOWNSHIPS,
    INDUSTRIES,
    LAKE_TOWNSHIPS,
    LEGAL_WORD,
    MOUNTAIN_COUNTIES,
    MOUNTAIN_TOWNSHIPS,
    PROVINCIAL_ORGS,
    RELATED,
    SHUCHENG,
    SUPPLY_FACTOR,
    SURNAMES,
    TERRAIN_MIX,
    TITLES,
    Mix,
)

DEFAULT_SEED = 2026
N_SPECIALISTS = 1500
N_TEAMS = 40
N_LEGAL = 30
PROVINCIAL_SHARE = 0.10



@dataclass
class Catalogue:
    """The generated rows, in the shapes `VillageIn` and `SpecialistIn` accept."""

    seed: int
    villages: list[dict[str, Any]] = field(default_factory=list)
    specialists: list[dict[str, Any]] = field(default_factory=list)


def _pick(rng: random.Random, weighted: Mapping[Any, float] | tuple[tuple[Any, float], ...]) -> Any:
    items = list(weighted.items()) if isinstance(weighted, dict) else list(weighted)
    return rng.choices([k for k, _ in items], weights=[w for _, w in items])[0]


def _jitter(rng: random.Random, lon: float, lat: float, km: float) -> tuple[float, float]:
    """A point uniformly within `km` of (lon, lat), rounded to ~0.1 m."""
    r = km * math.sqrt(rng.random())
    a = rng.random() * 2 * math.pi
    dlat = r * math.sin(a) / 111.0
    dlon = r * math.cos(a) / (111.0 * math.cos(math.radians(lat)))
    return round(lon + dlon, 6), round(lat + dlat, 6)


def _located(rng: random.Random, code: str, km: float) -> dict[str, Any]:
    """Coordinates near the unit's point (the county's if the township has none); the fallback gets twice the spread."""
    p = regions.points().get(code)
    spread = km
    if p is None:
        p, spread = regions.points().get(code[:6]), km * 2
    if p is None:
        return {"lon": None, "lat": None, "datum": None}
    lon, lat = _jitter(rng, p.lon, p.lat, spread) if spread > 0 else (p.lon, p.lat)
    return {"lon": lon, "lat": lat, "datum": regions.DATUM}


def terrain(township_code: str, township_name: str) -> str:
    """mountain | hill | lake | plain | urban for a township (urban: 街道 and development zones)."""
    if township_name.endswith("街道") or "开发区" in township_name:
        return "urban"
    if township_code[:6] in MOUNTAIN_COUNTIES or township_code in MOUNTAIN_TOWNSHIPS:
        return "mountain"
    if township_code in HILL_TOWNSHIPS:
        return "hill"
    if township_code in LAKE_TOWNSHIPS:
        return "lake"
    return "plain"


def need_mix(county_code: str, kind: str) -> Mix:
    """Industry weights for a village of this county and terrain kind."""
    mix = {k: float(v) for k, v in GENERIC.items()}
    for k, v in TERRAIN_MIX[kind].items():
        mix[k] = mix.get(k, 0.0) + v
    for k, f in COUNTY_BOOST.get(county_code, {}).items():
        if k in mix:
            mix[k] *= f
    return mix


def _needs(rng: random.Random, mix: Mix) -> list[dict[str, Any]]:
    n = _pick(rng, ((1, 25), (2, 45), (3, 30)))
    chosen: list[str] = []
    pool = dict(mix)
    for _ in range(n):
        code = _pick(rng, pool)
        chosen.append(code)
        del pool[code]
    weights = [1.0] + sorted((round(rng.uniform(0.3, 0.8), 2) for _ in chosen[1:]), reverse=True)
    return [{"industry": c, "weight": w, "primary": i == 0} for i, (c, w) in enumerate(zip(chosen, weights, strict=True))]


def generate_villages(rng: random.Random) -> list[dict[str, Any]]:
    """The 1,970 real village-level units with synthetic coordinates, flags and needs."""
    out = []
    for v in regions.villages():
        kind = v["kind"]
        tcode, county = v["township_code"], v["county_code"]
        land = terrain(tcode, v["township_name"])
        rural = kind == "村委会" and land != "urban"
        mountain = land == "mountain"
        three_areas_p = 0.0
        if rural and (county in MOUNTAIN_COUNTIES or (county == SHUCHENG and mountain)):
            three_areas_p = 0.7
        elif rural and mountain:
            three_areas_p = 0.15
        elif rural:
            three_areas_p = 0.01
        poverty_p = (0.18 if county in MOUNTAIN_COUNTIES else 0.12 if mountain else 0.05) if rural else 0.0
        poverty = rng.random() < poverty_p
        key = rural and rng.random() < (0.10 if poverty else 0.015)
        designated = rural and rng.random() < (0.08 if poverty else 0.01)
        three_areas = rng.random() < three_areas_p
        mix = need_mix(county, "urban" if kind in ("社区", "居委会") else land)
        out.append({
            "code": v["code"], "name": v["name"], "kind": kind, "township_code": tcode,
            "poverty_alleviated": poverty, "designated_support": designated, "three_areas": three_areas,
            "key_village": key, **_located(rng, tcode, 3.0), "needs": _needs(rng, mix),
        })
    return out


def demand(villages: list[dict[str, Any]], *, kinds: tuple[str, ...] = ("村委会",)) -> dict[str, Counter[str]]:
    """Need weight per county and industry over villages of the given kinds (by default those the API matches)."""
    out: dict[str, Counter[str]] = defaultdict(Counter)
    for v in villages:
        if v["kind"] in kinds:
            for n in v["needs"]:
                out[v["code"][:6]][n["industry"]] += n["weight"]
    return out


def supply(specialists: list[dict[str, Any]]) -> dict[str, Counter[str]]:
    """Active capacity per home county and industry (each expertise counts the full capacity; team members count
    both alone and in their team, so this is an upper bound)."""
    out: dict[str, Counter[str]] = defaultdict(Counter)
    for s in specialists:
        if s["active"]:
            for e in s["expertise"]:
                out[s["home_region_code"][:6]][e["industry"]] += s["capacity"]
    return out


class _Names:
    def __init__(self, rng: random.Random) -> None:
        self.rng = rng

    def person(self) -> str:
        given = "".join(self.rng.choice(GIVEN) for _ in range(self.rng.choices((1, 2), weights=(3, 7))[0]))
        return self.rng.choice(SURNAMES) + given


def _expertise(rng: random.Random, first: str, extra_mix: Mix, *, broad: bool = False) -> list[dict[str, Any]]:
    n = _pick(rng, ((2, 50), (3, 50))) if broad else _pick(rng, ((1, 35), (2, 45), (3, 20)))
    chosen = [first]
    while len(chosen) < n:
        pool = [c for c in RELATED[first] if c not in chosen] if rng.random() < 0.7 else []
        code = rng.choice(pool) if pool else _pick(rng, {k: v for k, v in extra_mix.items() if k not in chosen})
        chosen.append(code)
    prof = [3 if rng.random() < (0.8 if broad else 0.6) else 2] + [rng.choice((1, 2, 2, 3)) for _ in chosen[1:]]
    return [{"industry": c, "proficiency": p} for c, p in zip(chosen, prof, strict=True)]


def _common(rng: random.Random, *, three_areas_p: float) -> dict[str, Any]:
    return {
        "capacity": _pick(rng, ((2, 70), (1, 10), (3, 15), (4, 5))),
        "service_days": rng.randint(60, 150),
        "max_distance_km": float(rng.randrange(50, 151, 10)),
        "three_areas_programme": rng.random() < three_areas_p,
        "programme_level": _pick(rng, (("county", 60), ("city", 30), ("provincial", 10))),
        "active": rng.random() < 0.97,
        "grade": _pick(rng, GRADES),
        "members": [],
        "leader": None,
    }


def generate_specialists(rng: random.Random, villages: list[dict[str, Any]], *,
                         n_total: int = N_SPECIALISTS, n_teams: int = N_TEAMS,
                         n_legal: int = N_LEGAL) -> list[dict[str, Any]]:
    """Individuals, then legal persons, then teams of individuals; codes TP00001... in that order."""
    names = _Names(rng)
    need = demand(villages, kinds=("村委会", "居委会", "社区", "虚拟"))
    counties = sorted(need)
    county_names = {c.code: c.name for c in regions.counties()}
    township_names = {t.code: t.name for t in regions.townships()}
    townships_of: dict[str, Counter[str]] = defaultdict(Counter)
    for v in villages:
        townships_of[v["code"][:6]][v["township_code"]] += 1
    county_weight = {c: sum(need[c].values()) for c in counties}
    supply_mix = {c: {k: v * SUPPLY_FACTOR.get(k, 1.0) for k, v in need[c].items()} for c in counties}
    city_mix: Mix = Counter()  # type: ignore[assignment]  # a Counter of float weights; typeshed types Counter values as int
    for c in counties:
        city_mix.update(supply_mix[c])
    mountain_share = {c: 0.35 if c in MOUNTAIN_COUNTIES else 0.2 if c == SHUCHENG else 0.05 for c in counties}

    n_individuals = n_total - n_teams - n_legal
    people: list[dict[str, Any]] = []
    for _ in range(n_individuals):
        code = f"TP{len(people) + 1:05d}"
        if rng.random() < PROVINCIAL_SHARE:
            org, org_type, region, lon, lat = rng.choice(PROVINCIAL_ORGS)
            jlon, jlat = _jitter(rng, lon, lat, 2.0)
            loc = {"lon": jlon, "lat": jlat, "datum": regions.DATUM}
            row = {
                "code": code, "name": names.person(), "kind": "individual", "org_name": org, "org_type": org_type,
                "org_region_code": region,
                "title_level": _pick(rng, (("senior", 40), ("deputy_senior", 40), ("intermediate", 20))),
                "home_region_code": region, **loc,
                "expertise": _expertise(rng, _pick(rng, city_mix), city_mix, broad=True),
                **_common(rng, three_areas_p=0.2),
            }
            row["max_distance_km"] = float(rng.randrange(120, 151, 10))
            row["programme_level"] = "provincial"
        else:
            home_county = _pick(rng, county_weight)
            county_level = rng.random() < 0.25
            township = _pick(rng, townships_of[home_county])
            home = home_county if county_level else township
            org_pick = rng.random()
            if org_pick < 0.45:
                org_type = "extension_station"
                org = (f"{county_names[home_county]}农业技术推广中心" if county_level
                       else f"{county_names[home_county]}{township_names[township]}农业综合服务站")
                org_region = home
            elif org_pick < 0.60:
                org, org_type = rng.choice(CITY_ORGS)
                org_region = "341500"
            elif org_pick < 0.85:
                org_type = "enterprise"
                org = f"六安市{rng.choice(BRANDS)}农业科技有限公司"
                org_region = home_county
            else:
                org_type = "other"
                org = f"{county_names[home_county]}{rng.choice(('供销合作社', '农民专业合作社联合社', '林业站', '水产站'))}"
                org_region = home_county
            row = {
                "code": code, "name": names.person(), "kind": "individual", "org_name": org, "org_type": org_type,
                "org_region_code": org_region, "title_level": _pick(rng, TITLES), "home_region_code": home,
                **_located(rng, home, 0.0 if county_level else 1.5),
                "expertise": _expertise(rng, _pick(rng, supply_mix[home_county]), supply_mix[home_county]),
                **_common(rng, three_areas_p=mountain_share[home_county]),
            }
            if row["programme_level"] == "provincial":
                row["programme_level"] = "city"
        people.append(row)

    legal: list[dict[str, Any]] = []
    used_names: set[str] = set()
    for _ in range(n_legal):
        county = _pick(rng, county_weight)
        industry = _pick(rng, {k: v for k, v in supply_mix[county].items() if k in LEGAL_WORD})
        township = _pick(rng, townships_of[county])
        company = rng.random() < 0.5
        while True:
            name = (f"{county_names[county]}{rng.choice(BRANDS)}{LEGAL_WORD[industry]}"
                    f"{'有限公司' if company else '专业合作社'}")
            if name not in used_names:
                used_names.add(name)
                break
        row = {
            "code": f"TP{n_individuals + len(legal) + 1:05d}", "name": name, "kind": "legal_person",
            "org_name": name, "org_type": "enterprise" if company else "other", "org_region_code": county,
            "title_level": "none", "home_region_code": township, **_located(rng, township, 1.5),
            "expertise": _expertise(rng, industry, supply_mix[county]), **_common(rng, three_areas_p=mountain_share[county]),
        }
        row["capacity"] = rng.choice((2, 3, 3, 4))
        row["programme_level"] = rng.choice(("county", "city"))
        legal.append(row)

    teams: list[dict[str, Any]] = []
    taken: set[str] = set()
    team_names: set[str] = set()
    rank = {"senior": 0, "deputy_senior": 1, "intermediate": 2, "junior": 3, "none": 4}
    for _ in range(n_teams):
        county = _pick(rng, county_weight)
        industry = _pick(rng, supply_mix[county])
        pool = [p for p in people if p["code"] not in taken and p["home_region_code"][:6] == county]
        skilled = [p for p in pool if any(e["industry"] == industry for e in p["expertise"])]
        size = rng.randint(2, 5)
        members = rng.sample(skilled, min(size, len(skilled))) if len(skilled) >= 2 else []
        rest = [p for p in pool if p not in members]
        members += rng.sample(rest, min(size - len(members), len(rest)))
        if len(members) < 2:
            continue
        taken.update(m["code"] for m in members)
        members.sort(key=lambda m: (rank[m["title_level"]], m["code"]))
        leader = members[0]
        base = f"{county_names[county]}{INDUSTRIES[industry]}科技特派员服务团队"
        name = base
        i = 2
        while name in team_names:
            name, i = f"{base}（{i}）", i + 1
        team_names.add(name)
        exp: dict[str, int] = {industry: 3}
        for m in members:
            for e in m["expertise"]:
                exp[e["industry"]] = max(exp.get(e["industry"], 0), e["proficiency"])
        ordered = [industry] + sorted((k for k in exp if k != industry), key=lambda k: (-exp[k], k))
        row = {
            "code": f"TP{n_individuals + n_legal + len(teams) + 1:05d}", "name": name, "kind": "team",
            "org_name": leader["org_name"], "org_type": leader["org_type"], "org_region_code": leader["org_region_code"],
            "title_level": leader["title_level"], "home_region_code": leader["home_region_code"],
            "lon": leader["lon"], "lat": leader["lat"], "datum": leader["datum"],
            "expertise": [{"industry": k, "proficiency": exp[k]} for k in ordered[:3]],
            **_common(rng, three_areas_p=mountain_share[county]),
        }
        row.update(capacity=rng.choice((3, 3, 4)), members=[m["code"] for m in members], leader=leader["code"],
                   active=True)
        teams.append(row)
    return people + legal + teams


def generate(seed: int = DEFAULT_SEED) -> Catalogue:
    """Villages and specialists for a seed; the same seed always gives the same rows."""
    rng = random.Random(seed)
    villages = generate_villages(rng)
    return Catalogue(seed=seed, villages=villages, specialists=generate_specialists(rng, villages))
