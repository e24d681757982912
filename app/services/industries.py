"""The industry taxonomy: lookups, writes, bulk upserts and code resolution (the caller commits)."""

from sqlalchemy import Select, exists, select
from sqlalchemy.orm import Session

from app.errors import Conflict, InvalidInput, NotFound, row_error
from app.schemas.industries import IndustryIn
from app.services.bulk import BulkCounts, ids_by_code, reject_duplicates, upsert_rows
from models import Industry, SpecialistExpertise, VillageNeed


def get_industry(session: Session, *, code: str) -> Industry:
    """The industry with this code, or 404."""
    industry = session.scalar(select(Industry).where(Industry.code == code))
    if industry is None:
        raise NotFound(f"industry {code} not found")
    return industry


def list_industries_query() -> Select[Industry]:
    """All industries (paged by the caller)."""
    return select(Industry)


def create_industry(session: Session, *, data: IndustryIn) -> Industry:
    """Add a new industry; 409 if the code exists."""
    if session.scalar(select(Industry.id).where(Industry.code == data.code)) is not None:
        raise Conflict(f"industry {data.code} already exists")
    industry = Industry(**data.model_dump())
    session.add(industry)
    session.flush()
    return industry


def update_industry(session: Session, *, industry: Industry, data: IndustryIn) -> Industry:
    """Replace an industry's names (its code is fixed)."""
    if data.code != industry.code:
        raise InvalidInput("the code cannot change", errors=[row_error(None, "code", "must equal the URL's code")])
    for key, value in data.model_dump(exclude={"code"}).items():
        setattr(industry, key, value)
    session.flush()
    return industry


def delete_industry(session: Session, *, industry: Industry) -> None:
    """Remove an industry that no village need and no specialist expertise refers to."""
    in_needs = session.scalar(select(exists().where(VillageNeed.industry_id == industry.id)))
    in_expertise = session.scalar(select(exists().where(SpecialistExpertise.industry_id == industry.id)))
    if in_needs or in_expertise:
        users = " and ".join(n for n, used in (("village needs", in_needs), ("specialist expertise", in_expertise))
                             if used)
        raise Conflict(f"industry {industry.code} is still used by {users}")
    session.delete(industry)
    session.flush()


def bulk_upsert_industries(session: Session, *, rows: list[IndustryIn]) -> BulkCounts:
    """Insert or update industries by code, all or nothing."""
    reject_duplicates([r.code for r in rows])
    return upsert_rows(session, Industry.__table__, [r.model_dump() for r in rows]).counts  # type: ignore[arg-type]


def valid_industry_codes(session: Session) -> list[str]:
    """Every known industry code, sorted."""
    return list(session.scalars(select(Industry.code).order_by(Industry.code)))


def industry_codes_by_id(session: Session) -> dict[int, str]:
    """Map every industry id to its code (the taxonomy is small: load it once per request)."""
    return dict(session.execute(select(Industry.id, Industry.code)).all())


def resolve_industries(session: Session, *, refs: list[tuple[int | None, str, str]]) -> dict[str, int]:
    """Map industry codes to ids; each (row, field, code) naming an unknown code is reported, with the valid codes."""
    found = ids_by_code(session, Industry.__table__, (code for _, _, code in refs))  # type: ignore[arg-type]
    unknown = [(row, field, code) for row, field, code in refs if code not in found]
    if not unknown:
        return found
    valid = ", ".join(valid_industry_codes(session))
    errors = [row_error(row, field, f"unknown industry {code!r}; valid: {valid}") for row, field, code in unknown]
    names = ", ".join(sorted({code for _, _, code in unknown}))
    raise InvalidInput(f"unknown industry code(s) {names}; valid codes: {valid}", errors=errors[:1000])
