"""The change report of a renewal run: pairings kept, moved (with the reason), new and dropped, by county.

A previous pairing that did not continue gets the first reason that holds, checked against this run's frozen
snapshot: graded 不合格 (`grade`); the specialist left or was deactivated (`left`); the pairing breaks one of this
run's rules (`ineligible`, naming it: scope, excluded village, forbidden, overrides only, expertise, radius, days,
three-areas); the specialist's capacity fell below the previous pairings it could still keep (`capacity`); the
specialist now serves villages it did not (`reassigned`, naming them); else the solver preferred another
arrangement (`better match`). Each carries its code, a detail dict and a Chinese text for the planners.
"""

import html
import io
import math
from collections import Counter, defaultdict
from dataclasses import dataclass
from typing import Any

from openpyxl import Workbook
from sqlalchemy.orm import Session

from app.errors import InvalidInput, NotFound, row_error
from app.services.records import grades_for_season
from app.services.results import pairs_of, snapshot_json
from app.services.runs import names_of, snapshot_of
from app.services.snapshot import thaw
from models import Run
from solver import MatchInstance, MatchParams, Specialist, Village
from solver.pairs import merged_overrides
from solver.validate import pair_days

Pair = tuple[str, str]
Why = tuple[str, dict[str, Any]]

REASONS_ZH = {"grade": "考核不合格", "left": "特派员离任或停用", "ineligible": "不再符合结对条件", "capacity": "特派员名额不足",
              "reassigned": "特派员改派他村", "better match": "整体优化调整"}
RULES_ZH = {"scope": "特派员不在本次运行范围（常住地不在所选县区）", "excluded": "该村已不列入覆盖范围",
            "forbidden": "该结对被列为禁止结对", "not_in_overrides": "本次只允许指定结对，该结对不在其中",
            "three_areas": "三区人才只能服务本县以外的三区村"}
KIND_ZH = {"kept": "保留", "moved": "调整", "new": "新增", "dropped": "取消"}


@dataclass
class _Renewal:
    """What a dropped pairing is checked against: this run's frozen input, grades and overrides."""

    params: MatchParams
    specs: dict[str, Specialist]
    villages: dict[str, Village]
    grades: dict[Pair, str | None]
    forbidden: set[Pair]
    out_of_scope: set[str]  # specialists of the renewed run outside this run's specialist scope
    overrides: dict[Pair, tuple[float | None, float | None]]  # (score, effort days) of dropped pairings


def _expertise_gap(rule: str, spec: Specialist, village: Village) -> str | None:
    """The village's primary industry when the specialist fails the expertise rule ("" if it lists none), else None."""
    held = {i for i, level in spec.expertise.items() if level > 0}
    primary = village.primary_industry() or ""
    if rule == "primary" and primary not in held:
        return primary
    if rule == "any" and not held & {n.industry for n in village.needs}:
        return primary
    return None


def _distance_rule(params: MatchParams, spec: Specialist, village: Village, effort: float | None) -> dict[str, Any] | None:
    """The radius or days rule the pairing breaks (with the figures), or None."""
    km, days = pair_days(spec, village, params)
    if params.use_radius and spec.max_distance_km is not None and km > spec.max_distance_km + 1e-9:
        return {"rule": "radius", "distance_km": round(km, 1), "radius_km": spec.max_distance_km}
    days = days if effort is None else effort
    if params.use_days_budget and spec.days_available is not None and days > spec.days_available + 1e-9:
        return {"rule": "days", "days": days, "days_available": spec.days_available}
    return None


def _broken_rule(ctx: _Renewal, spec: Specialist, village: Village) -> dict[str, Any] | None:
    """The first of this run's rules the pairing breaks (its detail), or None."""
    p, pair = ctx.params, (spec.id, village.id)
    if pair in ctx.forbidden:
        return {"rule": "forbidden"}
    if village.excluded:
        return {"rule": "excluded"}
    if p.restrict_to_overrides and pair not in ctx.overrides:
        return {"rule": "not_in_overrides"}
    score, effort = ctx.overrides.get(pair, (None, None))
    industry = _expertise_gap(p.expertise_rule, spec, village) if score is None else None
    if industry is not None:
        return {"rule": "expertise", "industry": industry, "expertise_rule": p.expertise_rule}
    far = _distance_rule(p, spec, village, effort)
    if far:
        return far
    if p.three_areas_rule and spec.three_areas_programme and (not village.three_areas or village.county == spec.county):
        return {"rule": "three_areas"}
    return None


def _own_reason(ctx: _Renewal, pair: Pair) -> Why | None:
    """A reason that holds for the pairing by itself (grade, left, a broken rule), or None."""
    spec = ctx.specs.get(pair[0])
    if ctx.grades.get(pair) == "不合格":
        return "grade", {"graded": "pairing"}
    if spec is not None and spec.grade == "不合格":
        return "grade", {"graded": "specialist"}
    if spec is None:
        return ("ineligible", {"rule": "scope"}) if pair[0] in ctx.out_of_scope else ("left", {"status": "removed"})
    if not spec.active:
        return "left", {"status": "inactive"}
    broken = _broken_rule(ctx, spec, ctx.villages[pair[1]])
    return ("ineligible", broken) if broken else None


def _specialist_drops(ctx: _Renewal, s_id: str, *, before: set[str], after: set[str]) -> dict[Pair, Why]:
    """One specialist's dropped pairings: their own reasons first, then capacity (as many as it fell short of the
    previous pairings it could keep), then the villages it serves instead."""
    dropped = sorted(before - after)
    own = {v: _own_reason(ctx, (s_id, v)) for v in dropped}
    out = {(s_id, v): why for v, why in own.items() if why is not None}
    spec = ctx.specs.get(s_id)
    keepable = len(before) - len(out)
    short = keepable - spec.capacity if spec is not None else 0
    gained = sorted(after - before)
    for v in (v for v in dropped if own[v] is None):
        if short > 0 and spec is not None:
            out[(s_id, v)] = ("capacity", {"capacity": spec.capacity, "keepable": keepable})
            short -= 1
        elif gained:
            out[(s_id, v)] = ("reassigned", {"villages": gained})
        else:
            out[(s_id, v)] = ("better match", {})
    return out


def _by_specialist(pairs: dict[str, set[str]]) -> dict[str, set[str]]:
    """village → specialists turned into specialist → villages."""
    out: dict[str, set[str]] = defaultdict(set)
    for village, specs in pairs.items():
        for s in specs:
            out[s].add(village)
    return out


def _drop_reasons(ctx: _Renewal, *, old: dict[str, set[str]], new: dict[str, set[str]]) -> dict[Pair, Why]:
    """The reason of every previous pairing that did not continue."""
    before, after = _by_specialist(old), _by_specialist(new)
    out: dict[Pair, Why] = {}
    for s_id, villages in sorted(before.items()):
        if villages - after.get(s_id, set()):
            out.update(_specialist_drops(ctx, s_id, before=villages, after=after.get(s_id, set())))
    return out


def _dropped_overrides(params: MatchParams, dropped: set[Pair]) -> dict[Pair, tuple[float | None, float | None]]:
    """(score, effort days) overrides of the dropped pairings (the table wins, its last row wins)."""
    specs, villages = sorted({s for s, _ in dropped}), sorted({v for _, v in dropped})
    s, v, score, days = merged_overrides(params, {x: i for i, x in enumerate(specs)},
                                         {x: i for i, x in enumerate(villages)})
    out: dict[Pair, tuple[float | None, float | None]] = {}
    for a, b, sc, d in zip(s.tolist(), v.tolist(), score.tolist(), days.tolist()):
        if (specs[a], villages[b]) in dropped:
            out[(specs[a], villages[b])] = (None if math.isnan(sc) else sc, None if math.isnan(d) else d)
    return out


def _grades(session: Session, *, params: MatchParams, base: Run) -> dict[Pair, str | None]:
    """Last season's grades the run was given; a forbidden pairing graded 不合格 in the season's records too."""
    grades = {(q.specialist_id, q.village_id): q.grade for q in params.previous}
    if params.forbidden and base.season:
        records = grades_for_season(session, season=base.season)
        grades.update({pair: "不合格" for pair in params.forbidden if records.get(pair) == "不合格"})
    return grades


def _out_of_scope(session: Session, *, run: Run, base: Run, missing: set[str]) -> set[str]:
    """Specialists of the renewed run whose home is outside this run's counties, when it takes only those."""
    counties = run.params.get("counties") or []
    if not missing or run.params.get("specialists") != "in_scope" or not counties:
        return set()
    return {s["id"] for s in snapshot_json(session, run=base)["specialists"]
            if s["id"] in missing and (s.get("county") or "") not in counties}


def _renewal(session: Session, *, run: Run, base: Run, instance: MatchInstance, dropped: set[Pair]) -> _Renewal:
    """The context the dropped pairings' reasons are checked in."""
    specs = {s.id: s for s in instance.specialists}
    return _Renewal(params=instance.params, specs=specs, villages={v.id: v for v in instance.villages},
                    grades=_grades(session, params=instance.params, base=base), forbidden=set(instance.params.forbidden),
                    out_of_scope=_out_of_scope(session, run=run, base=base, missing={s for s, _ in dropped} - set(specs)),
                    overrides=_dropped_overrides(instance.params, dropped))


def _rule_zh(detail: dict[str, Any], names: dict[str, Any]) -> str:
    """The broken rule in Chinese, with its figures."""
    rule = str(detail.get("rule", ""))
    if rule == "radius":
        return f"距离{detail['distance_km']:g}公里，超出服务半径{detail['radius_km']:g}公里"
    if rule == "days":
        return f"该村需服务{detail['days']:g}天，超过特派员可用的{detail['days_available']:g}天"
    if rule == "expertise":
        industry = str(names["industries"].get(detail["industry"], detail["industry"]))
        if not industry:
            return "该村未登记产业需求，不符合专长规则"
        return f"专长不含该村主导产业{industry}" if detail.get("expertise_rule") != "any" else "专长不含该村任一产业"
    return RULES_ZH.get(rule, rule)


def reason_zh(code: str, detail: dict[str, Any], names: dict[str, Any]) -> str:
    """A change's reason as the planners read it, from its code, detail and the frozen names."""
    if code == "grade":
        return "考核不合格（该结对上期考核为不合格）" if detail.get("graded") == "pairing" else "特派员考核不合格"
    if code == "left":
        return "特派员已停用" if detail.get("status") == "inactive" else "特派员已离任（名册中已无此人）"
    if code == "ineligible":
        return "不再符合结对条件：" + _rule_zh(detail, names)
    if code == "capacity":
        return f"特派员名额不足：名额{detail['capacity']}个，少于上期仍符合条件的{detail['keepable']}个结对村"
    if code == "reassigned":
        place = names["places"].get
        return "特派员改派服务" + "、".join(f"{place(v, v)}（{v}）" for v in detail["villages"])
    if code == "better match":
        return "整体优化调整：原特派员仍符合条件且有空余名额，本期未再安排"
    return REASONS_ZH.get(code, code)


def _renewed(run: Run) -> str | None:
    # The run this one renews (or takes continuity from), if any.
    params = run.params or {}
    base: str | None = params.get("renews") or params.get("previous_run")
    return base


def change_names(session: Session, *, run: Run) -> dict[str, Any]:
    """Display names for a change report: as frozen with the renewed run's input, then with this run's."""
    base = session.get(Run, _renewed(run) or "")
    return names_of(session, runs=[r for r in (base, run) if r is not None])


def _change(kind: str, village: str, old: str, new: str, why: Why | None, names: dict[str, Any]) -> dict[str, Any]:
    """One row of the report; a moved or dropped one carries its reason's code, detail and Chinese text."""
    code, detail = why or ("", {})
    return {"kind": kind, "village": village, "from": old, "to": new, "reason": code, "reason_detail": detail,
            "reason_zh": reason_zh(code, detail, names) if code else ""}


def _village_changes(village: str, before: set[str], after: set[str], reasons: dict[Pair, Why],
                     names: dict[str, Any]) -> list[dict[str, Any]]:
    """A village's rows: kept pairings, then each gone specialist (moved to a newcomer while there is one), then new."""
    gone, came = sorted(before - after), sorted(after - before)
    rows = [_change("kept", village, s, s, None, names) for s in sorted(before & after)]
    for i, s_old in enumerate(gone):
        to = came[i] if i < len(came) else ""
        rows.append(_change("moved" if to else "dropped", village, s_old, to, reasons[(s_old, village)], names))
    return rows + [_change("new", village, "", s, None, names) for s in came[len(gone):]]


def change_report(session: Session, *, run: Run) -> dict[str, Any]:
    """Compare a renewal run with the run it renewed; every change carries its reason."""
    base_id = _renewed(run)
    if not base_id:
        raise InvalidInput(f"run {run.id} renewed no earlier run (no renews or previous_run)",
                           errors=[row_error(None, "renews", "missing")])
    base = session.get(Run, base_id)
    if base is None:
        raise NotFound(f"run {base_id}, which run {run.id} renews, no longer exists")
    instance = thaw(snapshot_of(session, run=run).data)
    villages = {v.id for v in instance.villages}
    old = {v: s for v, s in pairs_of(session, run_id=base.id).items() if v in villages}
    new = pairs_of(session, run_id=run.id)
    dropped = {(s, v) for v, ss in old.items() for s in ss - new.get(v, set())}
    ctx = _renewal(session, run=run, base=base, instance=instance, dropped=dropped)
    reasons = _drop_reasons(ctx, old=old, new=new)
    names = change_names(session, run=run)
    rows = [row for village in sorted(set(old) | set(new))
            for row in _village_changes(village, old.get(village, set()), new.get(village, set()), reasons, names)]
    by_county: dict[str, Counter[str]] = defaultdict(Counter)
    for r in rows:
        by_county[r["village"][:6]][r["kind"]] += 1
    counts = Counter(r["kind"] for r in rows)
    return {
        "run_id": run.id, "previous_run": base.id, "season": run.season,
        "counts": {k: counts.get(k, 0) for k in ("kept", "moved", "new", "dropped")},
        "reasons": dict(sorted(Counter(r["reason"] for r in rows if r["reason"]).items())),
        "by_county": [{"county": c, **{k: n.get(k, 0) for k in ("kept", "moved", "new", "dropped")}}
                      for c, n in sorted(by_county.items())],
        "changes": rows,
    }


def report_xlsx(report: dict[str, Any], names: dict[str, Any]) -> bytes:
    """The report as a workbook: one sheet of changes, one of county totals."""
    place, person = names["places"].get, names["specialists"].get
    wb = Workbook(write_only=True)
    ws = wb.create_sheet("变动明细")
    ws.append(["类别", "县区", "行政村", "区划代码", "原特派员", "新特派员", "原因", "原因类别"])
    for r in report["changes"]:
        ws.append([KIND_ZH[r["kind"]], place(r["village"][:6], r["village"][:6]), place(r["village"], ""),
                   r["village"], person(r["from"], r["from"]), person(r["to"], r["to"]),
                   r["reason_zh"], REASONS_ZH.get(r["reason"], r["reason"])])
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
        f"<td>{e(r['reason_zh'])}</td></tr>"
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
