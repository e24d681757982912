"""Service records (服务记录): per season and pairing, grade, service days and visits; filtered lists, bulk upsert."""

from typing import Annotated, Any

from fastapi import APIRouter, Body, Query, status

from app.api.common import Cursor, Limit, check_bulk_size, paginate, sort_query
from app.api.deps import SessionDep, SettingsDep
from app.schemas.common import BulkResult, ListPage
from app.schemas.records import ServiceRecordFilters, ServiceRecordIn, ServiceRecordOut
from app.services import records as svc
from models import ServiceRecord

router = APIRouter(prefix="/service-records", tags=["service records"])
SORTS = {"season": ServiceRecord.season, "updated_at": ServiceRecord.updated_at}


@router.get("", response_model=ListPage[ServiceRecordOut])
def list_records(session: SessionDep, filters: Annotated[ServiceRecordFilters, Query()], cursor: Cursor = None,
                 limit: Limit = 100, sort: Annotated[str, sort_query(SORTS, "season")] = "season") -> Any:
    page = paginate(session, svc.list_records_query(filters=filters), sort=sort, columns=SORTS,
                    id_column=ServiceRecord.id, cursor=cursor, limit=limit)
    return {"items": [svc.record_out(r) for r in page.items], "next_cursor": page.next_cursor}


@router.post("/bulk", response_model=BulkResult)
def bulk_records(session: SessionDep, settings: SettingsDep, rows: Annotated[list[ServiceRecordIn], Body()]) -> Any:
    check_bulk_size(rows, settings.max_bulk_rows)
    created, updated = svc.bulk_upsert_records(session, rows=rows)
    return BulkResult(created=created, updated=updated, total=len(rows))


@router.delete("/{season}/{specialist}/{village}", status_code=status.HTTP_204_NO_CONTENT)
def delete_record(session: SessionDep, season: str, specialist: str, village: str) -> None:
    svc.delete_record(session, record=svc.get_record(session, season=season, specialist=specialist, village=village))
