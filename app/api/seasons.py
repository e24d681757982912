"""Seasons: which run holds each season's pairings, and the bureau's adoption of one run as them."""

from typing import Any

from fastapi import APIRouter, status

from app.api.deps import SessionDep
from app.errors import NotFound
from app.schemas.records import Season
from app.schemas.seasons import AdoptionIn, AdoptionOut, SeasonOut
from app.services import adoption as svc

router = APIRouter(prefix="/seasons", tags=["seasons"])


@router.get("", response_model=list[SeasonOut])
def list_seasons(session: SessionDep) -> Any:
    return svc.seasons_overview(session)


@router.get("/{season}", response_model=SeasonOut)
def read_season(session: SessionDep, season: Season) -> Any:
    found = svc.seasons_overview(session, season=season)
    if not found:
        raise NotFound(f"season {season!r} has no runs")
    return found[0]


@router.get("/{season}/adoption", response_model=AdoptionOut)
def read_adoption(session: SessionDep, season: Season) -> Any:
    return svc.adoption_out(svc.get_adoption(session, season=season))


@router.put("/{season}/adoption", response_model=AdoptionOut)
def adopt(session: SessionDep, season: Season, body: AdoptionIn) -> Any:
    adoption, replaced = svc.adopt_run(session, season=season, run_id=body.run_id, note=body.note)
    return svc.adoption_out(adoption, replaced)


@router.delete("/{season}/adoption", status_code=status.HTTP_204_NO_CONTENT)
def withdraw(session: SessionDep, season: Season) -> None:
    svc.withdraw_adoption(session, season=season)
