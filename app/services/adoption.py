"""Season adoptions: a bureau approves one finished run as a season's pairings (the caller commits)."""

from collections import Counter
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.errors import InvalidInput, NotFound, row_error
from models import Run, SeasonAdoption
from models.base import utcnow

FINISHED = ("optimal", "feasible")


def adopt_run(session: Session, *, season: str, run_id: str, note: str | None) -> tuple[SeasonAdoption, str | None]:
    """Make the run the season's pairings; returns the adoption and the run it replaced (if any)."""
    run = session.get(Run, run_id)
    if run is None:
        raise NotFound(f"run {run_id} not found")
    if run.season != season:
        raise InvalidInput(f"run {run_id} belongs to season {run.season!r}, not {season!r}",
                           errors=[row_error(None, "run_id", f"season {run.season!r}")])
    if run.state not in FINISHED:
        raise InvalidInput(f"run {run_id} is {run.state}; only a run that ended optimal or feasible can be adopted",
                           errors=[row_error(None, "run_id", run.state)])
    adoption = session.get(SeasonAdoption, season)
    replaced = None
    if adoption is None:
        adoption = SeasonAdoption(season=season, run_id=run_id, adopted_at=utcnow(), note=note)
        session.add(adoption)
    else:
        replaced = adoption.run_id if adoption.run_id != run_id else None
        adoption.run_id, adoption.adopted_at, adoption.note = run_id, utcnow(), note
    session.flush()
    return adoption, replaced


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


def seasons_overview(session: Session, *, season: str | None = None) -> list[dict[str, Any]]:
    """Every season with runs (or just `season`): run counts, adoption and the run holding its pairings."""
    stmt = select(Run.season, Run.state, func.count()).where(Run.season.is_not(None)).group_by(Run.season, Run.state)
    if season is not None:
        stmt = stmt.where(Run.season == season)
    runs: Counter[str] = Counter()
    finished: Counter[str] = Counter()
    for s, state, n in session.execute(stmt):
        assert s is not None  # the query keeps runs with a season only
        runs[s] += n
        finished[s] += n if state in FINISHED else 0
    adoptions = {a.season: a for a in session.scalars(select(SeasonAdoption))}
    out = []
    for s in sorted(runs, reverse=True):
        newest = session.scalar(select(Run).where(Run.season == s, Run.state.in_(FINISHED))
                                .order_by(Run.finished_at.desc(), Run.id).limit(1))
        adoption = adoptions.get(s)
        pairing = session.get(Run, adoption.run_id) if adoption is not None else newest
        out.append({"season": s, "runs": runs[s], "finished": finished[s],
                    "newest_run": newest.id if newest is not None else None,
                    "adoption": adoption_out(adoption) if adoption is not None else None,
                    "pairing_run": pairing.id if pairing is not None else None,
                    "coverage": (pairing.result or {}).get("coverage") if pairing is not None else None})
    return out
