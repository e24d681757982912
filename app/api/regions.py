"""Counties and townships: CRUD, lists with cursor pagination, bulk upsert."""

from typing import Annotated, Any

from fastapi import APIRouter, Body, Response, status

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
from app.schemas.common import IF_MATCH_RESPONSES, BulkResult, CountyCode, ListPage
from app.schemas.regions import CountyIn, CountyOut, TownshipIn, TownshipOut
from app.services import regions as svc
from models import County, Township

router = APIRouter(tags=["regions"])
SORTS_COUNTY = {"code": County.code, "name": County.name, "updated_at": County.updated_at}
SORTS_TOWNSHIP = {"code": Township.code, "name": Township.name, "updated_at": Township.updated_at}


@router.get("/counties", response_model=ListPage[CountyOut])
def list_counties(session: SessionDep, cursor: Cursor = None, limit: Limit = 100,
                  sort: Annotated[str, sort_query(SORTS_COUNTY, "code")] = "code") -> Any:
    page = paginate(session, svc.list_counties_query(), sort=sort, columns=SORTS_COUNTY, id_column=County.id,
                    cursor=cursor, limit=limit)
    return {"items": page.items, "next_cursor": page.next_cursor}


@router.post("/counties", response_model=CountyOut, status_code=status.HTTP_201_CREATED)
def create_county(session: SessionDep, data: CountyIn, response: Response) -> Any:
    county = svc.create_county(session, data=data)
    set_etag(response, county.code, county.version)
    return county


@router.post("/counties/bulk", response_model=BulkResult)
def bulk_counties(session: SessionDep, settings: SettingsDep, rows: Annotated[list[CountyIn], Body()]) -> Any:
    check_bulk_size(rows, settings.max_bulk_rows)
    counts = svc.bulk_upsert_counties(session, rows=rows)
    return BulkResult(**counts._asdict(), total=len(rows))


@router.get("/counties/{code}", response_model=CountyOut)
def read_county(session: SessionDep, code: str, response: Response) -> Any:
    county = svc.get_county(session, code=code)
    set_etag(response, county.code, county.version)
    return county


@router.put("/counties/{code}", responses=IF_MATCH_RESPONSES, response_model=CountyOut)
def replace_county(session: SessionDep, code: str, data: CountyIn, response: Response, if_match: IfMatch = None) -> Any:
    county = svc.get_county(session, code=code)
    guard_version(session, county, if_match)
    county = svc.update_county(session, county=county, data=data)
    set_etag(response, county.code, county.version)
    return county


@router.patch("/counties/{code}", responses=IF_MATCH_RESPONSES, response_model=CountyOut)
def patch_county(session: SessionDep, code: str, patch: Annotated[dict[str, Any], patch_body(CountyIn)], response: Response,
                 if_match: IfMatch = None) -> Any:
    county = svc.get_county(session, code=code)
    guard_version(session, county, if_match)
    current = CountyOut.model_validate(county).model_dump(include=set(CountyIn.model_fields))
    county = svc.update_county(session, county=county, data=apply_patch(CountyIn, current, patch))
    set_etag(response, county.code, county.version)
    return county


@router.delete("/counties/{code}", responses=IF_MATCH_RESPONSES, status_code=status.HTTP_204_NO_CONTENT)
def delete_county(session: SessionDep, code: str, if_match: IfMatch = None) -> None:
    county = svc.get_county(session, code=code)
    guard_version(session, county, if_match)
    svc.delete_county(session, county=county)


@router.get("/townships", response_model=ListPage[TownshipOut])
def list_townships(session: SessionDep, county: CountyCode | None = None, cursor: Cursor = None, limit: Limit = 100,
                   sort: Annotated[str, sort_query(SORTS_TOWNSHIP, "code")] = "code") -> Any:
    page = paginate(session, svc.list_townships_query(county=county), sort=sort, columns=SORTS_TOWNSHIP,
                    id_column=Township.id, cursor=cursor, limit=limit)
    return {"items": [svc.township_out(t) for t in page.items], "next_cursor": page.next_cursor}


@router.post("/townships", response_model=TownshipOut, status_code=status.HTTP_201_CREATED)
def create_township(session: SessionDep, data: TownshipIn, response: Response) -> Any:
    township = svc.create_township(session, data=data)
    set_etag(response, township.code, township.version)
    return svc.township_out(township)


@router.post("/townships/bulk", response_model=BulkResult)
def bulk_townships(session: SessionDep, settings: SettingsDep, rows: Annotated[list[TownshipIn], Body()]) -> Any:
    check_bulk_size(rows, settings.max_bulk_rows)
    counts = svc.bulk_upsert_townships(session, rows=rows)
    return BulkResult(**counts._asdict(), total=len(rows))


@router.get("/townships/{code}", response_model=TownshipOut)
def read_township(session: SessionDep, code: str, response: Response) -> Any:
    township = svc.get_township(session, code=code)
    set_etag(response, township.code, township.version)
    return svc.township_out(township)


@router.put("/townships/{code}", responses=IF_MATCH_RESPONSES, response_model=TownshipOut)
def replace_township(session: SessionDep, code: str, data: TownshipIn, response: Response,
                     if_match: IfMatch = None) -> Any:
    township = svc.get_township(session, code=code)
    guard_version(session, township, if_match)
    township = svc.update_township(session, township=township, data=data)
    set_etag(response, township.code, township.version)
    return svc.township_out(township)


@router.patch("/townships/{code}", responses=IF_MATCH_RESPONSES, response_model=TownshipOut)
def patch_township(session: SessionDep, code: str, patch: Annotated[dict[str, Any], patch_body(TownshipIn)], response: Response,
                   if_match: IfMatch = None) -> Any:
    township = svc.get_township(session, code=code)
    guard_version(session, township, if_match)
    current = {k: v for k, v in svc.township_out(township).items() if k in TownshipIn.model_fields}
    township = svc.update_township(session, township=township, data=apply_patch(TownshipIn, current, patch))
    set_etag(response, township.code, township.version)
    return svc.township_out(township)


@router.delete("/townships/{code}", responses=IF_MATCH_RESPONSES, status_code=status.HTTP_204_NO_CONTENT)
def delete_township(session: SessionDep, code: str, if_match: IfMatch = None) -> None:
    township = svc.get_township(session, code=code)
    guard_version(session, township, if_match)
    svc.delete_township(session, township=township)
