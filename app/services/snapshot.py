"""Freeze a run's input: read the catalogue into a solver instance, serialise it and hash it; and the display
names (villages, regions, specialists, industries) as they were, for the run's name list and change report."""

import gzip
import hashlib
import json
from collections import defaultdict
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.services.industries import industry_codes_by_id
from models import (
    County,
    Industry,
    Specialist,
    SpecialistExpertise,
    TeamMember,
    Township,
    Village,
    VillageNeed,
)
from solver import MatchInstance, MatchParams, Need
from solver import Specialist as SolverSpecialist
from solver import Village as SolverVillage


def load_villages(session: Session, *, counties: list[str]) -> list[SolverVillage]:
    """Villages in scope (all counties when the list is empty), with their needs in rank order."""
    industries = industry_codes_by_id(session)
    stmt = select(Village.id, Village.code, Village.lon, Village.lat, Village.poverty_alleviated,
                  Village.designated_support, Village.three_areas, Village.key_village, Village.excluded
                  ).order_by(Village.code)
    if counties:
        stmt = stmt.where(Village.county_id.in_(select(County.id).where(County.code.in_(counties))))
    rows = session.execute(stmt).all()
    needs: dict[int, list[Need]] = defaultdict(list)
    for village_id, industry_id, weight, primary in session.execute(
        select(VillageNeed.village_id, VillageNeed.industry_id, VillageNeed.weight, VillageNeed.is_primary)
        .order_by(VillageNeed.village_id, VillageNeed.rank)
    ):
        needs[village_id].append(Need(industry=industries[industry_id], weight=weight, primary=primary))
    return [
        SolverVillage(
            id=v.code, county=v.code[:6], township=v.code[:9], lon=v.lon, lat=v.lat, needs=tuple(needs.get(v.id, ())),
            poverty_alleviated=v.poverty_alleviated, designated_support=v.designated_support,
            three_areas=v.three_areas, key_village=v.key_village, excluded=v.excluded,
        )
        for v in rows
    ]


def load_specialists(session: Session, *, counties: list[str] | None = None) -> list[SolverSpecialist]:
    """Specialists (optionally only those whose home is in the given counties), with expertise and members."""
    industries = industry_codes_by_id(session)
    expertise: dict[int, dict[str, int]] = defaultdict(dict)
    for sid, iid, prof in session.execute(
        select(SpecialistExpertise.specialist_id, SpecialistExpertise.industry_id, SpecialistExpertise.proficiency)
    ):
        expertise[sid][industries[iid]] = prof
    codes = dict(session.execute(select(Specialist.id, Specialist.code)).all())
    members: dict[int, list[str]] = defaultdict(list)
    for team_id, member_id in session.execute(select(TeamMember.team_id, TeamMember.member_id)):
        members[team_id].append(codes[member_id])
    cols = (Specialist.id, Specialist.code, Specialist.home_region_code, Specialist.lon, Specialist.lat,
            Specialist.capacity, Specialist.service_days, Specialist.max_distance_km, Specialist.kind,
            Specialist.three_areas_programme, Specialist.active, Specialist.grade)
    stmt = select(*cols).order_by(Specialist.code)
    if counties:
        stmt = stmt.where(Specialist.home_county_code.in_(counties))
    out = []
    for s in session.execute(stmt):
        home = s.home_region_code or ""
        out.append(SolverSpecialist(
            id=s.code, county=home[:6] or None, township=home[:9] if len(home) >= 9 else None,
            lon=s.lon, lat=s.lat, expertise=dict(sorted(expertise.get(s.id, {}).items())),
            capacity=s.capacity, days_available=s.service_days, max_distance_km=s.max_distance_km,
            kind=s.kind, members=tuple(sorted(members.get(s.id, ()))),
            three_areas_programme=s.three_areas_programme, active=s.active, grade=s.grade,
        ))
    return out


def build_instance(session: Session, *, counties: list[str], specialists_in_scope_only: bool,
                   params: MatchParams) -> MatchInstance:
    """The solver's input for a run, read from the current catalogue."""
    villages = load_villages(session, counties=counties)
    specialists = load_specialists(session, counties=counties if specialists_in_scope_only else None)
    return MatchInstance(specialists=tuple(specialists), villages=tuple(villages), params=params)


def freeze(instance: MatchInstance) -> tuple[bytes, str]:
    """Canonical JSON of the instance, gzip'd, with its sha256 content hash."""
    raw = json.dumps(instance.to_dict(), sort_keys=True, ensure_ascii=False, separators=(",", ":")).encode()
    return gzip.compress(raw, compresslevel=5, mtime=0), hashlib.sha256(raw).hexdigest()


def thaw(data: bytes) -> MatchInstance:
    """The instance back from a frozen snapshot."""
    payload: dict[str, Any] = json.loads(gzip.decompress(data))
    return MatchInstance.from_dict(payload)


def snapshot_names(session: Session, *, instance: MatchInstance) -> dict[str, Any]:
    """Display names of everything the instance names, by kind (a specialist's code may look like a region's):
    `places` (county, township and village code to name; their lengths differ), `specialists` (code to name),
    `orgs` and `expertise` (industry codes) per specialist, and `industries` (code to Chinese name)."""
    villages = {v.id for v in instance.villages}
    counties, townships = {v.county for v in instance.villages}, {v.township for v in instance.villages}
    specs = {s.id: s for s in instance.specialists}
    places: dict[str, str] = {}
    for table, wanted in ((County, counties), (Township, townships), (Village, villages)):
        places.update({c: n for c, n in session.execute(select(table.code, table.name)) if c in wanted})
    people: dict[str, str] = {}
    orgs: dict[str, str] = {}
    for code, name, org in session.execute(select(Specialist.code, Specialist.name, Specialist.org_name)):
        if code in specs:
            people[code], orgs[code] = name, org or ""
    return {"places": places, "specialists": people, "orgs": orgs,
            "expertise": {c: sorted(s.expertise) for c, s in specs.items()},
            "industries": dict(session.execute(select(Industry.code, Industry.name_zh)).all())}


def freeze_names(names: dict[str, Any]) -> bytes:
    """The names, gzip'd JSON."""
    return gzip.compress(json.dumps(names, ensure_ascii=False, sort_keys=True).encode(), compresslevel=5, mtime=0)


def thaw_names(data: bytes) -> dict[str, Any]:
    """The names back from their frozen form."""
    names: dict[str, Any] = json.loads(gzip.decompress(data))
    return names
