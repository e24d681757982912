"""The industry taxonomy (产业): CRUD, list with cursor pagination, bulk upsert."""

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
from app.schemas.common import IF_MATCH_RESPONSES, BulkResult, ListPage
from app.schemas.industries import IndustryIn, IndustryOut
from app.services import industries as svc
from models import Industry

router = APIRouter(tags=["industries"])
SORTS = {"code": Industry.code, "name_zh": Industry.name_zh, "updated_at": Industry.updated_at}


@router.get("/industries", response_model=ListPage[IndustryOut])
def list_industries(session: SessionDep, cursor: Cursor = None, limit: Limit = 100,
                    sort: Annotated[str, sort_query(SORTS, "code")] = "code") -> Any:
    page = paginate(session, svc.list_industries_query(), sort=sort, columns=SORTS, id_column=Industry.id,
                    cursor=cursor, limit=limit)
    return {"items": page.items, "next_cursor": page.next_cursor}


@router.post("/industries", response_model=IndustryOut, status_code=status.HTTP_201_CREATED)
def create_industry(session: SessionDep, data: IndustryIn, response: Response) -> Any:
    industry = svc.create_industry(session, data=data)
    set_etag(response, industry.code, industry.version)
    return industry


@router.post("/industries/bulk", response_model=BulkResult)
def bulk_industries(session: SessionDep, settings: SettingsDep, rows: Annotated[list[IndustryIn], Body()]) -> Any:
    check_bulk_size(rows, settings.max_bulk_rows)
    counts = svc.bulk_upsert_industries(session, rows=rows)
    return BulkResult(**counts._asdict(), total=len(rows))


@router.get("/industries/{code}", response_model=IndustryOut)
def read_industry(session: SessionDep, code: str, response: Response) -> Any:
    industry = svc.get_industry(session, code=code)
    set_etag(response, industry.code, industry.version)
    return industry


@router.put("/industries/{code}", responses=IF_MATCH_RESPONSES, response_model=IndustryOut)
def replace_industry(session: SessionDep, code: str, data: IndustryIn, response: Response,
                     if_match: IfMatch = None) -> Any:
    industry = svc.get_industry(session, code=code)
    guard_version(session, industry, if_match)
    industry = svc.update_industry(session, industry=industry, data=data)
    set_etag(response, industry.code, industry.version)
    return industry


@router.patch("/industries/{code}", responses=IF_MATCH_RESPONSES, response_model=IndustryOut)
def patch_industry(session: SessionDep, code: str, patch: Annotated[dict[str, Any], patch_body(IndustryIn)], response: Response,
                   if_match: IfMatch = None) -> Any:
    industry = svc.get_industry(session, code=code)
    guard_version(session, industry, if_match)
    current = IndustryOut.model_validate(industry).model_dump(include=set(IndustryIn.model_fields))
    industry = svc.update_industry(session, industry=industry, data=apply_patch(IndustryIn, current, patch))
    set_etag(response, industry.code, industry.version)
    return industry


@router.delete("/industries/{code}", responses=IF_MATCH_RESPONSES, status_code=status.HTTP_204_NO_CONTENT)
def delete_industry(session: SessionDep, code: str, if_match: IfMatch = None) -> None:
    industry = svc.get_industry(session, code=code)
    guard_version(session, industry, if_match)
    svc.delete_industry(session, industry=industry)
