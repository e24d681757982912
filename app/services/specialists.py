"""Specialists: lookups, validated writes and set-based bulk upserts with expertise and teams (the caller commits)."""

from collections.abc import Sequence
from typing import Any

from sqlalchemy import Select, Table, delete, exists, insert, select
from sqlalchemy.orm import Session

from app.errors import Conflict, InvalidInput, NotFound, row_error
from app.schemas.specialists import SpecialistFilters, SpecialistIn
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
from app.services.industries import industry_codes_by_id, resolve_industries
from app.services.teams import MEMBERS, replace_members, team_errors, team_of
from models import Specialist, SpecialistExpertise
from models.base import utcnow

MAX_ERRORS = 1000
EXPERTISE: Table = SpecialistExpertise.__table__  # type: ignore[assignment]
SPECIALISTS: Table = Specialist.__table__  # type: ignore[assignment]
CHILD_FIELDS = {"expertise", "members", "leader"}
OUT_FIELDS = (
    "code", "name", "kind", "org_name", "org_type", "org_region_code", "title_level", "home_region_code",
    "home_county_code", "lon", "lat", "datum", "capacity", "service_days", "max_distance_km",
    "three_areas_programme", "programme_level", "active", "grade", "created_at", "updated_at", "version",
)


def get_specialist(session: Session, *, code: str) -> Specialist:
    """The specialist with this code (freshly loaded, with expertise and members), or 404."""
    stmt = select(Specialist).where(Specialist.code == code).execution_options(populate_existing=True)
    specialist = session.scalar(stmt)
    if specialist is None:
        raise NotFound(f"specialist {code} not found")
    return specialist


def list_specialists_query(session: Session, *, filters: SpecialistFilters) -> Select[Specialist]:
    """Specialists matching every given filter (paged by the caller); an unknown industry is a 422."""
    stmt: Select[Specialist] = select(Specialist)
    equal: dict[str, Any] = {"home_county_code": filters.county, "kind": filters.kind, "active": filters.active,
                             "grade": filters.grade, "org_type": filters.org_type,
                             "three_areas_programme": filters.three_areas_programme}
    for column, value in equal.items():
        if value is not None:
            stmt = stmt.where(getattr(Specialist, column) == value)
    if filters.industry is not None or filters.min_proficiency is not None:
        cond = [SpecialistExpertise.specialist_id == Specialist.id]
        if filters.industry is not None:
            ids = resolve_industries(session, refs=[(None, "industry", filters.industry)])
            cond.append(SpecialistExpertise.industry_id == ids[filters.industry])
        if filters.min_proficiency is not None:
            cond.append(SpecialistExpertise.proficiency >= filters.min_proficiency)
        stmt = stmt.where(exists().where(*cond))
    if filters.name_contains:
        stmt = stmt.where(Specialist.name.contains(filters.name_contains, autoescape=True))
    return stmt


def create_specialist(session: Session, *, data: SpecialistIn) -> Specialist:
    """Add a new specialist with its expertise and members; 409 if the code exists."""
    if session.scalar(select(Specialist.id).where(Specialist.code == data.code)) is not None:
        raise Conflict(f"specialist {data.code} already exists")
    return _save_one(session, data)


def update_specialist(session: Session, *, specialist: Specialist, data: SpecialistIn) -> Specialist:
    """Replace a specialist's fields, expertise and members (its code is fixed)."""
    if data.code != specialist.code:
        raise InvalidInput("the code cannot change", errors=[row_error(None, "code", "must equal the URL's code")])
    return _save_one(session, data)


def delete_specialist(session: Session, *, specialist: Specialist) -> None:
    """Remove a specialist, its expertise and its team memberships (a deleted team releases its members); the
    team it leaves gets a new version, since its members (and perhaps its leader) change."""
    team = team_of(session, specialist_id=specialist.id)
    if team is not None:
        team.updated_at = utcnow()
    session.delete(specialist)
    session.flush()


def get_team(session: Session, *, specialist: Specialist) -> Specialist:
    """The team this person belongs to, or 404."""
    team = team_of(session, specialist_id=specialist.id)
    if team is None:
        raise NotFound(f"specialist {specialist.code} is not a member of any team")
    return team


def bulk_upsert_specialists(session: Session, *, rows: list[SpecialistIn]) -> BulkCounts:
    """Insert or update specialists by code with their expertise and members, all or nothing; identical rows
    (columns, expertise and members) are left untouched."""
    industry_ids, errors = _problems(session, rows)
    if errors:
        raise InvalidInput(f"{len(errors)} problem(s) in the batch; nothing was written; first: "
                           f"row {errors[0]['row']}, field {errors[0]['field']}: {errors[0]['message']}",
                           errors=errors[:MAX_ERRORS])
    return _write(session, rows, industry_ids)


def specialists_out(session: Session, *, specialists: Sequence[Specialist]) -> list[dict[str, Any]]:
    """Response bodies for specialists, with industry and member codes (two queries, whatever the count)."""
    industry_codes = industry_codes_by_id(session) if any(s.expertise for s in specialists) else {}
    member_ids = sorted({tm.member_id for s in specialists for tm in s.members})
    member_codes: dict[int, str] = {}
    for part in chunks(member_ids, MAX_PARAMS):
        member_codes.update((i, c) for i, c in session.execute(select(Specialist.id, Specialist.code)
                                                               .where(Specialist.id.in_(part))))
    out = []
    for s in specialists:
        members = sorted(s.members, key=lambda tm: tm.id)
        leader = next((member_codes[tm.member_id] for tm in members if tm.is_leader), None)
        out.append({
            **{k: getattr(s, k) for k in OUT_FIELDS},
            "expertise": [{"industry": industry_codes[e.industry_id], "proficiency": e.proficiency}
                          for e in sorted(s.expertise, key=lambda e: e.id)],
            "members": [member_codes[tm.member_id] for tm in members],
            "leader": leader,
        })
    return out


def specialist_out(session: Session, *, specialist: Specialist) -> dict[str, Any]:
    """Response body of one specialist."""
    return specialists_out(session, specialists=[specialist])[0]


def _problems(session: Session, rows: Sequence[SpecialistIn]) -> tuple[dict[str, int], list[dict[str, Any]]]:
    """Industry ids for the batch and every problem found in it (duplicates, unknown industries, team rules)."""
    errors: list[dict[str, Any]] = []
    try:
        reject_duplicates([r.code for r in rows])
    except InvalidInput as exc:
        errors += exc.errors
    refs: list[tuple[int | None, str, str]] = [
        (row, f"expertise.{i}.industry", e.industry) for row, r in enumerate(rows) for i, e in enumerate(r.expertise)
    ]
    industry_ids: dict[str, int] = {}
    if refs:
        try:
            industry_ids = resolve_industries(session, refs=refs)
        except InvalidInput as exc:
            errors += exc.errors
    errors += team_errors(session, rows=rows)
    errors.sort(key=lambda e: -1 if e["row"] is None else e["row"])
    return industry_ids, errors


def _save_one(session: Session, data: SpecialistIn) -> Specialist:
    """Validate and write one specialist, then load it afresh."""
    industry_ids, errors = _problems(session, [data])
    if errors:
        errors = [{**e, "row": None} for e in errors]
        raise InvalidInput(f"invalid input (field {errors[0]['field']}): {errors[0]['message']}",
                           errors=errors[:MAX_ERRORS])
    _write(session, [data], industry_ids)
    return get_specialist(session, code=data.code)


def _columns(row: SpecialistIn) -> dict[str, Any]:
    """The specialists-table columns of one body, with the home county derived from the home region."""
    values = row.model_dump(exclude=CHILD_FIELDS)
    values["home_county_code"] = row.home_region_code[:6] if row.home_region_code else None
    return values


def _write(session: Session, rows: Sequence[SpecialistIn], industry_ids: dict[str, int]) -> BulkCounts:
    """Set-based write of validated rows: upsert specialists, then replace the expertise and members of those
    written (the identical ones are left untouched)."""
    upserted = upsert_rows(session, SPECIALISTS, [_columns(r) for r in rows],
                           children_differ=lambda stored: _children_differ(session, stored=stored, rows=rows,
                                                                           industry_ids=industry_ids))
    written = [r for r in rows if r.code in upserted.written]
    ids = ids_by_code(session, SPECIALISTS, [r.code for r in written] + [m for r in written for m in r.members])
    for part in chunks([ids[r.code] for r in written], MAX_PARAMS):
        session.execute(delete(SpecialistExpertise).where(SpecialistExpertise.specialist_id.in_(part))
                        .execution_options(synchronize_session=False))
    expertise = [{"specialist_id": ids[r.code], **e} for r in written for e in _expertise_rows(r, industry_ids)]
    if expertise:
        session.execute(insert(EXPERTISE), expertise)  # Core executemany: no ORM bookkeeping per row
    replace_members(session, rows=written, ids=ids)
    return upserted.counts


def _expertise_rows(row: SpecialistIn, industry_ids: dict[str, int]) -> list[dict[str, Any]]:
    """Expertise rows of one body, in list order."""
    return [{"industry_id": industry_ids[e.industry], "proficiency": e.proficiency} for e in row.expertise]


def _children_differ(session: Session, *, stored: dict[str, int], rows: Sequence[SpecialistIn],
                     industry_ids: dict[str, int]) -> set[str]:
    """Codes of stored specialists whose expertise or members (in order, with the leader) differ from the batch's."""
    by_code = {r.code: r for r in rows}
    expertise = {c: [(e["industry_id"], e["proficiency"]) for e in _expertise_rows(by_code[c], industry_ids)]
                 for c in stored}
    members = {c: [(m, m == by_code[c].leader) for m in by_code[c].members] for c in stored}
    old_expertise = grouped_rows(session, select(EXPERTISE.c.specialist_id, EXPERTISE.c.industry_id,
                                                 EXPERTISE.c.proficiency).order_by(EXPERTISE.c.id),
                                 EXPERTISE.c.specialist_id, stored.values())
    member_stmt = (select(MEMBERS.c.team_id, SPECIALISTS.c.code, MEMBERS.c.is_leader)
                   .join(SPECIALISTS, SPECIALISTS.c.id == MEMBERS.c.member_id).order_by(MEMBERS.c.id))
    old_members = grouped_rows(session, member_stmt, MEMBERS.c.team_id, stored.values())
    return differing(stored, expertise, old_expertise) | differing(stored, members, old_members)
