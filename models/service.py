"""Service records: per season and pairing, the evaluation grade, service days and visits."""

from datetime import datetime

from sqlalchemy import Float, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from models.base import Base, UTCDateTime, utcnow


class ServiceRecord(Base):
    """Keyed by codes, not foreign keys: a record outlives a specialist who has left."""

    __tablename__ = "service_records"
    __table_args__ = (UniqueConstraint("season", "specialist_code", "village_code"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    season: Mapped[str] = mapped_column(String(32), index=True)
    specialist_code: Mapped[str] = mapped_column(String(64), index=True)
    village_code: Mapped[str] = mapped_column(String(12), index=True)
    grade: Mapped[str | None] = mapped_column(String(8))
    service_days: Mapped[float] = mapped_column(Float, default=0.0)
    visits: Mapped[int] = mapped_column(Integer, default=0)
    note: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)
    version: Mapped[int] = mapped_column(Integer, default=1)

    __mapper_args__ = {"version_id_col": version}
