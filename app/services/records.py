"""Service records: filtered lists, set-based bulk upserts keyed by (season, specialist, village), lookups by season
(the caller commits)."""

from typing import Any, cast

from sqlalchemy import Select, Table, select, tuple_
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from app.errors import InvalidInput, NotFound, row_error
from app.schemas.records import ServiceRecordFilters, ServiceRecordIn
from app.services.bulk import MAX_PARAMS, chunks, ids_by_code, reject_duplicates
from models import ServiceRecord, Specialist, Village
from models.base import utcnow

RECORDS = cast(Table, ServiceRecord.__table__)
KEY = ["season", "specialist_code", "village_code"]
MAX_ERRORS = 1000

Key = tuple[str, str, str]


def get_record(session: Session, *, season: str, specialist: str, village: str) -> ServiceRecord:
    """The record of this pairing in this season, or 404."""
    record = session.scalar(select(ServiceRecord).where(
        ServiceRecord.season == season, ServiceRecord.specialist_code == specialist,
        ServiceRecord.village_code == village))
    if record is None:
        raise NotFound(f"no service record for specialist {specialist} in village {village} in season {season}")
    return record


def list_records_query(*, filters: ServiceRecordFilters) -> Select[ServiceRecord]:
    """Records matching every given filter (paged by the caller)."""
    stmt = select(ServiceRecord)
    for column, value in ((ServiceRecord.season, filters.season), (ServiceRecord.specialist_code, filters.specialist),
                          (ServiceRecord.village_code, filters.village), (ServiceRecord.grade, filters.grade)):
        if value is not None:
            stmt = stmt.where(column == value)
    if filters.county is not None:
        stmt = stmt.where(ServiceRecord.village_code.startswith(filters.county))
    return stmt


def delete_record(session: Session, *, record: ServiceRecord) -> None:
    """Remove one record."""
    session.delete(record)
    session.flush()


def record_out(record: ServiceRecord) -> dict[str, Any]:
    """Response fields of a record, with the village's county code."""
    return {"season": record.season, "specialist": record.specialist_code, "village": record.village_code,
            "county": record.village_code[:6], "grade": record.grade, "service_days": record.service_days,
            "visits": record.visits, "note": record.note, "created_at": record.created_at,
            "updated_at": record.updated_at, "version": record.version}


def _recorded(session: Session, column: Any, codes: set[str]) -> set[str]:
    """Those of `codes` some stored record names in `column`."""
    found: set[str] = set()
    for part in chunks(sorted(codes), MAX_PARAMS):
        found |= set(session.scalars(select(column).where(column.in_(part)).distinct()))
    return found


def record_problems(session: Session, *, rows: list[ServiceRecordIn]) -> list[dict[str, Any]]:
    """Every problem of a batch, sorted by row: repeated keys, unknown specialists and unknown villages."""
    errors: list[dict[str, Any]] = []
    try:
        reject_duplicates([f"{r.season}/{r.specialist}/{r.village}" for r in rows], field="season/specialist/village")
    except InvalidInput as exc:
        errors += exc.errors
    # Any catalogue entry counts, active or not: a record may describe a season the specialist has since left.
    # A code that already has records counts too: records outlive deleted entries, and must re-import.
    specialists = set(ids_by_code(session, cast(Table, Specialist.__table__), (r.specialist for r in rows)))
    villages = set(ids_by_code(session, cast(Table, Village.__table__), (r.village for r in rows)))
    specialists |= _recorded(session, RECORDS.c.specialist_code, {r.specialist for r in rows} - specialists)
    villages |= _recorded(session, RECORDS.c.village_code, {r.village for r in rows} - villages)
    for i, r in enumerate(rows):
        if r.specialist not in specialists:
            errors.append(row_error(i, "specialist", f"specialist {r.specialist} does not exist"))
        if r.village not in villages:
            errors.append(row_error(i, "village", f"village {r.village} does not exist"))
    errors.sort(key=lambda e: e["row"])
    return errors


def bulk_upsert_records(session: Session, *, rows: list[ServiceRecordIn]) -> tuple[int, int]:
    """Insert or update records by (season, specialist, village), all or nothing; returns (created, updated).

    An update replaces grade, service days, visits and note and bumps the row version.
    """
    errors = record_problems(session, rows=rows)
    if errors:
        first = errors[0]
        raise InvalidInput(f"{len(errors)} problem(s) in the batch; nothing was written; first: row {first['row']}, "
                           f"field {first['field']}: {first['message']}", errors=errors[:MAX_ERRORS])
    if not rows:
        return 0, 0
    existing = len(_existing_keys(session, [(r.season, r.specialist, r.village) for r in rows]))
    now = utcnow()
    payload = [{"season": r.season, "specialist_code": r.specialist, "village_code": r.village, "grade": r.grade,
                "service_days": r.service_days, "visits": r.visits, "note": r.note, "created_at": now,
                "updated_at": now, "version": 1} for r in rows]
    insert = pg_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert
    stmt = insert(RECORDS)
    update: dict[str, Any] = {c: stmt.excluded[c] for c in ("grade", "service_days", "visits", "note", "updated_at")}
    update["version"] = RECORDS.c.version + 1
    # One statement with many parameter sets, as in app.services.bulk.upsert_rows.
    session.execute(stmt.on_conflict_do_update(index_elements=KEY, set_=update), payload)
    return len(rows) - existing, existing


def grades_for_season(session: Session, *, season: str) -> dict[tuple[str, str], str | None]:
    """(specialist code, village code) -> grade of every record of the season (None where not yet graded)."""
    stmt = select(ServiceRecord.specialist_code, ServiceRecord.village_code, ServiceRecord.grade).where(
        ServiceRecord.season == season)
    return {(s, v): g for s, v, g in session.execute(stmt)}


def _existing_keys(session: Session, keys: list[Key]) -> set[Key]:
    """Which of these keys already have a record, in chunks (three parameters per key)."""
    out: set[Key] = set()
    cols = (RECORDS.c.season, RECORDS.c.specialist_code, RECORDS.c.village_code)
    for part in chunks(list(dict.fromkeys(keys)), MAX_PARAMS // 3):
        out.update((a, b, c) for a, b, c in session.execute(select(*cols).where(tuple_(*cols).in_(part))))
    return out
