"""Counties and townships: lookups, writes and bulk upserts (the caller commits)."""

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session

from app.errors import Conflict, InvalidInput, NotFound, row_error
from app.schemas.regions import CountyIn, TownshipIn
from app.services.bulk import BulkCounts, ids_by_code, reject_duplicates, upsert_rows
from models import County, Township, Village


def get_county(session: Session, *, code: str) -> County:
    """The county with this code, or 404."""
    county = session.scalar(select(County).where(County.code == code))
    if county is None:
        raise NotFound(f"county {code} not found")
    return county


def list_counties_query() -> Select[County]:
    """All counties (paged by the caller)."""
    return select(County)


def create_county(session: Session, *, data: CountyIn) -> County:
    """Add a new county; 409 if the code exists."""
    if session.scalar(select(County.id).where(County.code == data.code)) is not None:
        raise Conflict(f"county {data.code} already exists")
    county = County(**data.model_dump())
    session.add(county)
    session.flush()
    return county


def update_county(session: Session, *, county: County, data: CountyIn) -> County:
    """Replace a county's fields (its code is fixed)."""
    if data.code != county.code:
        raise InvalidInput("the code cannot change", errors=[row_error(None, "code", "must equal the URL's code")])
    for key, value in data.model_dump(exclude={"code"}).items():
        setattr(county, key, value)
    session.flush()
    return county


def delete_county(session: Session, *, county: County) -> None:
    """Remove a county that has no townships."""
    if session.scalar(select(func.count()).where(Township.county_id == county.id)):
        raise Conflict(f"county {county.code} still has townships; delete them first")
    session.delete(county)
    session.flush()


def bulk_upsert_counties(session: Session, *, rows: list[CountyIn]) -> BulkCounts:
    """Insert or update counties by code, all or nothing."""
    reject_duplicates([r.code for r in rows])
    return upsert_rows(session, County.__table__, [r.model_dump() for r in rows]).counts  # type: ignore[arg-type]


def county_ids_for(session: Session, *, codes: list[str], field: str) -> dict[str, int]:
    """Resolve parent county codes; every unknown one is reported with its row."""
    found = ids_by_code(session, County.__table__, codes)  # type: ignore[arg-type]
    errors = [row_error(i, field, f"county {c} does not exist") for i, c in enumerate(codes) if c not in found]
    if errors:
        raise InvalidInput(f"{len(errors)} row(s) name an unknown county", errors=errors[:1000])
    return found


def get_township(session: Session, *, code: str) -> Township:
    """The township with this code, or 404."""
    township = session.scalar(select(Township).where(Township.code == code))
    if township is None:
        raise NotFound(f"township {code} not found")
    return township


def list_townships_query(*, county: str | None) -> Select[Township]:
    """Townships, optionally of one county."""
    stmt = select(Township)
    if county:
        stmt = stmt.where(Township.code.startswith(county, autoescape=True))
    return stmt


def create_township(session: Session, *, data: TownshipIn) -> Township:
    """Add a township under the county its code names; 409 if the code exists."""
    if session.scalar(select(Township.id).where(Township.code == data.code)) is not None:
        raise Conflict(f"township {data.code} already exists")
    county_id = county_ids_for(session, codes=[data.code[:6]], field="code")[data.code[:6]]
    township = Township(county_id=county_id, **data.model_dump())
    session.add(township)
    session.flush()
    return township


def update_township(session: Session, *, township: Township, data: TownshipIn) -> Township:
    """Replace a township's fields (its code is fixed)."""
    if data.code != township.code:
        raise InvalidInput("the code cannot change", errors=[row_error(None, "code", "must equal the URL's code")])
    for key, value in data.model_dump(exclude={"code"}).items():
        setattr(township, key, value)
    session.flush()
    return township


def delete_township(session: Session, *, township: Township) -> None:
    """Remove a township that has no villages."""
    if session.scalar(select(func.count()).where(Village.township_id == township.id)):
        raise Conflict(f"township {township.code} still has villages; delete them first")
    session.delete(township)
    session.flush()


def bulk_upsert_townships(session: Session, *, rows: list[TownshipIn]) -> BulkCounts:
    """Insert or update townships by code under existing counties, all or nothing."""
    reject_duplicates([r.code for r in rows])
    county_ids = county_ids_for(session, codes=[r.code[:6] for r in rows], field="code")
    payload = [{**r.model_dump(), "county_id": county_ids[r.code[:6]]} for r in rows]
    return upsert_rows(session, Township.__table__, payload).counts  # type: ignore[arg-type]


def township_out(township: Township) -> dict[str, object]:
    """Response fields of a township, with its county's code."""
    return {**{k: getattr(township, k) for k in ("code", "name", "lon", "lat", "datum", "created_at",
                                                 "updated_at", "version")}, "county_code": township.code[:6]}
