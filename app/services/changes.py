"""The change report of a renewal run: pairings kept, moved (with the reason), new and dropped, by county."""

import html
import io
from collections import Counter, defaultdict
from typing import Any

from openpyxl import Workbook
from sqlalchemy.orm import Session

from app.errors import InvalidInput, row_error
from app.services.results import pairs_of
from app.services.runs import names_of, snapshot_of
from app.services.snapshot import thaw
from models import Run

REASONS_ZH = {"grade": "考核不合格", "left": "特派员离任或停用", "capacity": "特派员名额已满", "better match": "更优匹配",
              "out of scope": "不在本次范围"}
KIND_ZH = {"kept": "保留", "moved": "调整", "new": "新增", "dropped": "取消"}


def _drop_reason(pair: tuple[str, str], *, grades: dict[tuple[str, str], str | None], specs: dict[str, Any],
                 load: Counter[str]) -> str:
    spec = specs.get(pair[0])
    if grades.get(pair) == "不合格" or (spec is not None and spec.grade == "不合格"):
        return "grade"
    if spec is None or not spec.active:
        return "left"
    if load[pair[0]] >= spec.capacity:
        return "capacity"
    return "better match"


def _renewed(run: Run) -> str | None:
    # The run this one renews (or takes continuity from), if any.
    params = run.params or {}
    base: str | None = params.get("renews") or params.get("previous_run")
    return base


def change_names(session: Session, *, run: Run) -> dict[str, Any]:
    """Display names for a change report: as frozen with the renewed run's input, then with this run's."""
    base = session.get(Run, _renewed(run) or "")
    return names_of(session, runs=[r for r in (base, run) if r is not None])


def change_report(session: Session, *, run: Run) -> dict[str, Any]:
    """Compare a renewal run with the run it renewed; every change carries its reason."""
    base = _renewed(run)
    if not base:
        raise InvalidInput(f"run {run.id} renewed no earlier run (no renews or previous_run)",
                           errors=[row_error(None, "renews", "missing")])
    instance = thaw(snapshot_of(session, run=run).data)
    villages = {v.id for v in instance.villages}
    specs = {s.id: s for s in instance.specialists}
    grades = {(p["specialist"], p["village"]): p.get("grade") for p in run.params.get("previous", [])}
    grades.update({(p["specialist"], p["village"]): "不合格" for p in run.params.get("forbidden", [])})
    old = {v: s for v, s in pairs_of(session, run_id=base).items() if v in villages}
    new = pairs_of(session, run_id=run.id)
    load: Counter[str] = Counter(s for ss in new.values() for s in ss)
    rows: list[dict[str, Any]] = []
    for village in sorted(set(old) | set(new)):
        before, after = old.get(village, set()), new.get(village, set())
        gone, came = sorted(before - after), sorted(after - before)
        rows += [{"kind": "kept", "village": village, "from": s, "to": s, "reason": ""} for s in sorted(before & after)]
        for i, s_old in enumerate(gone):
            reason = _drop_reason((s_old, village), grades=grades, specs=specs, load=load)
            kind = "moved" if i < len(came) else "dropped"
            rows.append({"kind": kind, "village": village, "from": s_old, "to": came[i] if i < len(came) else "",
                         "reason": reason})
        rows += [{"kind": "new", "village": village, "from": "", "to": s, "reason": ""} for s in came[len(gone):]]
    by_county: dict[str, Counter[str]] = defaultdict(Counter)
    for r in rows:
        by_county[r["village"][:6]][r["kind"]] += 1
    counts = Counter(r["kind"] for r in rows)
    return {
        "run_id": run.id, "previous_run": base, "season": run.season,
        "counts": {k: counts.get(k, 0) for k in ("kept", "moved", "new", "dropped")},
        "by_county": [{"county": c, **{k: n.get(k, 0) for k in ("kept", "moved", "new", "dropped")}}
                      for c, n in sorted(by_county.items())],
        "changes": rows,
    }


def report_xlsx(report: dict[str, Any], names: dict[str, Any]) -> bytes:
    """The report as a workbook: one sheet of changes, one of county totals."""
    place, person = names["places"].get, names["specialists"].get
    wb = Workbook(write_only=True)
    ws = wb.create_sheet("变动明细")
    ws.append(["类别", "县区", "行政村", "区划代码", "原特派员", "新特派员", "原因"])
    for r in report["changes"]:
        ws.append([KIND_ZH[r["kind"]], place(r["village"][:6], r["village"][:6]), place(r["village"], ""),
                   r["village"], person(r["from"], r["from"]), person(r["to"], r["to"]),
                   REASONS_ZH.get(r["reason"], r["reason"])])
    totals = wb.create_sheet("分县汇总")
    totals.append(["县区", "区划代码", "保留", "调整", "新增", "取消"])
    for c in report["by_county"]:
        totals.append([place(c["county"], c["county"]), c["county"], c["kept"], c["moved"], c["new"], c["dropped"]])
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def report_html(report: dict[str, Any], names: dict[str, Any]) -> str:
    """The report as a printable HTML page (A4, tables repeat their header on every page)."""
    e = html.escape
    place, person = names["places"].get, names["specialists"].get
    counts = report["counts"]
    county_rows = "".join(
        f"<tr><td>{e(place(c['county'], c['county']))}</td><td>{c['kept']}</td><td>{c['moved']}</td>"
        f"<td>{c['new']}</td><td>{c['dropped']}</td></tr>" for c in report["by_county"])
    change_rows = "".join(
        f"<tr><td>{KIND_ZH[r['kind']]}</td><td>{e(place(r['village'][:6], ''))}</td>"
        f"<td>{e(place(r['village'], r['village']))}</td><td>{r['village']}</td>"
        f"<td>{e(person(r['from'], r['from']))}</td><td>{e(person(r['to'], r['to']))}</td>"
        f"<td>{e(REASONS_ZH.get(r['reason'], r['reason']))}</td></tr>"
        for r in report["changes"] if r["kind"] != "kept")
    return f"""<!doctype html>
<html lang="zh-CN"><head><meta charset="utf-8"><title>科技特派员结对变动报告 {e(str(report['season']))}</title>
<style>
@page {{ size: A4; margin: 15mm; }}
body {{ font-family: "Noto Sans CJK SC", "Microsoft YaHei", sans-serif; font-size: 11pt; }}
table {{ border-collapse: collapse; width: 100%; margin-bottom: 1em; }}
th, td {{ border: 1px solid #444; padding: 2px 6px; }}
thead {{ display: table-header-group; }}
tr {{ page-break-inside: avoid; }}
.sign {{ margin-top: 3em; }}
</style></head><body>
<h1>科技特派员结对变动报告（{e(str(report['season']))}）</h1>
<p>本次运行 {report['run_id']}，上期运行 {report['previous_run']}。保留 {counts['kept']} 对，调整 {counts['moved']} 对，
新增 {counts['new']} 对，取消 {counts['dropped']} 对。</p>
<h2>分县汇总</h2>
<table><thead><tr><th>县区</th><th>保留</th><th>调整</th><th>新增</th><th>取消</th></tr></thead>
<tbody>{county_rows}</tbody></table>
<h2>变动明细</h2>
<table><thead><tr><th>类别</th><th>县区</th><th>行政村</th><th>区划代码</th><th>原特派员</th><th>新特派员</th><th>原因</th></tr></thead>
<tbody>{change_rows}</tbody></table>
<p class="sign">审核：＿＿＿＿＿＿　　签发：＿＿＿＿＿＿　　日期：＿＿＿＿＿＿</p>
</body></html>"""
