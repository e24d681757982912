"""The name list a bureau circulates: pairings, uncovered villages and coverage by county, as xlsx, csv or json."""

import csv
import io
import json
from typing import Any

from openpyxl import Workbook
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.services.runs import names_of
from models import Run, RunAssignment, RunUncovered

PAIR_HEADERS = ["县区", "乡镇", "行政村", "区划代码", "特派员", "特派员编号", "派出单位", "专长", "匹配产业", "距离(km)",
                "是否延续"]
UNCOVERED_HEADERS = ["县区", "乡镇", "行政村", "区划代码", "缺口人数", "原因"]
COUNTY_HEADERS = ["县区", "区划代码", "应覆盖村数", "已覆盖村数", "覆盖率", "重点村数", "重点村已覆盖"]


def _names(session: Session, run: Run) -> dict[str, Any]:
    """Display names as frozen with the run's input (codes stand in for anything unnamed)."""
    frozen = names_of(session, runs=[run])
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


def _uncovered_rows(session: Session, run_id: str, names: dict[str, Any]) -> list[list[Any]]:
    return [
        [names["county"].get(u.county_code, u.county_code), names["township"].get(u.township_code, u.township_code),
         names["village"].get(u.village_code, u.village_code), u.village_code, u.missing,
         "；".join(r["message"] for r in u.reasons)]
        for u in session.scalars(select(RunUncovered).where(RunUncovered.run_id == run_id)
                                 .order_by(RunUncovered.village_code))
    ]


def _county_rows(run: Run, names: dict[str, Any]) -> list[list[Any]]:
    return [
        [names["county"].get(c["county"], c["county"]), c["county"], c.get("villages", 0), c.get("covered", 0),
         c.get("coverage", 0), c.get("priority", 0), c.get("priority_covered", 0)]
        for c in (run.result or {}).get("by_county", [])
    ]


def export_run(session: Session, *, run: Run, fmt: str) -> tuple[bytes, str, str]:
    """The run's name list as (content, media type, file name)."""
    names = _names(session, run)
    pairs = _pair_rows(session, run.id, names)
    uncovered = _uncovered_rows(session, run.id, names)
    counties = _county_rows(run, names)
    stem = f"jiedui-run-{run.id[:8]}"
    if fmt == "json":
        body = {"run": run.id, "state": run.state, "season": run.season,
                "pairings": [dict(zip(PAIR_HEADERS, r)) for r in pairs],
                "uncovered": [dict(zip(UNCOVERED_HEADERS, r)) for r in uncovered],
                "counties": [dict(zip(COUNTY_HEADERS, r)) for r in counties]}
        return json.dumps(body, ensure_ascii=False).encode(), "application/json", f"{stem}.json"
    if fmt == "csv":
        buf = io.StringIO()
        writer = csv.writer(buf)
        writer.writerow(PAIR_HEADERS)
        writer.writerows(pairs)
        return ("\ufeff" + buf.getvalue()).encode("utf-8"), "text/csv; charset=utf-8", f"{stem}.csv"
    wb = Workbook(write_only=True)
    for title, headers, rows in (("结对名单", PAIR_HEADERS, pairs), ("未覆盖村", UNCOVERED_HEADERS, uncovered),
                                 ("分县覆盖", COUNTY_HEADERS, counties)):
        ws = wb.create_sheet(title)
        ws.append(headers)
        for r in rows:
            ws.append(r)
    out = io.BytesIO()
    wb.save(out)
    return (out.getvalue(), "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", f"{stem}.xlsx")
