"""Helpers shared by the catalogue endpoints: cursor pagination, ETags, If-Match and JSON merge-patch."""

import base64
import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Annotated, Any, TypeVar

from fastapi import Body, Query, Response
from pydantic import BaseModel, ValidationError
from sqlalchemy import DateTime, Select, Table, and_, or_, update
from sqlalchemy.orm import InstrumentedAttribute, Session

from app.errors import (
    InvalidInput,
    PayloadTooLarge,
    PreconditionFailed,
    errors_from_pydantic,
)
from models.base import Entity, UTCDateTime

M = TypeVar("M", bound=BaseModel)
Cursor = Annotated[str | None, Query(description="next_cursor of the previous page")]
Limit = Annotated[int, Query(ge=1, le=1000)]


def sort_query(columns: Mapping[str, Any], default: str) -> Any:
    """The `sort` query parameter of a list: its valid values ("field" ascending, "-field" descending) in the docs."""
    values = [v for c in columns for v in (c, f"-{c}")]
    return Query(description=f"order of the list: a field ascending, or descending with '-'; default {default}",
                 json_schema_extra={"enum": values})


def patch_body(model: type[BaseModel]) -> Any:
    """A JSON merge-patch body (RFC 7396) over `model`, its fields named in the docs."""
    return Body(description=f"JSON merge patch (RFC 7396) of {model.__name__}: any of "
                            f"{', '.join(model.model_fields)}; fields left out keep their values, null clears "
                            "an optional one; the merged whole is validated as a PUT body would be",
                media_type="application/merge-patch+json")


def check_bulk_size(rows: list[Any], max_rows: int) -> None:
    """413 when a bulk request carries more rows than allowed."""
    if len(rows) > max_rows:
        raise PayloadTooLarge(f"{len(rows)} rows in one request; at most {max_rows}")


@dataclass
class Page:
    items: list[Any]
    next_cursor: str | None


def encode_cursor(value: Any, row_id: Any, sort: str) -> str:
    """Opaque cursor for the row after which the next page starts, under this sort."""
    return base64.urlsafe_b64encode(json.dumps([value, row_id, sort], default=str).encode()).decode()


def decode_cursor(cursor: str, *, sort: str, sort_column: InstrumentedAttribute[Any]) -> tuple[Any, Any]:
    """Inverse of encode_cursor; a cursor that is malformed or made for another sort is a 422 naming the field."""
    try:
        value, row_id, made_for = json.loads(base64.urlsafe_b64decode(cursor.encode()))
        if made_for != sort:
            raise ValueError("another sort")
        if isinstance(sort_column.type, DateTime | UTCDateTime):
            value = datetime.fromisoformat(value)
        elif not isinstance(value, str | int | float) or isinstance(value, bool):
            raise ValueError("not a scalar")
        if not isinstance(row_id, int | str) or isinstance(row_id, bool):
            raise ValueError("bad row id")
        return value, row_id
    except Exception as exc:
        raise InvalidInput("malformed cursor, or one made for another sort; start again without it",
                           errors=[{"row": None, "field": "cursor", "message": "malformed"}]) from exc


def paginate(
    session: Session,
    stmt: Select[Any],
    *,
    sort: str,
    columns: dict[str, InstrumentedAttribute[Any]],
    id_column: InstrumentedAttribute[Any],
    cursor: str | None,
    limit: int,
) -> Page:
    """Run `stmt` ordered by `sort` ("field" or "-field", from `columns`) and return one page."""
    descending = sort.startswith("-")
    key = sort.lstrip("-")
    if key not in columns:
        raise InvalidInput(
            f"unknown sort field {key!r}; valid: {', '.join(sorted(columns))}",
            errors=[{"row": None, "field": "sort", "message": f"valid: {sorted(columns)}"}],
        )
    col = columns[key]
    if cursor:
        value, last_id = decode_cursor(cursor, sort=sort, sort_column=col)
        if descending:
            stmt = stmt.where(or_(col < value, and_(col == value, id_column < last_id)))
        else:
            stmt = stmt.where(or_(col > value, and_(col == value, id_column > last_id)))
    order = (col.desc(), id_column.desc()) if descending else (col.asc(), id_column.asc())
    rows = list(session.scalars(stmt.order_by(*order).limit(limit + 1)))
    next_cursor = None
    if len(rows) > limit:
        rows = rows[:limit]
        last = rows[-1]
        value = getattr(last, key)
        next_cursor = encode_cursor(value.isoformat() if isinstance(value, datetime) else value, last.id, sort)
    return Page(rows, next_cursor)


def etag_of(code: str, version: int) -> str:
    """Strong ETag naming the entity's code and row version."""
    return f'"{code}.{version}"'


def set_etag(response: Response, code: str, version: int) -> None:
    """Put the ETag header on a single-entity response."""
    response.headers["ETag"] = etag_of(code, version)


def check_if_match(if_match: str | None, code: str, version: int) -> None:
    """412 when the caller's If-Match names a stale version (absent If-Match means last writer wins)."""
    if if_match is None:
        return
    tags = {t.strip().removeprefix("W/") for t in if_match.split(",")}
    if "*" in tags or etag_of(code, version) in tags:
        return
    raise PreconditionFailed(
        f"{code} has changed (now version {version}); fetch it again and retry", current_etag=etag_of(code, version)
    )


def guard_version(session: Session, entity: Entity, if_match: str | None) -> None:
    """412 unless If-Match names the current version; then hold the row until the request commits.

    The conditional no-op UPDATE takes the row's write lock (the database's, on SQLite), so a concurrent
    write with the same If-Match waits for this one and then finds the version moved: one wins, the rest 412.
    """
    if if_match is None:
        return
    check_if_match(if_match, entity.code, entity.version)
    table: Table = type(entity).__table__  # type: ignore[attr-defined]
    claimed = session.execute(update(table).where(table.c.id == entity.id, table.c.version == entity.version)
                              .values(version=table.c.version, updated_at=table.c.updated_at)  # a no-op: stamps stay
                              .execution_options(synchronize_session=False))
    if claimed.rowcount == 0:  # type: ignore[attr-defined]
        raise PreconditionFailed(f"{entity.code} was changed by a concurrent request; fetch it again and retry")


def apply_patch(model: type[M], current: dict[str, Any], patch: dict[str, Any]) -> M:
    """Merge a partial body into the current fields and validate the result as a whole."""
    merged = {**current, **patch}
    try:
        return model.model_validate(merged)
    except ValidationError as exc:
        raise InvalidInput(
            "invalid patch", errors=errors_from_pydantic(list(exc.errors()), skip=0)
        ) from exc
