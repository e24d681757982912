"""Season adoptions: a bureau approves one finished run as a season's pairings (the caller commits)."""

from collections import Counter
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from app.errors import InvalidInput, NotFound, row_error
from models import Run, SeasonAdoption
from models.base import utcnow
from models.run import ANSWERED_STATES


def adopt_run(session: Session, *, season: str, run_id: str, note: str | None) -> tuple[SeasonAdoption, str | None]:
    """Make the run the season's pairings; returns the adoption and the run it replaced (if any)."""
    run = session.get(Run, run_id)
    if run is None:
        raise NotFound(f"run {run_id} not found")
    if run.season != season:
        raise InvalidInput(f"run {run_id} belongs to season {run.season!r}, not {season!r}",
                           errors=[row_error(None, "run_id", f"season {run.season!r}")])
    if run.state not in ANSWERED_STATES:
        raise InvalidInput(f"run {run_id} is {run.state}; only a run that ended optimal or feasible can be adopted",
                           errors=[row_error(None, "run_id", run.state)])
    before = session.scalar(select(SeasonAdoption.run_id).where(SeasonAdoption.season == season))
    insert = pg_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert
    stmt = insert(SeasonAdoption).values(season=season, run_id=run_id, adopted_at=utcnow(), note=note)
    # One statement, so two first adoptions of a season at once do not collide: the later one replaces.
    session.execute(stmt.on_conflict_do_update(index_elements=["season"], set_={
        "run_id": stmt.excluded.run_id, "adopted_at": stmt.excluded.adopted_at, "note": stmt.excluded.note}))
    adoption = session.get(SeasonAdoption, season, populate_existing=True)
    assert adoption is not None
    return adoption, before if before not in (None, run_id) else None


def get_adoption(session: Session, *, season: str) -> SeasonAdoption:
    """The season's adoption, or 404."""
    adoption = session.get(SeasonAdoption, season)
    if adoption is None:
        raise NotFound(f"season {season!r} has no adopted run")
    return adoption


def withdraw_adoption(session: Session, *, season: str) -> None:
    """Withdraw the season's adoption: its newest finished run stands for it again."""
    session.delete(get_adoption(session, season=season))
    session.flush()


def adoption_out(adoption: SeasonAdoption, replaced: str | None = None) -> dict[str, Any]:
    """Response fields of an adoption."""
    return {"season": adoption.season, "run_id": adoption.run_id, "adopted_at": adoption.adopted_at,
            "note": adoption.note, "replaced": replaced}


def standing_run_id(session: Session, *, season: str) -> str | None:
    """A season's newest run that ended optimal or feasible, preferring runs over every county to scoped ones."""
    scoped: str | None = None
    for run_id, params in session.execute(select(Run.id, Run.params).where(
            Run.season == season, Run.state.in_(ANSWERED_STATES)).order_by(Run.finished_at.desc(), Run.id)):
        if not (params or {}).get("counties"):
            return str(run_id)
        scoped = scoped or str(run_id)
    return scoped


def seasons_overview(session: Session, *, season: str | None = None) -> list[dict[str, Any]]:
    """Every season with runs (or just `season`): run counts, adoption and the run holding its pairings."""
    scope = Run.season.is_not(None) if season is None else Run.season == season
    runs: Counter[str] = Counter()
    finished: Counter[str] = Counter()
    for s, state, n in session.execute(select(Run.season, Run.state, func.count()).where(scope)
                                       .group_by(Run.season, Run.state)):
        assert s is not None  # the scope filters out runs without a season
        runs[s] += n
        finished[s] += n if state in ANSWERED_STATES else 0
    rank = func.row_number().over(partition_by=Run.season, order_by=(Run.finished_at.desc(), Run.id)).label("rank")
    ranked = select(Run.season, Run.id, rank).where(scope, Run.state.in_(ANSWERED_STATES)).subquery()
    newest: dict[str, str] = dict(session.execute(select(ranked.c.season, ranked.c.id).where(ranked.c.rank == 1)).all())
    adoptions = {a.season: a for a in session.scalars(select(SeasonAdoption).where(SeasonAdoption.season.in_(runs)))}
    pairing = {s: adoptions[s].run_id if s in adoptions else standing_run_id(session, season=s) for s in runs}
    held = [r for r in pairing.values() if r]
    results: dict[str, dict[str, Any] | None] = dict(
        session.execute(select(Run.id, Run.result).where(Run.id.in_(held))).all())
    return [{"season": s, "runs": runs[s], "finished": finished[s], "newest_run": newest.get(s),
             "adoption": adoption_out(adoptions[s]) if s in adoptions else None, "pairing_run": pairing[s],
             "coverage": (results.get(pairing[s] or "") or {}).get("coverage")}
            for s in sorted(runs, reverse=True)]
