"""Villages and their industry needs: lookups, checks, writes and set-based bulk upserts (the caller commits)."""

from dataclasses import dataclass
from typing import Any, cast

from sqlalchemy import ColumnElement, Select, Table, delete, insert, not_, or_, select
from sqlalchemy.orm import Session

from app.errors import Conflict, InvalidInput, NotFound, row_error
from app.schemas.villages import NeedIn, VillageIn
from app.services.bulk import (
    MAX_PARAMS,
    BulkCounts,
    chunks,
    differing,
    grouped_rows,
    ids_by_code,
    reject_duplicates,
    upsert_rows,
)
from app.services.industries import resolve_industries
from models import County, Industry, Township, Village, VillageNeed
from models.base import utcnow

VILLAGE_TABLE = cast(Table, Village.__table__)
NEED_TABLE = cast(Table, VillageNeed.__table__)
NEED_FIELDS = ("industry_id", "rank", "weight", "is_primary")  # a need row as compared with the stored one


@dataclass
class Resolved:
    """Ids behind the codes a batch names: township code -> (township id, county id), industry code -> id."""

    townships: dict[str, tuple[int, int]]
    industries: dict[str, int]


def get_village(session: Session, *, code: str) -> Village:
    """The village with this code, or 404."""
    village = session.scalar(select(Village).where(Village.code == code))
    if village is None:
        raise NotFound(f"village {code} not found")
    return village


def _has_need(industry: str, *, primary_only: bool) -> ColumnElement[bool]:
    """Villages with a need in this industry (optionally as their primary one)."""
    ids = (select(VillageNeed.village_id).join(Industry, Industry.id == VillageNeed.industry_id)
           .where(Industry.code == industry))
    if primary_only:
        ids = ids.where(VillageNeed.is_primary.is_(True))
    return Village.id.in_(ids)


def list_villages_query(
    *,
    county: str | None = None,
    township: str | None = None,
    industry: str | None = None,
    primary_industry: str | None = None,
    kind: str | None = None,
    poverty_alleviated: bool | None = None,
    designated_support: bool | None = None,
    three_areas: bool | None = None,
    key_village: bool | None = None,
    excluded: bool | None = None,
    priority: bool | None = None,
    name_contains: str | None = None,
) -> Select[Village]:
    """Villages matching every given filter (None means "any"); priority = poverty-alleviated, designated or 三区."""
    stmt = select(Village)
    if county:
        stmt = stmt.where(Village.county_id == select(County.id).where(County.code == county).scalar_subquery())
    if township:
        stmt = stmt.where(Village.township_id == select(Township.id).where(Township.code == township)
                          .scalar_subquery())
    if industry:
        stmt = stmt.where(_has_need(industry, primary_only=False))
    if primary_industry:
        stmt = stmt.where(_has_need(primary_industry, primary_only=True))
    if kind:
        stmt = stmt.where(Village.kind == kind)
    for column, wanted in ((Village.poverty_alleviated, poverty_alleviated),
                           (Village.designated_support, designated_support), (Village.three_areas, three_areas),
                           (Village.key_village, key_village), (Village.excluded, excluded)):
        if wanted is not None:
            stmt = stmt.where(column.is_(wanted))
    if priority is not None:
        any_priority = or_(Village.poverty_alleviated.is_(True), Village.designated_support.is_(True),
                           Village.three_areas.is_(True))
        stmt = stmt.where(any_priority if priority else not_(any_priority))
    if name_contains:
        stmt = stmt.where(Village.name.contains(name_contains, autoescape=True))
    return stmt


def _need_errors(row: int | None, needs: list[NeedIn]) -> list[dict[str, Any]]:
    """Each industry once per village, at most one primary need."""
    errors = []
    first: dict[str, int] = {}
    for j, need in enumerate(needs):
        if need.industry in first:
            errors.append(row_error(row, f"needs.{j}.industry",
                                    f"industry {need.industry!r} is already needed at needs.{first[need.industry]}"))
        else:
            first[need.industry] = j
    primaries = [j for j, need in enumerate(needs) if need.primary]
    errors += [row_error(row, f"needs.{j}.primary", f"only one need may be primary (needs.{primaries[0]} is)")
               for j in primaries[1:]]
    return errors


def _townships(session: Session, codes: list[str]) -> dict[str, tuple[int, int]]:
    """Map township codes to (township id, county id), in chunks."""
    out: dict[str, tuple[int, int]] = {}
    for part in chunks(list(dict.fromkeys(codes)), MAX_PARAMS):
        stmt = select(Township.code, Township.id, Township.county_id).where(Township.code.in_(part))
        out.update((code, (tid, cid)) for code, tid, cid in session.execute(stmt))
    return out


def resolve_villages(session: Session, *, rows: list[VillageIn], numbered: bool) -> Resolved:
    """Check villages as one batch and resolve their codes; one 422 lists every problem (rows numbered if asked)."""
    errors: list[dict[str, Any]] = []
    if numbered:
        try:
            reject_duplicates([r.code for r in rows])
        except InvalidInput as exc:
            errors += exc.errors
    for i, r in enumerate(rows):
        errors += _need_errors(i if numbered else None, r.needs)
    townships = _townships(session, [r.code[:9] for r in rows])
    errors += [row_error(i if numbered else None, "code", f"township {r.code[:9]} does not exist")
               for i, r in enumerate(rows) if r.code[:9] not in townships]
    refs = [(i if numbered else None, f"needs.{j}.industry", n.industry)
            for i, r in enumerate(rows) for j, n in enumerate(r.needs)]
    industries: dict[str, int] = {}
    try:
        industries = resolve_industries(session, refs=refs)
    except InvalidInput as exc:
        errors += exc.errors
    if errors:
        errors.sort(key=lambda e: -1 if e["row"] is None else e["row"])
        first = errors[0]
        where = f"row {first['row']}, " if first["row"] is not None else ""
        raise InvalidInput(f"{len(errors)} problem(s); first ({where}field {first['field']}): {first['message']}",
                           errors=errors[:1000])
    return Resolved(townships, industries)


def _columns(data: VillageIn, resolved: Resolved) -> dict[str, Any]:
    """Column values of a village row; an unset `excluded` means excluded unless it is a 村委会."""
    township_id, county_id = resolved.townships[data.code[:9]]
    values = data.model_dump(exclude={"needs", "township_code"})
    values["excluded"] = data.kind != "村委会" if data.excluded is None else data.excluded
    return {**values, "township_id": township_id, "county_id": county_id}


def _need_rows(needs: list[NeedIn], resolved: Resolved) -> list[dict[str, Any]]:
    """Need rows in list order (rank 1 first); without a primary flag the first need is the primary one."""
    primary = next((j for j, n in enumerate(needs) if n.primary), 0)
    return [{"industry_id": resolved.industries[n.industry], "rank": j + 1, "weight": n.weight,
             "is_primary": j == primary} for j, n in enumerate(needs)]


def create_village(session: Session, *, data: VillageIn) -> Village:
    """Add a new village under its township; 409 if the code exists."""
    if session.scalar(select(Village.id).where(Village.code == data.code)) is not None:
        raise Conflict(f"village {data.code} already exists")
    resolved = resolve_villages(session, rows=[data], numbered=False)
    village = Village(**_columns(data, resolved))
    village.needs = [VillageNeed(**n) for n in _need_rows(data.needs, resolved)]
    session.add(village)
    session.flush()
    return village


def update_village(session: Session, *, village: Village, data: VillageIn) -> Village:
    """Replace a village's fields and needs (its code is fixed)."""
    if data.code != village.code:
        raise InvalidInput("the code cannot change", errors=[row_error(None, "code", "must equal the URL's code")])
    resolved = resolve_villages(session, rows=[data], numbered=False)
    for key, value in _columns(data, resolved).items():
        setattr(village, key, value)  # an equal value is no change: identical bodies keep the version
    needs = _need_rows(data.needs, resolved)
    if _need_tuples(needs) != [tuple(getattr(n, f) for f in NEED_FIELDS) for n in village.needs]:
        village.updated_at = utcnow()  # a row update, so the version moves even when only the needs change
        village.needs.clear()
        session.flush()
        village.needs.extend(VillageNeed(**n) for n in needs)
    session.flush()
    return village


def delete_village(session: Session, *, village: Village) -> None:
    """Remove a village and its needs."""
    session.delete(village)
    session.flush()


def bulk_upsert_villages(session: Session, *, rows: list[VillageIn]) -> BulkCounts:
    """Insert or update villages by code and replace their needs, set-based and all or nothing; identical rows
    (columns and needs) are left untouched."""
    resolved = resolve_villages(session, rows=rows, numbered=True)
    needs = {r.code: _need_rows(r.needs, resolved) for r in rows}
    upserted = upsert_rows(session, VILLAGE_TABLE, [_columns(r, resolved) for r in rows],
                           children_differ=lambda stored: _needs_differ(session, stored=stored, needs=needs))
    ids = ids_by_code(session, VILLAGE_TABLE, upserted.written)
    for part in chunks(list(ids.values()), MAX_PARAMS):
        session.execute(delete(NEED_TABLE).where(NEED_TABLE.c.village_id.in_(part)))
    payload = [{"village_id": ids[r.code], **n} for r in rows if r.code in ids for n in needs[r.code]]
    if payload:
        session.execute(insert(NEED_TABLE), payload)
    return upserted.counts


def _need_tuples(needs: list[dict[str, Any]]) -> list[tuple[Any, ...]]:
    """Need rows as comparable tuples, in rank order."""
    return [tuple(n[f] for f in NEED_FIELDS) for n in needs]


def _needs_differ(session: Session, *, stored: dict[str, int], needs: dict[str, list[dict[str, Any]]]) -> set[str]:
    """Codes of stored villages whose needs differ from the batch's."""
    stmt = select(NEED_TABLE.c.village_id, *(NEED_TABLE.c[f] for f in NEED_FIELDS)).order_by(
        NEED_TABLE.c.village_id, NEED_TABLE.c.rank)
    old = grouped_rows(session, stmt, NEED_TABLE.c.village_id, stored.values())
    return differing(stored, {code: _need_tuples(needs[code]) for code in stored}, old)


def village_out(village: Village, industry_codes: dict[int, str]) -> dict[str, Any]:
    """Response fields of a village, with its township, county and need industry codes."""
    fields = ("code", "name", "kind", "poverty_alleviated", "designated_support", "three_areas", "key_village",
              "excluded", "lon", "lat", "datum", "created_at", "updated_at", "version")
    needs = [{"industry": industry_codes[n.industry_id], "weight": n.weight, "primary": n.is_primary,
              "rank": n.rank} for n in village.needs]
    return {**{k: getattr(village, k) for k in fields}, "township_code": village.code[:9],
            "county_code": village.code[:6], "needs": needs}
