"""Matching runs over HTTP: submit (202), watch, cancel, re-run, read results, export and compare."""

from dataclasses import dataclass
from datetime import datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Header, Request, Response, status
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import HTMLResponse, JSONResponse
from pydantic import ValidationError

from app.api.common import Cursor, Limit, paginate
from app.api.deps import SessionDep
from app.errors import InvalidInput, errors_from_pydantic, row_error
from app.schemas.runs import ExportSheet, RunCreate, RunOut
from app.services import results as res
from app.services import runs as svc
from app.services.changes import change_names, change_report, report_html, report_xlsx
from app.services.export import export_run
from app.services.overrides import read_override_csv
from app.settings import get_settings
from models import Run, RunAssignment, RunUncovered
from solver import PairTable

router = APIRouter(tags=["runs"])


def _run_body(run: Run) -> dict[str, Any]:
    body = RunOut.model_validate(run, from_attributes=True).model_dump(mode="json")
    body["links"] = svc.run_links(run.id)
    return body


def add_run_schemas(openapi: dict[str, Any]) -> dict[str, Any]:
    """Put RunCreate and the models it uses into the OpenAPI components (the body is parsed by hand)."""
    schema = RunCreate.model_json_schema(ref_template="#/components/schemas/{model}")
    components = openapi.setdefault("components", {}).setdefault("schemas", {})
    components.update(schema.pop("$defs", {}))
    components["RunCreate"] = schema
    return openapi


@dataclass
class Submission:
    body: RunCreate
    table: PairTable | None


async def read_submission(request: Request) -> Submission:
    """A run's parameters as JSON, or multipart with a `params` JSON field and an `overrides` CSV file.

    The CSV (`specialist,village,score,effort_days`, up to a million lines) is spooled to disk by the
    multipart parser and read line by line into columns in a worker thread.
    """
    settings = get_settings()
    if request.headers.get("content-type", "").startswith("multipart/form-data"):
        form = await request.form(max_files=1, max_fields=4)
        unknown = sorted(k for k in form if k not in ("params", "overrides"))
        if unknown:
            raise InvalidInput(f"unknown multipart field(s) {unknown}; send `params` (JSON) and `overrides` (CSV file)",
                               errors=[row_error(None, k, "unknown field") for k in unknown])
        params, upload = form.get("params") or "{}", form.get("overrides")
        body = _parse_params(params if isinstance(params, str) else _text(await params.read(), "params"))
        table = None
        if isinstance(upload, str):
            raise InvalidInput("overrides must be a file upload", errors=[row_error(None, "overrides", "not a file")])
        if upload is not None:
            table = await run_in_threadpool(read_override_csv, upload.file, max_pairs=settings.max_override_pairs)
        return Submission(body, table)
    return Submission(_parse_params(_text(await request.body(), "(body)") or "{}"), None)


def _text(raw: bytes, field: str) -> str:
    try:
        return raw.decode()
    except UnicodeDecodeError as exc:
        raise InvalidInput(f"{field} is not UTF-8 text", errors=[row_error(None, field, "not UTF-8")]) from exc


def _parse_params(raw: str) -> RunCreate:
    try:
        return RunCreate.model_validate_json(raw)
    except ValidationError as exc:
        errors = errors_from_pydantic(list(exc.errors()), skip=0)
        first = errors[0]
        raise InvalidInput(f"invalid run parameters (field {first['field']}): {first['message']}", errors=errors) from exc


RUN_BODY = {"requestBody": {"required": True, "content": {
    "application/json": {"schema": {"$ref": "#/components/schemas/RunCreate"}},
    "multipart/form-data": {"schema": {"type": "object", "properties": {
        "params": {"type": "string", "description": "the JSON body, as a string"},
        "overrides": {"type": "string", "format": "binary",
                      "description": "CSV specialist,village,score,effort_days (up to 1,000,000 lines)"}}}},
}}}


@router.post("/runs", status_code=status.HTTP_202_ACCEPTED, openapi_extra=RUN_BODY)
def submit_run(session: SessionDep, submission: Annotated[Submission, Depends(read_submission)],
               idempotency_key: Annotated[str | None, Header(alias="Idempotency-Key", max_length=200)] = None) -> Any:
    run, created = svc.submit_run(session, body=submission.body, table=submission.table,
                                  idempotency_key=idempotency_key)
    code = status.HTTP_202_ACCEPTED if created else status.HTTP_200_OK
    return JSONResponse(_run_body(run), status_code=code, headers={"Location": f"/api/v1/runs/{run.id}"})


@router.get("/runs")
def list_runs(session: SessionDep, state: str | None = None, season: str | None = None,
              created_after: datetime | None = None, created_before: datetime | None = None,
              cursor: Cursor = None, limit: Limit = 50) -> Any:
    stmt = svc.list_runs_query(state=state, season=season, created_after=created_after, created_before=created_before)
    page = paginate(session, stmt, sort="-created_at", columns={"created_at": Run.created_at}, id_column=Run.id,
                    cursor=cursor, limit=limit)
    return {"items": [_run_body(r) for r in page.items], "next_cursor": page.next_cursor}


@router.get("/runs/{run_id}")
def read_run(session: SessionDep, run_id: str) -> Any:
    return _run_body(svc.get_run(session, run_id=run_id))


@router.post("/runs/{run_id}/cancel")
def cancel_run(session: SessionDep, run_id: str) -> Any:
    return _run_body(svc.cancel_run(session, run=svc.get_run(session, run_id=run_id)))


@router.post("/runs/{run_id}/rerun", status_code=status.HTTP_202_ACCEPTED)
def rerun(session: SessionDep, run_id: str, response: Response) -> Any:
    new = svc.rerun(session, run=svc.get_run(session, run_id=run_id))
    response.headers["Location"] = f"/api/v1/runs/{new.id}"
    return _run_body(new)


@router.get("/runs/{run_id}/summary")
def summary(session: SessionDep, run_id: str) -> Any:
    run = svc.get_run(session, run_id=run_id)
    return {"run_id": run.id, "state": run.state, "season": run.season, "snapshot_hash": run.snapshot_hash,
            "progress": run.progress, **res.named_result(session, run=run)}


@router.get("/runs/{run_id}/assignments")
def assignments(session: SessionDep, run_id: str, county: str | None = None, township: str | None = None,
                village: str | None = None, specialist: str | None = None, cursor: Cursor = None,
                limit: Limit = 100) -> Any:
    svc.answered_run(session, run_id=run_id)
    stmt = res.assignments_query(run_id=run_id, county=county, township=township, village=village,
                                 specialist=specialist)
    page = paginate(session, stmt, sort="village_code", columns={"village_code": RunAssignment.village_code},
                    id_column=RunAssignment.id, cursor=cursor, limit=limit)
    items = [{"specialist": a.specialist_code, "village": a.village_code, "township": a.township_code,
              "county": a.county_code, "score": a.score, "distance_km": a.distance_km,
              "distance_estimated": a.distance_estimated, "continuity": a.continuity, "locked": a.locked,
              "matched": [{"industry": m[0], "proficiency": m[1], "weight": m[2]} for m in a.matched],
              "reason": a.reason} for a in page.items]
    return {"items": items, "next_cursor": page.next_cursor}


@router.get("/runs/{run_id}/uncovered")
def uncovered(session: SessionDep, run_id: str, county: str | None = None, cursor: Cursor = None,
              limit: Limit = 100) -> Any:
    run = svc.answered_run(session, run_id=run_id)
    page = paginate(session, res.uncovered_query(run_id=run_id, county=county), sort="village_code",
                    columns={"village_code": RunUncovered.village_code}, id_column=RunUncovered.id,
                    cursor=cursor, limit=limit)
    explain = res.explainer(session, run=run, villages=[u.village_code for u in page.items])
    return {"items": [explain.uncovered_item(u) for u in page.items], "next_cursor": page.next_cursor,
            "recruitment": res.recruitment(run, explain=explain, county=county)}


@router.get("/runs/{run_id}/export")
def export(session: SessionDep, run_id: str, format: Literal["xlsx", "csv", "json"] = "xlsx",
           sheet: ExportSheet | None = None) -> Response:
    if sheet is not None and format != "csv":
        raise InvalidInput(f"sheet applies to format=csv only (format={format} holds every sheet)",
                           errors=[row_error(None, "sheet", "only with format=csv")])
    content, media, filename = export_run(session, run=svc.answered_run(session, run_id=run_id), fmt=format,
                                          sheet=sheet or "pairings")
    return Response(content, media_type=media, headers={"Content-Disposition": f'attachment; filename="{filename}"'})


@router.get("/runs/{a}/diff/{b}")
def diff(session: SessionDep, a: str, b: str) -> Any:
    svc.answered_run(session, run_id=a)
    svc.answered_run(session, run_id=b)
    return res.diff_runs(session, a=a, b=b)


@router.get("/runs/{run_id}/changes")
def changes(session: SessionDep, run_id: str, format: Literal["json", "html", "xlsx"] = "json") -> Any:
    run = svc.answered_run(session, run_id=run_id)
    report = change_report(session, run=run)
    if format == "json":
        return report
    names = change_names(session, run=run)
    if format == "html":
        return HTMLResponse(report_html(report, names))
    return Response(report_xlsx(report, names),
                    media_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                    headers={"Content-Disposition": f'attachment; filename="jiedui-changes-{run_id[:8]}.xlsx"'})
