"""Set-based upserts keyed by external code, for SQLite and PostgreSQL alike."""

from collections.abc import Iterable, Sequence
from typing import Any

from sqlalchemy import ColumnElement, String, Table, any_, bindparam, select
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from app.errors import InvalidInput, row_error
from models.base import utcnow

MAX_PARAMS = 30_000  # below SQLite's 32,766 and PostgreSQL's 65,535 bound parameters per statement


def chunks(seq: Sequence[Any], size: int) -> Iterable[Sequence[Any]]:
    """Consecutive slices of at most `size` items."""
    for start in range(0, len(seq), size):
        yield seq[start:start + size]


def reject_duplicates(codes: Sequence[str], *, field: str = "code") -> None:
    """A code may appear once per batch; every repeat is reported with its row."""
    seen: dict[str, int] = {}
    errors = []
    for row, code in enumerate(codes):
        if code in seen:
            errors.append(row_error(row, field, f"duplicate {code!r} in this batch (first at row {seen[code]})"))
        else:
            seen[code] = row
    if errors:
        raise InvalidInput(f"{len(errors)} duplicate {field}(s) in the batch", errors=errors[:1000])


def ids_by_code(session: Session, table: Table, codes: Iterable[str]) -> dict[str, int]:
    """Map external codes to surrogate ids, in chunks."""
    out: dict[str, int] = {}
    code_list = list(dict.fromkeys(codes))
    if session.get_bind().dialect.name == "postgresql":  # one array parameter instead of one per code
        codes_param = bindparam("codes", value=code_list, type_=ARRAY(String))
        return dict(session.execute(select(table.c.code, table.c.id).where(table.c.code == any_(codes_param))).all())
    for part in chunks(code_list, MAX_PARAMS):
        out.update((c, i) for c, i in session.execute(select(table.c.code, table.c.id).where(table.c.code.in_(part))))
    return out


def upsert_rows(session: Session, table: Table, rows: list[dict[str, Any]]) -> tuple[int, int]:
    """Insert or update rows by code, bumping the row version on update; returns (created, updated)."""
    if not rows:
        return 0, 0
    existing = len(ids_by_code(session, table, (r["code"] for r in rows)))
    now = utcnow()
    for r in rows:
        r.setdefault("created_at", now)
        r["updated_at"] = now
        r.setdefault("version", 1)
    cols = list(rows[0].keys())
    dialect = session.get_bind().dialect.name
    insert = pg_insert if dialect == "postgresql" else sqlite_insert
    # One statement executed with many parameter sets: compiled once, batched by the driver (a multi-row
    # VALUES clause would compile one bind parameter per cell, which dominates the time of large batches).
    stmt = insert(table)
    update: dict[str, ColumnElement[Any]] = {c: stmt.excluded[c] for c in cols if c not in ("code", "created_at", "version")}
    update["version"] = table.c.version + 1
    session.execute(stmt.on_conflict_do_update(index_elements=["code"], set_=update), rows)
    return len(rows) - existing, existing
