"""A run's answer: stored set-based, summarised by county, listed, explained in Chinese, compared between runs."""

import gzip
import json
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Select, insert, select
from sqlalchemy.orm import Session

from app.services.bulk import chunks
from app.services.runs import names_of, snapshot_of
from models import Run, RunAssignment, RunUncovered
from solver import MatchInstance, MatchSolution, Village

NAMES_SHOWN = 10  # specialists named in one reason before "…等N人"


def store_solution(session: Session, *, run_id: str, instance: MatchInstance, solution: MatchSolution) -> dict[str, Any]:
    """Write assignments and uncovered villages of a run; return its summary."""
    villages = {v.id: v for v in instance.villages}
    rows = [
        {"run_id": run_id, "specialist_code": a.specialist_id, "village_code": a.village_id,
         "township_code": a.village_id[:9], "county_code": a.village_id[:6], "score": float(a.score),
         "distance_km": round(float(a.distance_km), 3), "distance_estimated": a.distance_estimated,
         "continuity": a.continuity, "locked": a.locked, "matched": [list(m) for m in a.matched], "reason": a.reason}
        for a in solution.assignments
    ]
    for part in chunks(rows, 5000):
        session.execute(insert(RunAssignment), list(part))
    unc = [
        {"run_id": run_id, "village_code": u.village_id, "township_code": u.village_id[:9],
         "county_code": u.village_id[:6], "missing": u.missing, "reasons": [r.to_dict() for r in u.reasons]}
        for u in solution.uncovered
    ]
    for part in chunks(unc, 5000):
        session.execute(insert(RunUncovered), list(part))
    return summarise(instance, solution, villages=villages)


def summarise(instance: MatchInstance, solution: MatchSolution, *, villages: dict[str, Any]) -> dict[str, Any]:
    """Coverage by county, priority coverage, level values, bound, gap and timing of a solution."""
    target = [v for v in villages.values() if not v.excluded]
    uncovered = {u.village_id for u in solution.uncovered}
    if solution.status not in ("optimal", "feasible"):  # no answer (infeasible rules): the run pairs nobody
        uncovered = {v.id for v in target}
    by_county: dict[str, Counter[str]] = {}
    for v in target:
        c = by_county.setdefault(v.county, Counter())
        c["villages"] += 1
        c["covered"] += v.id not in uncovered
        if v.priority:
            c["priority"] += 1
            c["priority_covered"] += v.id not in uncovered
    counties = [
        {"county": code, **dict(c), "coverage": round(c["covered"] / c["villages"], 4) if c["villages"] else 1.0}
        for code, c in sorted(by_county.items())
    ]
    total = len(target)
    covered = sum(c["covered"] for c in by_county.values())
    priority = sum(c["priority"] for c in by_county.values())
    priority_covered = sum(c["priority_covered"] for c in by_county.values())
    return {
        "status": solution.status, "method": solution.method,
        "levels": [lv.to_dict() for lv in solution.levels], "bound": solution.bound, "gap": solution.gap,
        "solve_seconds": round(solution.solve_seconds, 3), "model_size": solution.model_size,
        "villages": total, "covered": covered, "uncovered": total - covered,
        "coverage": round(covered / total, 4) if total else 1.0,
        "priority_villages": priority, "priority_covered": priority_covered,
        "assignments": len(solution.assignments), "specialists": len(instance.specialists),
        "by_county": counties, "recruitment": [r.to_dict() for r in solution.recruitment],
        "messages": solution.messages,
    }


def assignments_query(*, run_id: str, county: str | None, township: str | None, village: str | None,
                      specialist: str | None) -> Select[RunAssignment]:
    """A run's pairings, filtered."""
    stmt = select(RunAssignment).where(RunAssignment.run_id == run_id)
    if county:
        stmt = stmt.where(RunAssignment.county_code == county)
    if township:
        stmt = stmt.where(RunAssignment.township_code == township)
    if village:
        stmt = stmt.where(RunAssignment.village_code == village)
    if specialist:
        stmt = stmt.where(RunAssignment.specialist_code == specialist)
    return stmt


def uncovered_query(*, run_id: str, county: str | None) -> Select[RunUncovered]:
    """A run's uncovered villages."""
    stmt = select(RunUncovered).where(RunUncovered.run_id == run_id)
    if county:
        stmt = stmt.where(RunUncovered.county_code == county)
    return stmt


def pairs_of(session: Session, *, run_id: str) -> dict[str, set[str]]:
    """village code → specialist codes of a run."""
    out: dict[str, set[str]] = {}
    for v, s in session.execute(select(RunAssignment.village_code, RunAssignment.specialist_code)
                                .where(RunAssignment.run_id == run_id)):
        out.setdefault(v, set()).add(s)
    return out


def diff_runs(session: Session, *, a: str, b: str) -> dict[str, Any]:
    """Pairings kept, changed (village got another specialist), added (village newly paired) and dropped."""
    old, new = pairs_of(session, run_id=a), pairs_of(session, run_id=b)
    kept, changed, added, dropped = [], [], [], []
    for village in sorted(set(old) | set(new)):
        before, after = old.get(village, set()), new.get(village, set())
        for s in sorted(before & after):
            kept.append({"village": village, "specialist": s})
        gone, came = sorted(before - after), sorted(after - before)
        if before and after and (gone or came):
            changed.append({"village": village, "from": gone, "to": came})
        elif came:
            added.append({"village": village, "specialists": came})
        elif gone:
            dropped.append({"village": village, "specialists": gone})
    return {"from_run": a, "to_run": b,
            "counts": {"kept": len(kept), "changed": len(changed), "added": len(added), "dropped": len(dropped)},
            "kept": kept, "changed": changed, "added": added, "dropped": dropped}


def snapshot_json(session: Session, *, run: Run) -> dict[str, Any]:
    """A run's frozen input as plain JSON data (cheaper than thawing it into solver objects)."""
    data: dict[str, Any] = json.loads(gzip.decompress(snapshot_of(session, run=run).data))
    return data


@dataclass(frozen=True)
class Explainer:
    """Chinese text and display names for the solver's structured reasons, with the names frozen with a run."""

    names: dict[str, Any]
    expertise_rule: str
    primaries: dict[str, str]  # village code -> primary industry code ("" when it lists none)

    def person(self, code: str) -> str:
        """A specialist's name (the code when unnamed)."""
        name: str = self.names["specialists"].get(code, code)
        return name

    def place(self, code: str) -> str:
        """A county's, township's or village's name (the code when unnamed)."""
        name: str = self.names["places"].get(code, code)
        return name

    def industry(self, code: str) -> str:
        """An industry's Chinese name (the code when unnamed, "" for none)."""
        name: str = self.names["industries"].get(code, code)
        return name

    def people(self, codes: list[str], count: int | None = None) -> str:
        """"张三、李四…等N人": the first names of a list of specialists and, when more, how many in all."""
        total = max(count or 0, len(codes))
        shown = "、".join(self.person(c) for c in codes[:NAMES_SHOWN])
        return f"{shown}…等{total}人" if total > min(len(codes), NAMES_SHOWN) else shown

    def who_may_serve(self, village: str) -> str:
        """Who counts as eligible for the village, as a phrase ("具备茶叶专长的" under the primary-need rule)."""
        industry = self.primaries.get(village, "")
        return f"具备{self.industry(industry)}专长的" if industry and self.expertise_rule == "primary" else "可服务该村的"

    def reason_zh(self, reason: dict[str, Any], *, village: str, missing: int) -> str:
        """One stored reason in Chinese, from its code and detail (its English message when the code is unknown)."""
        render = REASON_ZH.get(reason.get("code", ""))
        detail = reason.get("detail") or {}
        return render(self, detail, village, missing) if render else str(reason.get("message", ""))

    def named_reason(self, reason: dict[str, Any], *, village: str, missing: int) -> dict[str, Any]:
        """The stored reason with its Chinese text and the names of what it mentions added (nothing removed)."""
        detail = reason.get("detail") or {}
        out = {**reason, "message_zh": self.reason_zh(reason, village=village, missing=missing)}
        if "specialists" in detail:
            out["specialist_names"] = [self.person(c) for c in detail["specialists"]]
        if "industry" in detail:
            out["industry_name"] = self.industry(detail["industry"])
        if detail.get("nearest_id"):
            out["nearest_name"] = self.person(detail["nearest_id"])
        return out

    def uncovered_item(self, u: RunUncovered) -> dict[str, Any]:
        """An uncovered village as the API lists it: codes and names, the shortfall, each reason in Chinese."""
        reasons = [self.named_reason(r, village=u.village_code, missing=u.missing) for r in u.reasons]
        industry = self.primaries.get(u.village_code, "")
        return {"village": u.village_code, "township": u.township_code, "county": u.county_code,
                "missing": u.missing, "reasons": reasons, "village_name": self.place(u.village_code),
                "township_name": self.place(u.township_code), "county_name": self.place(u.county_code),
                "industry": industry, "industry_name": self.industry(industry),
                "reason_zh": "；".join(r["message_zh"] for r in reasons)}

    def recruit(self, entry: dict[str, Any]) -> dict[str, Any]:
        """A recruitment entry with its county's, industry's and villages' names added."""
        return {**entry, "county_name": self.place(entry["county"]), "industry_name": self.industry(entry["industry"]),
                "village_names": [self.place(v) for v in entry.get("villages", [])]}


def _zh_experts_full(ex: Explainer, d: dict[str, Any], village: str, missing: int) -> str:
    count = int(d.get("count") or len(d.get("specialists", [])))
    eligible = int(d.get("eligible") or count)
    some = f"{eligible}名特派员中有{count}名" if eligible > count else f"{count}名特派员"
    return f"范围内{ex.who_may_serve(village)}{some}名额已满：{ex.people(d.get('specialists', []), count)}"


def _zh_too_few(ex: Explainer, d: dict[str, Any], village: str, missing: int) -> str:
    serving = d.get("specialists", [])
    return f"{ex.who_may_serve(village)}特派员仅{len(serving)}名，均已结对该村（{ex.people(serving)}），尚缺{missing}名"


def _zh_no_expert(ex: Explainer, d: dict[str, Any], village: str, missing: int) -> str:
    industry = ex.industry(d.get("industry", ""))
    if d.get("nearest_id"):
        return (f"服务半径内没有具备{industry}专长的特派员；最近的是{ex.person(d['nearest_id'])}，"
                f"相距{d['nearest_km']:g}公里（其服务半径{d['radius_km']:g}公里）")
    if not industry:
        return "该村未登记产业需求，按专长规则没有特派员可以匹配"
    if "radius_km" in d:
        return f"没有具备{industry}专长的在岗特派员"
    return f"没有符合条件的具备{industry}专长的特派员"


def _listing(text: str) -> Callable[[Explainer, dict[str, Any], str, int], str]:
    """A reason whose detail lists specialists: "特派员<names><text>"."""
    def render(ex: Explainer, d: dict[str, Any], village: str, missing: int) -> str:
        return f"特派员{ex.people(d.get('specialists', []), d.get('count'))}{text}"
    return render


def _zh_fixed(text: str) -> Callable[[Explainer, dict[str, Any], str, int], str]:
    """A reason whose text needs no detail."""
    def render(ex: Explainer, d: dict[str, Any], village: str, missing: int) -> str:
        return text
    return render


# Every code solver/diagnose.py gives an uncovered village, rendered from its detail.
REASON_ZH: dict[str, Callable[[Explainer, dict[str, Any], str, int], str]] = {
    "experts_full": _zh_experts_full,
    "too_few_eligible": _zh_too_few,
    "no_expert_in_range": _zh_no_expert,
    "forbidden": lambda ex, d, v, m: f"与特派员{ex.people(d.get('specialists', []), d.get('count'))}的结对被禁止",
    "three_areas_rule": _listing("属三区人才，只能服务本县以外的三区村"),
    "days_budget": _listing("的可用服务天数不足以承担该村"),
    "locked_elsewhere": _listing("已锁定结对其他村"),
    "team_rule": _listing("受团队规则限制（团队与其成员不能同时结对）"),
    "not_chosen": _listing("仍可服务该村，但求解时间已到或受调整数量上限（max_changes）所限安排在他处"),
    "not_in_overrides": _zh_fixed("本次只允许指定结对，没有适合该村的指定结对"),
}


def explainer(session: Session, *, run: Run, villages: Iterable[str]) -> Explainer:
    """An explainer of a run's reasons about these villages (names and needs as frozen with the run)."""
    wanted = set(villages)
    raw = snapshot_json(session, run=run) if wanted else {"villages": [], "params": {}}  # /summary names no village
    primaries = {v["id"]: Village.from_dict(v).primary_industry() or "" for v in raw["villages"] if v["id"] in wanted}
    return Explainer(names=names_of(session, runs=[run]), expertise_rule=raw["params"].get("expertise_rule", "primary"),
                     primaries=primaries)


def recruitment(run: Run, *, explain: Explainer, county: str | None = None) -> list[dict[str, Any]]:
    """The run's recruitment suggestion with names, by county code then industry (one county's when given)."""
    entries = [r for r in (run.result or {}).get("recruitment", []) if not county or r["county"] == county]
    return [explain.recruit(r) for r in sorted(entries, key=lambda r: (r["county"], r["industry"]))]


def named_result(session: Session, *, run: Run) -> dict[str, Any]:
    """The run's stored summary with county names by county and the recruitment named and sorted, as /uncovered."""
    if not run.result:
        return {}
    explain = explainer(session, run=run, villages=[])
    return {**run.result, "by_county": [{**c, "county_name": explain.place(c["county"])}
                                        for c in run.result.get("by_county", [])],
            "recruitment": recruitment(run, explain=explain)}
