"""Specialists (科技特派员): CRUD with ETags, filtered lists with cursor pagination, team lookup, bulk upsert."""

from typing import Annotated, Any

from fastapi import APIRouter, Body, Query, Response, status

from app.api.common import (
    Cursor,
    Limit,
    apply_patch,
    check_bulk_size,
    guard_version,
    paginate,
    patch_body,
    set_etag,
    sort_query,
)
from app.api.deps import IfMatch, SessionDep, SettingsDep
from app.schemas.common import IF_MATCH_RESPONSES, BulkResult, ListPage
from app.schemas.merge import merge_base
from app.schemas.specialists import SpecialistFilters, SpecialistIn, SpecialistOut
from app.services import specialists as svc
from models import Specialist

router = APIRouter(prefix="/specialists", tags=["specialists"])
SORTS = {"code": Specialist.code, "name": Specialist.name, "updated_at": Specialist.updated_at,
         "capacity": Specialist.capacity}


@router.get("", response_model=ListPage[SpecialistOut])
def list_specialists(session: SessionDep, filters: Annotated[SpecialistFilters, Query()], cursor: Cursor = None,
                     limit: Limit = 100, sort: Annotated[str, sort_query(SORTS, "code")] = "code") -> Any:
    page = paginate(session, svc.list_specialists_query(session, filters=filters), sort=sort, columns=SORTS,
                    id_column=Specialist.id, cursor=cursor, limit=limit)
    return {"items": svc.specialists_out(session, specialists=page.items), "next_cursor": page.next_cursor}


@router.post("", response_model=SpecialistOut, status_code=status.HTTP_201_CREATED)
def create_specialist(session: SessionDep, data: SpecialistIn, response: Response) -> Any:
    specialist = svc.create_specialist(session, data=data)
    set_etag(response, specialist.code, specialist.version)
    return svc.specialist_out(session, specialist=specialist)


@router.post("/bulk", response_model=BulkResult)
def bulk_specialists(session: SessionDep, settings: SettingsDep, rows: Annotated[list[SpecialistIn], Body()]) -> Any:
    check_bulk_size(rows, settings.max_bulk_rows)
    counts = svc.bulk_upsert_specialists(session, rows=rows)
    return BulkResult(**counts._asdict(), total=len(rows))


@router.get("/{code}", response_model=SpecialistOut)
def read_specialist(session: SessionDep, code: str, response: Response) -> Any:
    specialist = svc.get_specialist(session, code=code)
    set_etag(response, specialist.code, specialist.version)
    return svc.specialist_out(session, specialist=specialist)


@router.get("/{code}/team", response_model=SpecialistOut)
def read_team_of(session: SessionDep, code: str, response: Response) -> Any:
    team = svc.get_team(session, specialist=svc.get_specialist(session, code=code))
    set_etag(response, team.code, team.version)
    return svc.specialist_out(session, specialist=team)


@router.put("/{code}", responses=IF_MATCH_RESPONSES, response_model=SpecialistOut)
def replace_specialist(session: SessionDep, code: str, data: SpecialistIn, response: Response,
                       if_match: IfMatch = None) -> Any:
    specialist = svc.get_specialist(session, code=code)
    guard_version(session, specialist, if_match)
    specialist = svc.update_specialist(session, specialist=specialist, data=data)
    set_etag(response, specialist.code, specialist.version)
    return svc.specialist_out(session, specialist=specialist)


@router.patch("/{code}", responses=IF_MATCH_RESPONSES, response_model=SpecialistOut)
def patch_specialist(session: SessionDep, code: str, patch: Annotated[dict[str, Any], patch_body(SpecialistIn)],
                     response: Response, if_match: IfMatch = None) -> Any:
    specialist = svc.get_specialist(session, code=code)
    guard_version(session, specialist, if_match)
    current = {k: v for k, v in svc.specialist_out(session, specialist=specialist).items()
               if k in SpecialistIn.model_fields}
    specialist = svc.update_specialist(session, specialist=specialist,
                                       data=apply_patch(SpecialistIn, merge_base(current, patch), patch))
    set_etag(response, specialist.code, specialist.version)
    return svc.specialist_out(session, specialist=specialist)


@router.delete("/{code}", responses=IF_MATCH_RESPONSES, status_code=status.HTTP_204_NO_CONTENT)
def delete_specialist(session: SessionDep, code: str, if_match: IfMatch = None) -> None:
    specialist = svc.get_specialist(session, code=code)
    guard_version(session, specialist, if_match)
    svc.delete_specialist(session, specialist=specialist)
