"""The name list a bureau circulates: pairings, uncovered villages and coverage by county, as xlsx, csv or json."""

import csv
import io
import json
from typing import Any

from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.workbook.child import _WorkbookChild
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.services.results import Explainer, explainer
from models import Run, RunAssignment, RunUncovered

PAIR_HEADERS = ["县区", "乡镇", "行政村", "区划代码", "特派员", "特派员编号", "派出单位", "专长", "匹配产业", "距离(km)",
                "是否延续"]
UNCOVERED_HEADERS = ["县区", "乡镇", "行政村", "区划代码", "缺口人数", "原因"]
# 优先村: the policy's first-served villages (脱贫村, 定点帮扶村, 三区), not the catalogue's 重点村 flag.
COUNTY_HEADERS = ["县区", "区划代码", "应覆盖村数", "已覆盖村数", "覆盖率", "优先村数（脱贫/定点帮扶/三区）", "优先村已覆盖"]
PERCENT_COLUMNS = {COUNTY_HEADERS.index("覆盖率")}
# The sheets, by the key the CSV export and the JSON body use and by their Chinese title.
SHEETS = {"pairings": "结对名单", "uncovered": "未覆盖村", "counties": "分县覆盖"}
SHEET_KEYS = {**{k: k for k in SHEETS}, **{title: k for k, title in SHEETS.items()}}


def _names(explain: Explainer) -> dict[str, Any]:
    """Display names as frozen with the run's input (codes stand in for anything unnamed)."""
    frozen = explain.names
    places, people, industries = frozen["places"], frozen["specialists"], frozen["industries"]
    return {
        "county": places, "township": places, "village": places, "industry": industries,
        "specialist": {c: (people.get(c, c), org) for c, org in frozen["orgs"].items()},
        "expertise": {c: [industries.get(i, i) for i in e] for c, e in frozen["expertise"].items()},
    }


def _pair_rows(session: Session, run_id: str, names: dict[str, Any]) -> list[list[Any]]:
    rows = []
    for a in session.scalars(select(RunAssignment).where(RunAssignment.run_id == run_id)
                             .order_by(RunAssignment.village_code, RunAssignment.specialist_code)):
        name, org = names["specialist"].get(a.specialist_code, (a.specialist_code, ""))
        matched = "、".join(names["industry"].get(m[0], m[0]) for m in a.matched)
        rows.append([
            names["county"].get(a.county_code, a.county_code), names["township"].get(a.township_code, a.township_code),
            names["village"].get(a.village_code, a.village_code), a.village_code, name, a.specialist_code, org,
            "、".join(names["expertise"].get(a.specialist_code, [])), matched, round(a.distance_km, 1),
            "是" if a.continuity else "否",
        ])
    return rows


def _uncovered_rows(uncovered: list[RunUncovered], explain: Explainer) -> list[list[Any]]:
    """One row per uncovered village, its reasons in Chinese."""
    return [
        [explain.place(u.county_code), explain.place(u.township_code), explain.place(u.village_code), u.village_code,
         u.missing, "；".join(explain.reason_zh(r, village=u.village_code, missing=u.missing) for r in u.reasons)]
        for u in uncovered
    ]


def _county_rows(run: Run, names: dict[str, Any]) -> list[list[Any]]:
    return [
        [names["county"].get(c["county"], c["county"]), c["county"], c.get("villages", 0), c.get("covered", 0),
         c.get("coverage", 0), c.get("priority", 0), c.get("priority_covered", 0)]
        for c in (run.result or {}).get("by_county", [])
    ]


def _sheets(session: Session, run: Run) -> dict[str, tuple[list[str], list[list[Any]]]]:
    """Every sheet's headers and rows, by key."""
    uncovered = list(session.scalars(select(RunUncovered).where(RunUncovered.run_id == run.id)
                                     .order_by(RunUncovered.village_code)))
    explain = explainer(session, run=run, villages=[u.village_code for u in uncovered])
    names = _names(explain)
    return {"pairings": (PAIR_HEADERS, _pair_rows(session, run.id, names)),
            "uncovered": (UNCOVERED_HEADERS, _uncovered_rows(uncovered, explain)),
            "counties": (COUNTY_HEADERS, _county_rows(run, names))}


def _percent(ws: _WorkbookChild, value: float) -> Any:
    """A write-only cell shown as a percentage (0.0%)."""
    cell = WriteOnlyCell(ws, value=value)
    cell.number_format = "0.0%"
    return cell


def _xlsx_row(ws: _WorkbookChild, row: list[Any], percent: set[int]) -> list[Any]:
    """A row for a write-only sheet, the given columns as percentages."""
    return [_percent(ws, v) if i in percent else v for i, v in enumerate(row)]


def _workbook(sheets: dict[str, tuple[list[str], list[list[Any]]]]) -> bytes:
    """The three sheets as one workbook."""
    wb = Workbook(write_only=True)
    for key, (headers, rows) in sheets.items():
        ws = wb.create_sheet(SHEETS[key])
        ws.append(headers)
        percent = PERCENT_COLUMNS if key == "counties" else set()
        for r in rows:
            ws.append(_xlsx_row(ws, r, percent))
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def export_run(session: Session, *, run: Run, fmt: str, sheet: str = "pairings") -> tuple[bytes, str, str]:
    """The run's name list as (content, media type, file name); CSV holds one sheet (by key or Chinese title)."""
    sheets = _sheets(session, run)
    stem = f"jiedui-run-{run.id[:8]}"
    if fmt == "json":
        body = {"run": run.id, "state": run.state, "season": run.season,
                **{key: [dict(zip(headers, r)) for r in rows] for key, (headers, rows) in sheets.items()}}
        return json.dumps(body, ensure_ascii=False).encode(), "application/json", f"{stem}.json"
    if fmt == "csv":
        key = SHEET_KEYS[sheet]
        headers, rows = sheets[key]
        buf = io.StringIO()
        writer = csv.writer(buf)
        writer.writerow(headers)
        writer.writerows(rows)
        name = stem if key == "pairings" else f"{stem}-{key}"
        return ("\ufeff" + buf.getvalue()).encode("utf-8"), "text/csv; charset=utf-8", f"{name}.csv"
    return (_workbook(sheets), "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", f"{stem}.xlsx")
