"""Matching runs: submit (freeze the snapshot), read, list, cancel and re-run. The caller commits."""

import hashlib
import json
import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import Select, case, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from app.errors import Conflict, InvalidInput, NotFound, row_error
from app.schemas.runs import RunCreate
from app.services.overrides import table_digest, unknown_in_table
from app.services.snapshot import build_instance, freeze, freeze_names, snapshot_names, thaw, thaw_names
from app.workers.jobs import enqueue_after_commit, notify_after_commit
from models import Run, RunAssignment, RunSnapshot
from models.base import utcnow
from models.run import ANSWERED_STATES, FINAL_STATES, RUN_STATES
from solver import MatchParams, PairOverride, PairTable, PreviousPair


def request_hash(body: RunCreate, table: PairTable | None = None) -> str:
    """Content hash of a submission (parameters and any override table), for idempotency."""
    raw = json.dumps(body.model_dump(mode="json"), sort_keys=True, ensure_ascii=False) + table_digest(table)
    return hashlib.sha256(raw.encode()).hexdigest()


def _previous_pairs(session: Session, *, body: RunCreate) -> tuple[PreviousPair, ...]:
    """Last season's pairs: those listed, plus (ungraded) every pair of `previous_run` not listed."""
    pairs = [PreviousPair(p.specialist, p.village, p.grade) for p in body.previous]
    for field in ("previous_run", "renews"):
        ref = getattr(body, field)
        if ref and session.get(Run, ref) is None:
            raise InvalidInput(f"{field} {ref} not found", errors=[row_error(None, field, "no such run")])
    if body.previous_run:
        prev = session.get(Run, body.previous_run)
        assert prev is not None
        grades = {(p.specialist, p.village): p.grade for p in body.previous}
        for s, v in session.execute(select(RunAssignment.specialist_code, RunAssignment.village_code)
                                    .where(RunAssignment.run_id == prev.id)):
            if (s, v) not in grades:
                pairs.append(PreviousPair(s, v, None))
    return tuple(sorted(pairs, key=lambda p: (p.specialist_id, p.village_id)))


def solver_params(session: Session, *, body: RunCreate, table: PairTable | None = None) -> MatchParams:
    """Translate the submission into the solver's parameters."""
    r = body.rules
    return MatchParams(
        expertise_rule=r.expertise_rule, required=r.required, priority_required=r.priority_required,
        priority_weight=r.priority_weight, use_radius=r.use_radius, use_days_budget=r.use_days_budget,
        team_rule=r.team_rule, three_areas_rule=r.three_areas_rule,
        locked=tuple(sorted((p.specialist, p.village) for p in body.locked)),
        forbidden=tuple(sorted((p.specialist, p.village) for p in body.forbidden)),
        overrides=tuple(PairOverride(o.specialist, o.village, o.score, o.effort_days) for o in body.overrides),
        override_table=table,
        restrict_to_overrides=body.restrict_to_overrides, previous=_previous_pairs(session, body=body),
        continuity_min_grade=body.continuity_min_grade, max_changes=body.max_changes,
        levels=tuple(body.levels), level_weights=dict(body.level_weights), time_limit_s=body.time_limit_s,
        gap_limit=body.gap_limit, workers=body.workers, seed=body.seed, exact_finish=body.exact_finish,
    )


def _check_references(body: RunCreate, table: PairTable | None, *, specialists: set[str], villages: set[str]) -> None:
    errors = []
    for field in ("locked", "forbidden", "overrides", "previous"):
        for i, pair in enumerate(getattr(body, field)):
            if pair.specialist not in specialists:
                errors.append(row_error(i, f"{field}.specialist", f"specialist {pair.specialist} is not in the run's scope"))
            if pair.village not in villages:
                errors.append(row_error(i, f"{field}.village", f"village {pair.village} is not in the run's scope"))
    locked = {(p.specialist, p.village) for p in body.locked}
    errors += [row_error(i, "forbidden", f"specialist {p.specialist} and village {p.village} are also locked")
               for i, p in enumerate(body.forbidden) if (p.specialist, p.village) in locked]
    if table is not None:
        errors += unknown_in_table(table, specialists=specialists, villages=villages)
    if errors:
        first = errors[0]
        raise InvalidInput(f"{len(errors)} pair(s) refused; first: {first['field']} row {first['row']}: {first['message']}",
                           errors=errors[:1000])


def submit_run(session: Session, *, body: RunCreate, table: PairTable | None = None,
               idempotency_key: str | None = None, rerun_of: str | None = None,
               enqueue: bool = True) -> tuple[Run, bool]:
    """Freeze the input and queue a run; returns (run, created) — an idempotent repeat returns the first run.
    `enqueue=False` hands nothing to the workers: the caller (the CLI) solves the run itself."""
    digest = request_hash(body, table)
    if idempotency_key:
        existing = session.scalar(select(Run).where(Run.idempotency_key == idempotency_key))
        if existing is not None:
            if existing.request_hash != digest:
                raise Conflict(f"Idempotency-Key {idempotency_key!r} was used with a different body",
                               run_id=existing.id)
            return existing, False
    instance = build_instance(session, counties=body.counties, specialists_in_scope_only=body.specialists == "in_scope",
                              params=solver_params(session, body=body, table=table))
    _check_references(body, table, specialists={s.id for s in instance.specialists}, villages={v.id for v in instance.villages})
    if not instance.villages:
        raise InvalidInput("no villages in the run's scope", errors=[row_error(None, "counties", "no villages")])
    frozen, names = freeze(instance), freeze_names(snapshot_names(session, instance=instance))
    try:  # only writes inside: SQLite could not turn a savepoint that has read into a write under a concurrent writer
        with session.begin_nested():  # a concurrent request with the same Idempotency-Key may insert first
            run = _queue(session, body=body, digest=digest, instance_data=frozen, idempotency_key=idempotency_key,
                         names=names, rerun_of=rerun_of, override_pairs=len(body.overrides) + (len(table) if table else 0))
    except IntegrityError:
        first = session.scalar(select(Run).where(Run.idempotency_key == idempotency_key)) if idempotency_key else None
        if first is None:
            raise
        if first.request_hash != digest:
            raise Conflict(f"Idempotency-Key {idempotency_key!r} was used with a different body", run_id=first.id) from None
        return first, False
    if enqueue:
        enqueue_after_commit(session, run.id)
    return run, True


def _queue(session: Session, *, body: RunCreate, digest: str, instance_data: tuple[bytes, str], names: bytes | None,
           idempotency_key: str | None, rerun_of: str | None, override_pairs: int) -> Run:
    data, content_hash = instance_data
    params = body.model_dump(mode="json", exclude={"overrides"})
    params["override_pairs"] = override_pairs
    run = Run(id=uuid.uuid4().hex, state="queued", season=body.season, params=params, request_hash=digest,
              idempotency_key=idempotency_key, snapshot_hash=content_hash, rerun_of=rerun_of,
              callback_url=str(body.callback_url) if body.callback_url else None, created_at=utcnow())
    session.add(run)
    session.add(RunSnapshot(run_id=run.id, content_hash=content_hash, data=data, size_bytes=len(data), names=names))
    session.flush()
    return run


def rerun(session: Session, *, run: Run) -> Run:
    """Queue a new run on the same frozen snapshot."""
    snap = session.get(RunSnapshot, run.id)
    assert snap is not None
    body = RunCreate.model_validate({k: v for k, v in run.params.items() if k != "override_pairs"})
    new = _queue(session, body=body, digest=run.request_hash, instance_data=(snap.data, snap.content_hash),
                 names=snap.names, idempotency_key=None, rerun_of=run.id, override_pairs=run.params.get("override_pairs", 0))
    new.params = {**run.params}
    enqueue_after_commit(session, new.id)
    return new


def get_run(session: Session, *, run_id: str) -> Run:
    """The run, or 404."""
    run = session.get(Run, run_id)
    if run is None:
        raise NotFound(f"run {run_id} not found")
    return run


def answered_run(session: Session, *, run_id: str) -> Run:
    """The run, if it has an answer to show (optimal, feasible, or cancelled after storing its best); else 409."""
    run = get_run(session, run_id=run_id)
    if run.state in ANSWERED_STATES or (run.state == "cancelled" and run.result is not None):
        return run
    why = "has no answer yet" if run.state in ("queued", "running") else "ended without an answer"
    raise Conflict(f"run {run_id} is {run.state}: it {why}", state=run.state)


def list_runs_query(*, state: str | None, season: str | None, created_after: datetime | None,
                    created_before: datetime | None) -> Select[Run]:
    """Runs filtered by state, season and submission time."""
    stmt = select(Run)
    if state:
        states = [x.strip() for x in state.split(",") if x.strip()]
        unknown = [x for x in states if x not in RUN_STATES]
        if unknown:
            raise InvalidInput(f"unknown run state(s) {', '.join(unknown)}; valid: {', '.join(RUN_STATES)}",
                               errors=[row_error(None, "state", f"valid: {', '.join(RUN_STATES)}")])
        stmt = stmt.where(Run.state.in_(states))
    if season:
        stmt = stmt.where(Run.season == season)
    if created_after:
        stmt = stmt.where(Run.created_at >= created_after)
    if created_before:
        stmt = stmt.where(Run.created_at < created_before)
    return stmt


def cancel_run(session: Session, *, run: Run) -> Run:
    """Cancel a queued run at once; ask a running one to stop (its worker keeps the best answer so far)."""
    queued = Run.state == "queued"
    # One statement, so a worker claiming the run meanwhile still sees the request.
    done = session.execute(update(Run).where(Run.id == run.id, Run.state.not_in(FINAL_STATES)).values(
        cancel_requested=True, state=case((queued, "cancelled"), else_=Run.state),
        finished_at=case((queued, utcnow()), else_=Run.finished_at))).rowcount  # type: ignore[attr-defined]
    session.refresh(run)
    if not done:
        raise Conflict(f"run {run.id} has already ended ({run.state})")
    if run.state == "cancelled":
        notify_after_commit(session, run.id)
    return run


def snapshot_of(session: Session, *, run: Run) -> RunSnapshot:
    """The frozen input of a run."""
    snap = session.get(RunSnapshot, run.id)
    if snap is None:
        raise NotFound(f"run {run.id} has no snapshot")
    return snap


def names_of(session: Session, *, runs: list[Run]) -> dict[str, Any]:
    """Display names as frozen with the runs' input (later runs' names win); runs submitted before names were
    frozen get today's catalogue names for what their snapshot holds."""
    out: dict[str, Any] = {"places": {}, "specialists": {}, "orgs": {}, "expertise": {}, "industries": {}}
    for run in runs:
        snap = snapshot_of(session, run=run)
        names = thaw_names(snap.names) if snap.names else snapshot_names(session, instance=thaw(snap.data))
        for key, part in names.items():
            out[key].update(part)
    return out


def run_links(run_id: str) -> dict[str, Any]:
    """Where to find a run's parts."""
    base = f"/api/v1/runs/{run_id}"
    return {"self": base, "assignments": f"{base}/assignments", "uncovered": f"{base}/uncovered",
            "summary": f"{base}/summary", "export": f"{base}/export?format=xlsx"}


