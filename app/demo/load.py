"""Load the 六安市 demo catalogue into a session (upserts by code: loading twice gives the same catalogue).

`jiedui demo load` loads it only into a catalogue without villages and specialists (see `catalogue_in_use`), so a
restart never overwrites a planner's edits; `--force` upserts it anyway.
"""

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.demo import regions
from app.demo.generate import DEFAULT_SEED, generate
from app.schemas.specialists import SpecialistIn
from app.schemas.villages import VillageIn
from app.services.regions import bulk_upsert_counties, bulk_upsert_townships
from app.services.specialists import bulk_upsert_specialists
from app.services.villages import bulk_upsert_villages
from models import Specialist, Village


def load_demo(session: Session, *, seed: int = DEFAULT_SEED) -> dict[str, int]:
    """Upsert counties, townships, villages and specialists for `seed`; the caller commits. Returns row counts."""
    catalogue = generate(seed)
    counties = regions.counties()
    townships = regions.townships()
    bulk_upsert_counties(session, rows=counties)
    bulk_upsert_townships(session, rows=townships)
    villages = [VillageIn.model_validate(d) for d in catalogue.villages]
    bulk_upsert_villages(session, rows=villages)
    specialists = [SpecialistIn.model_validate(d) for d in catalogue.specialists]
    bulk_upsert_specialists(session, rows=specialists)
    session.flush()
    return {
        "counties": len(counties),
        "townships": len(townships),
        "villages": len(villages),
        "village_needs": sum(len(v.needs) for v in villages),
        "specialists": len(specialists),
        "teams": sum(1 for s in specialists if s.kind == "team"),
        "legal_persons": sum(1 for s in specialists if s.kind == "legal_person"),
    }


def catalogue_in_use(session: Session) -> dict[str, int]:
    """How many villages and specialists are stored; any at all means the catalogue is in use."""
    return {"villages": session.scalar(select(func.count()).select_from(Village)) or 0,
            "specialists": session.scalar(select(func.count()).select_from(Specialist)) or 0}
