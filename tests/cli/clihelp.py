"""Running the `jiedui` CLI against the test database (SQLite, or PostgreSQL with JIEDUI_TEST_DB=postgres)."""

from typing import Any

from click.testing import Result
from sqlalchemy import select
from typer.testing import CliRunner

from app.cli import main
from app.cli.output import reset_caches
from app.db import get_engine, get_sessionmaker, session_scope
from app.schemas.regions import CountyIn, TownshipIn
from app.schemas.specialists import SpecialistIn
from app.schemas.villages import VillageIn
from app.services.regions import bulk_upsert_counties, bulk_upsert_townships
from app.services.specialists import bulk_upsert_specialists, specialists_out
from app.services.villages import bulk_upsert_villages
from models import Run, ServiceRecord, Specialist
from tests.catalogue import COUNTY, SPECIALISTS, TOWNSHIPS, VILLAGES


def run(*args: str, env: dict[str, str] | None = None) -> Result:
    """Invoke the CLI; it builds its own engine from DATABASE_URL, disposed afterwards (no idle pools left)."""
    result = CliRunner().invoke(main, list(args), env=env)
    get_engine().dispose()
    reset_caches()  # back to the test database's settings (env may have pointed the CLI elsewhere)
    return result


def invoke(env: dict[str, str], *args: str) -> tuple[int, str]:
    """Invoke the CLI with this environment (the `env` fixture's: the 六安 demo); its exit code and output.

    A season rerun takes the quick answer unless the test says otherwise: on the whole demo city the exact finish
    takes about a minute, and these tests are about renewals, not proofs (tests/cli/test_season.py has one that
    asks for it)."""
    given = list(args)
    if given[:2] == ["season", "rerun"] and not any(a.endswith("exact-finish") for a in given):
        given.append("--no-exact-finish")
    result = CliRunner().invoke(main, given, env=env)
    return result.exit_code, result.output


def newest_run(season: str) -> Run:
    with session_scope() as session:
        run = session.scalar(select(Run).where(Run.season == season).order_by(Run.created_at.desc()))
        assert run is not None
        return run


def load_catalogue() -> None:
    """The small catalogue of tests/catalogue.py, through the services."""
    with get_sessionmaker()() as session:
        bulk_upsert_counties(session, rows=[CountyIn.model_validate(COUNTY)])
        bulk_upsert_townships(session, rows=[TownshipIn.model_validate(t) for t in TOWNSHIPS])
        bulk_upsert_villages(session, rows=[VillageIn.model_validate(v) for v in VILLAGES])
        bulk_upsert_specialists(session, rows=[SpecialistIn.model_validate(s) for s in SPECIALISTS])
        session.commit()


def records() -> list[dict[str, Any]]:
    """Every stored service record, by key."""
    with get_sessionmaker()() as session:
        rows = session.scalars(select(ServiceRecord).order_by(ServiceRecord.season, ServiceRecord.specialist_code,
                                                              ServiceRecord.village_code))
        return [{"season": r.season, "specialist": r.specialist_code, "village": r.village_code, "grade": r.grade,
                 "service_days": r.service_days, "visits": r.visits, "note": r.note, "version": r.version}
                for r in rows]


def specialist_bodies() -> list[dict[str, Any]]:
    with get_sessionmaker()() as session:
        rows = list(session.scalars(select(Specialist).order_by(Specialist.code)))
        return specialists_out(session, specialists=rows)
