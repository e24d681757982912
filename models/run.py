"""Matching runs: state (the one truth), frozen input snapshot, results."""

from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
)
from sqlalchemy.orm import Mapped, mapped_column

from models.base import Base, UTCDateTime, utcnow

RUN_STATES = ("queued", "running", "optimal", "feasible", "infeasible", "failed", "cancelled")
FINAL_STATES = ("optimal", "feasible", "infeasible", "failed", "cancelled")
ANSWERED_STATES = ("optimal", "feasible")  # ended with an answer: adoptable, renewable


class Run(Base):
    __tablename__ = "runs"
    __table_args__ = (Index("ix_runs_state_created", "state", "created_at"),)

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    state: Mapped[str] = mapped_column(String(16), default="queued")
    season: Mapped[str | None] = mapped_column(String(32), index=True)
    params: Mapped[dict[str, Any]] = mapped_column(JSON)
    idempotency_key: Mapped[str | None] = mapped_column(String(200), unique=True)
    request_hash: Mapped[str] = mapped_column(String(64))
    snapshot_hash: Mapped[str] = mapped_column(String(64))
    rerun_of: Mapped[str | None] = mapped_column(String(32))
    callback_url: Mapped[str | None] = mapped_column(String(2000))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    worker_id: Mapped[str | None] = mapped_column(String(200))
    lease_expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    cancel_requested: Mapped[bool] = mapped_column(Boolean, default=False)
    progress: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    result: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    error: Mapped[str | None] = mapped_column(Text)
    solve_seconds: Mapped[float | None] = mapped_column(Float)
    webhook_state: Mapped[str | None] = mapped_column(String(16))
    webhook_attempts: Mapped[int] = mapped_column(Integer, default=0)
    webhook_error: Mapped[str | None] = mapped_column(Text)


class RunSnapshot(Base):
    """The run's frozen input (gzip'd JSON of the solver instance), its content hash, and the display names as
    they were at submission (gzip'd JSON; NULL for runs submitted before names were kept)."""

    __tablename__ = "run_snapshots"

    run_id: Mapped[str] = mapped_column(ForeignKey("runs.id", ondelete="CASCADE"), primary_key=True)
    content_hash: Mapped[str] = mapped_column(String(64), index=True)
    data: Mapped[bytes] = mapped_column(LargeBinary)
    size_bytes: Mapped[int] = mapped_column(Integer)
    names: Mapped[bytes | None] = mapped_column(LargeBinary)


class RunAssignment(Base):
    __tablename__ = "run_assignments"
    __table_args__ = (
        Index("ix_run_assignments_run_village", "run_id", "village_code"),
        Index("ix_run_assignments_run_specialist", "run_id", "specialist_code"),
        Index("ix_run_assignments_run_county", "run_id", "county_code"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    run_id: Mapped[str] = mapped_column(ForeignKey("runs.id", ondelete="CASCADE"))
    specialist_code: Mapped[str] = mapped_column(String(64))
    village_code: Mapped[str] = mapped_column(String(12))
    township_code: Mapped[str] = mapped_column(String(9))
    county_code: Mapped[str] = mapped_column(String(6))
    score: Mapped[float] = mapped_column(Float)
    distance_km: Mapped[float] = mapped_column(Float)
    distance_estimated: Mapped[bool] = mapped_column(Boolean, default=False)
    continuity: Mapped[bool] = mapped_column(Boolean, default=False)
    locked: Mapped[bool] = mapped_column(Boolean, default=False)
    matched: Mapped[list[Any]] = mapped_column(JSON)
    reason: Mapped[str] = mapped_column(Text)


class RunUncovered(Base):
    __tablename__ = "run_uncovered"
    __table_args__ = (Index("ix_run_uncovered_run_village", "run_id", "village_code"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    run_id: Mapped[str] = mapped_column(ForeignKey("runs.id", ondelete="CASCADE"))
    village_code: Mapped[str] = mapped_column(String(12))
    township_code: Mapped[str] = mapped_column(String(9))
    county_code: Mapped[str] = mapped_column(String(6))
    missing: Mapped[int] = mapped_column(Integer)
    reasons: Mapped[list[Any]] = mapped_column(JSON)
