"""Set-based upserts keyed by external code, for SQLite and PostgreSQL alike.

A row identical to the stored one (its columns and, as the caller compares them, its child rows) is left untouched:
it keeps its version (so its ETag) and updated_at, and counts as unchanged.
"""

from collections.abc import Callable, Collection, Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any, NamedTuple

from sqlalchemy import ColumnElement, Select, Table, any_, bindparam, or_, select
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from app.errors import InvalidInput, row_error
from models.base import utcnow

MAX_PARAMS = 30_000  # below SQLite's 32,766 and PostgreSQL's 65,535 bound parameters per statement
STAMPS = ("code", "created_at", "updated_at", "version")  # columns the upsert sets itself, never compared

# Given the stored ids (by code) of a batch's existing rows, the codes whose child rows differ from the batch's.
ChildrenDiffer = Callable[[dict[str, int]], Collection[str]]


class BulkCounts(NamedTuple):
    """What a bulk upsert did: rows inserted, rows changed, rows identical to the stored ones (not written)."""

    created: int
    updated: int
    unchanged: int


@dataclass(frozen=True)
class Upserted:
    """The counts of an upsert and the codes it wrote (inserted or updated): their child rows are to be replaced."""

    counts: BulkCounts
    written: frozenset[str]


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


def rows_where_in(session: Session, stmt: Select[Any], column: ColumnElement[Any],
                  values: Iterable[Any]) -> Iterator[Sequence[Any]]:
    """Rows of `stmt` whose `column` is among `values`: one array parameter on PostgreSQL, chunked IN lists elsewhere."""
    wanted = list(dict.fromkeys(values))
    if not wanted:
        return
    if session.get_bind().dialect.name == "postgresql":
        param = bindparam("wanted", value=wanted, type_=ARRAY(column.type))
        yield from session.execute(stmt.where(column == any_(param)))
        return
    for part in chunks(wanted, MAX_PARAMS):
        yield from session.execute(stmt.where(column.in_(part)))


def ids_by_code(session: Session, table: Table, codes: Iterable[str]) -> dict[str, int]:
    """Map external codes to surrogate ids."""
    return {row[0]: row[1] for row in rows_where_in(session, select(table.c.code, table.c.id), table.c.code, codes)}


def grouped_rows(session: Session, stmt: Select[Any], key: ColumnElement[int],
                 keys: Iterable[int]) -> dict[int, list[tuple[Any, ...]]]:
    """Rows of `stmt` (whose first column is `key`) for these keys, grouped by key, each without the key, in order."""
    out: dict[int, list[tuple[Any, ...]]] = {}
    for row in rows_where_in(session, stmt, key, keys):
        out.setdefault(row[0], []).append(tuple(row[1:]))
    return out


def differing(stored: dict[str, int], new: dict[str, list[tuple[Any, ...]]],
              old: dict[int, list[tuple[Any, ...]]]) -> set[str]:
    """Codes of stored rows whose new child tuples differ from the old ones (in order)."""
    return {code for code, id_ in stored.items() if new[code] != old.get(id_, [])}


def upsert_rows(session: Session, table: Table, rows: list[dict[str, Any]], *,
                children_differ: ChildrenDiffer | None = None) -> Upserted:
    """Insert new rows and update the rows whose columns or child rows differ, bumping their version."""
    if not rows:
        return Upserted(BulkCounts(0, 0, 0), frozenset())
    columns = [c for c in rows[0] if c not in STAMPS]
    stored = _stored(session, table, [r["code"] for r in rows], columns)
    ids = {code: id_ for code, (id_, _) in stored.items()}
    differ = set(children_differ(ids)) if children_differ is not None and ids else set()
    changed = [r for r in rows if r["code"] not in stored or r["code"] in differ
               or tuple(r[c] for c in columns) != stored[r["code"]][1]]
    # In code order, so two requests writing the same rows lock them in the same order (no deadlock). Rows whose
    # children changed are written whatever their columns; the others only where a column differs by then (an
    # identical request that committed first leaves nothing to write, and the version stays).
    by_code = sorted(changed, key=lambda r: str(r["code"]))
    _write(session, table, [r for r in by_code if r["code"] in differ], only_if_different=False)
    _write(session, table, [r for r in by_code if r["code"] not in differ], only_if_different=True)
    created = sum(1 for r in changed if r["code"] not in stored)
    counts = BulkCounts(created, len(changed) - created, len(rows) - len(changed))
    return Upserted(counts, frozenset(r["code"] for r in changed))


def _stored(session: Session, table: Table, codes: list[str],
            columns: list[str]) -> dict[str, tuple[int, tuple[Any, ...]]]:
    """The stored rows among `codes`: code -> (id, values of `columns`)."""
    stmt: Select[Any] = select(table.c.code, table.c.id, *(table.c[c] for c in columns))
    return {code: (id_, tuple(values)) for code, id_, *values in rows_where_in(session, stmt, table.c.code, codes)}


def _write(session: Session, table: Table, rows: list[dict[str, Any]], *, only_if_different: bool) -> None:
    """Insert these rows, or update them by code with a new version and updated_at (`only_if_different`: only
    where a column differs from the stored row)."""
    if not rows:
        return
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
    compared = [c for c in cols if c not in ("code", "created_at", "updated_at", "version")]
    where = or_(*(table.c[c].is_distinct_from(stmt.excluded[c]) for c in compared)) if only_if_different else None
    session.execute(stmt.on_conflict_do_update(index_elements=["code"], set_=update, where=where), rows)
