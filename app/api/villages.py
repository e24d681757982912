"""Villages (行政村 / 社区) with their industry needs: CRUD, filtered lists with cursor pagination, bulk upsert."""

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
from app.schemas.common import IF_MATCH_RESPONSES, BulkResult, CountyCode, ListPage, TownshipCode
from app.schemas.merge import merge_base
from app.schemas.villages import NeedIn, VillageIn, VillageKind, VillageOut
from app.services import villages as svc
from app.services.industries import industry_codes_by_id, resolve_industries
from models import Village

router = APIRouter(tags=["villages"])
SORTS = {"code": Village.code, "name": Village.name, "updated_at": Village.updated_at}
Flag = Annotated[bool | None, Query()]


@router.get("/villages", response_model=ListPage[VillageOut])
def list_villages(
    session: SessionDep,
    county: Annotated[CountyCode | None, Query(description="6-digit county code")] = None,
    township: Annotated[TownshipCode | None, Query(description="9-digit township code")] = None,
    industry: Annotated[str | None, Query(description="has a need in this industry")] = None,
    primary_industry: Annotated[str | None, Query(description="its primary need is this industry")] = None,
    kind: Annotated[VillageKind | None, Query()] = None,
    poverty_alleviated: Flag = None,
    designated_support: Flag = None,
    three_areas: Flag = None,
    key_village: Flag = None,
    excluded: Flag = None,
    priority: Annotated[bool | None, Query(description="poverty-alleviated, designated support or 三区")] = None,
    name_contains: Annotated[str | None, Query(max_length=100)] = None,
    cursor: Cursor = None,
    limit: Limit = 100,
    sort: Annotated[str, sort_query(SORTS, "code")] = "code",
) -> Any:
    named = (("industry", industry), ("primary_industry", primary_industry))
    wanted: list[tuple[int | None, str, str]] = [(None, field, code) for field, code in named if code]
    resolve_industries(session, refs=wanted)  # an unknown industry is a 422, as for specialists
    stmt = svc.list_villages_query(
        county=county, township=township, industry=industry, primary_industry=primary_industry, kind=kind,
        poverty_alleviated=poverty_alleviated, designated_support=designated_support, three_areas=three_areas,
        key_village=key_village, excluded=excluded, priority=priority, name_contains=name_contains,
    )
    page = paginate(session, stmt, sort=sort, columns=SORTS, id_column=Village.id, cursor=cursor, limit=limit)
    codes = industry_codes_by_id(session)
    return {"items": [svc.village_out(v, codes) for v in page.items], "next_cursor": page.next_cursor}


@router.post("/villages", response_model=VillageOut, status_code=status.HTTP_201_CREATED)
def create_village(session: SessionDep, data: VillageIn, response: Response) -> Any:
    village = svc.create_village(session, data=data)
    set_etag(response, village.code, village.version)
    return svc.village_out(village, industry_codes_by_id(session))


@router.post("/villages/bulk", response_model=BulkResult)
def bulk_villages(session: SessionDep, settings: SettingsDep, rows: Annotated[list[VillageIn], Body()]) -> Any:
    check_bulk_size(rows, settings.max_bulk_rows)
    counts = svc.bulk_upsert_villages(session, rows=rows)
    return BulkResult(**counts._asdict(), total=len(rows))


@router.get("/villages/{code}", response_model=VillageOut)
def read_village(session: SessionDep, code: str, response: Response) -> Any:
    village = svc.get_village(session, code=code)
    set_etag(response, village.code, village.version)
    return svc.village_out(village, industry_codes_by_id(session))


@router.put("/villages/{code}", responses=IF_MATCH_RESPONSES, response_model=VillageOut)
def replace_village(session: SessionDep, code: str, data: VillageIn, response: Response,
                    if_match: IfMatch = None) -> Any:
    village = svc.get_village(session, code=code)
    guard_version(session, village, if_match)
    village = svc.update_village(session, village=village, data=data)
    set_etag(response, village.code, village.version)
    return svc.village_out(village, industry_codes_by_id(session))


@router.patch("/villages/{code}", responses=IF_MATCH_RESPONSES, response_model=VillageOut)
def patch_village(session: SessionDep, code: str, patch: Annotated[dict[str, Any], patch_body(VillageIn)], response: Response,
                  if_match: IfMatch = None) -> Any:
    village = svc.get_village(session, code=code)
    guard_version(session, village, if_match)
    codes = industry_codes_by_id(session)
    current = {k: v for k, v in svc.village_out(village, codes).items() if k in VillageIn.model_fields}
    current["needs"] = [{k: v for k, v in n.items() if k in NeedIn.model_fields} for n in current["needs"]]
    village = svc.update_village(session, village=village,
                                 data=apply_patch(VillageIn, merge_base(current, patch), patch))
    set_etag(response, village.code, village.version)
    return svc.village_out(village, codes)


@router.delete("/villages/{code}", responses=IF_MATCH_RESPONSES, status_code=status.HTTP_204_NO_CONTENT)
def delete_village(session: SessionDep, code: str, if_match: IfMatch = None) -> None:
    village = svc.get_village(session, code=code)
    guard_version(session, village, if_match)
    svc.delete_village(session, village=village)
