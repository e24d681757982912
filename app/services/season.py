"""Seasonal renewal: last season's pairings and grades become locks, preferences and releases of a new run.

A season's pairing is the run adopted for it (app.services.adoption), else its newest run that ended optimal
or feasible. Pairings graded at or
above the keep threshold are locked where still feasible (specialist active and not graded 不合格, village
still in scope and not excluded, expertise still covering the primary need, within capacity); pass-graded
and ungraded ones are preferred through the continuity level; failing pairings are forbidden; those of
specialists who left or were deactivated are released.
"""

from collections import Counter, defaultdict
from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.errors import InvalidInput, NotFound, row_error
from app.schemas.runs import PairRef, PreviousPairIn, RunCreate
from app.services.adoption import standing_run_id
from app.services.records import grades_for_season
from app.services.snapshot import load_specialists, load_villages
from models import Run, RunAssignment, SeasonAdoption
from models.run import ANSWERED_STATES
from solver import MatchParams, Specialist, Village
from solver.validate import pair_days

GRADE_ORDER = ("不合格", "合格", "良好", "优秀")


@dataclass
class RenewalPlan:
    body: RunCreate
    base_run: str
    base_season: str | None = None
    locked: list[tuple[str, str]] = field(default_factory=list)
    preferred: list[tuple[str, str]] = field(default_factory=list)
    released: dict[tuple[str, str], str] = field(default_factory=dict)  # pair -> why


def season_run(session: Session, *, season: str) -> Run:
    """The run that holds a season's pairings: the adopted one, else its newest run that ended optimal or feasible
    (over every county when there is one: a county's re-run does not stand for the whole season unless adopted)."""
    adoption = session.get(SeasonAdoption, season)
    if adoption is not None:
        adopted = session.get(Run, adoption.run_id)
        assert adopted is not None  # the foreign key cascades
        return adopted
    standing = standing_run_id(session, season=season)
    run = session.get(Run, standing) if standing else None
    if run is None:
        known = sorted({s for (s,) in session.execute(select(Run.season).where(
            Run.state.in_(ANSWERED_STATES), Run.season.is_not(None))).all() if s is not None})
        raise NotFound(f"unknown season {season!r}: no finished run has it (seasons with runs: "
                       f"{', '.join(known) or 'none'})")
    return run


def latest_other_season(session: Session, *, season: str) -> str | None:
    """The season a renewal of `season` starts from: the greatest label below it among seasons with a run that
    ended optimal or feasible (labels compare as strings: "2026" < "2026H2" < "2027"), else the greatest other
    one; None before the first season. Re-running an older season later does not change it."""
    seasons = {s for s in session.scalars(select(Run.season).distinct().where(
        Run.state.in_(ANSWERED_STATES), Run.season.is_not(None), Run.season != season)) if s is not None}
    return max([s for s in seasons if s < season] or seasons, default=None)


def base_run(session: Session, *, from_season: str | None, from_run: str | None, counties: list[str]) -> Run:
    """The run to renew from; a run whose scope does not cover the requested counties is refused."""
    if from_run:
        run = session.get(Run, from_run)
        if run is None:
            raise NotFound(f"run {from_run} not found")
        if run.state not in ANSWERED_STATES:
            raise InvalidInput(f"run {from_run} ended {run.state}; renew from a finished run",
                               errors=[row_error(None, "from_run", run.state)])
    elif from_season:
        run = season_run(session, season=from_season)
    else:
        raise InvalidInput("give from_season or from_run", errors=[row_error(None, "from_season", "missing")])
    scope = run.params.get("counties") or []
    outside = [c for c in counties if scope and c not in scope]
    if outside or (scope and not counties):
        field = "from_run" if from_run else "from_season"
        raise InvalidInput(
            f"run {run.id}{'' if from_run else f' (season {from_season})'} covered counties {', '.join(scope)}; "
            f"it cannot seed a run over {', '.join(counties) or 'every county'}",
            errors=[row_error(None, field, "scope differs")])
    return run


def plan_renewal(session: Session, *, season: str, from_season: str | None, from_run: str | None,
                 counties: list[str], keep_grades: list[str], max_changes: int | None,
                 time_limit_s: float, exact_finish: bool = True) -> RenewalPlan:
    """Build the new season's run from the current catalogue and last season's pairings and grades."""
    bad = [g for g in keep_grades if g not in GRADE_ORDER[1:]]
    if bad:
        raise InvalidInput(f"unknown keep grade(s) {bad}; valid: 优秀, 良好, 合格",
                           errors=[row_error(None, "keep_grades", str(bad))])
    # pairings graded at or above the lowest grade given are kept (合格 keeps 良好 and 优秀 too)
    kept = set(GRADE_ORDER[min(GRADE_ORDER.index(g) for g in keep_grades):]) if keep_grades else set()
    if not from_season and not from_run:
        from_season = latest_other_season(session, season=season)
        if from_season is None:  # the first season: nothing to renew
            return RenewalPlan(body=RunCreate(season=season, counties=counties, time_limit_s=time_limit_s,
                                              exact_finish=exact_finish, max_changes=None), base_run="")
    base = base_run(session, from_season=from_season, from_run=from_run, counties=counties)
    grades = grades_for_season(session, season=base.season) if base.season else {}
    specialists = {s.id: s for s in load_specialists(session)}
    villages = {v.id: v for v in load_villages(session, counties=counties)}
    pairs = sorted((s, v) for s, v in session.execute(
        select(RunAssignment.specialist_code, RunAssignment.village_code).where(RunAssignment.run_id == base.id)))
    plan = RenewalPlan(body=RunCreate(), base_run=base.id, base_season=base.season)
    load: Counter[str] = Counter()
    days_used: defaultdict[str, float] = defaultdict(float)
    rules = MatchParams()  # the distance and travel-day model the solver uses
    previous, forbidden = [], []
    order = sorted(pairs, key=lambda p: -GRADE_ORDER.index(grades[p]) if grades.get(p) in GRADE_ORDER else 1)
    for s_id, v_id in order:
        village, spec, grade = villages.get(v_id), specialists.get(s_id), grades.get((s_id, v_id))
        if village is None:
            continue  # out of this run's scope or removed from the catalogue
        why = _release_reason(spec, village, grade)
        if why:  # released pairings are replaced and do not count against max_changes
            plan.released[(s_id, v_id)] = why
            if grade == "不合格" and spec is not None:
                forbidden.append(PairRef(specialist=s_id, village=v_id))
            continue
        assert spec is not None
        previous.append(PreviousPairIn.model_validate({"specialist": s_id, "village": v_id, "grade": grade}))
        primary = village.primary_industry()
        km, days = pair_days(spec, village, rules)
        keep = (grade in kept and (primary is None or primary in spec.expertise)
                and load[s_id] < spec.capacity and (spec.max_distance_km is None or km <= spec.max_distance_km)
                and (spec.days_available is None or days_used[s_id] + days <= spec.days_available))
        if keep:  # still feasible on its own terms: capacity, radius, days
            load[s_id] += 1
            days_used[s_id] += days
            plan.locked.append((s_id, v_id))
        else:
            plan.preferred.append((s_id, v_id))
    plan.body = RunCreate(
        season=season, counties=counties, forbidden=forbidden,
        locked=[PairRef(specialist=s_id, village=v_id) for s_id, v_id in plan.locked],
        previous=previous, renews=base.id, max_changes=max_changes,
        time_limit_s=time_limit_s, exact_finish=exact_finish,
    )
    return plan


def _release_reason(spec: Specialist | None, village: Village, grade: str | None) -> str | None:
    """Why last season's pairing cannot continue, or None when it may."""
    if spec is None:
        return "left"
    if not spec.active:
        return "inactive"
    if spec.grade == "不合格":
        return "specialist graded 不合格"
    if grade == "不合格":
        return "grade"
    if village.excluded:
        return "village excluded"
    return None
