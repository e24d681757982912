"""A run's answer: stored set-based, summarised by county, listed, compared between runs."""

from collections import Counter
from typing import Any

from sqlalchemy import Select, insert, select
from sqlalchemy.orm import Session

from app.services.bulk import chunks
from models import RunAssignment, RunUncovered
from solver import MatchInstance, MatchSolution


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
        "solve_seconds": solution.solve_seconds, "model_size": solution.model_size,
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
