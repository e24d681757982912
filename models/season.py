"""Season adoptions: the run a bureau approved as a season's pairings (at most one per season)."""

from datetime import datetime

from sqlalchemy import ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from models.base import Base, UTCDateTime, utcnow


class SeasonAdoption(Base):
    """A season's adopted run; without one, the season's newest finished run stands for it."""

    __tablename__ = "season_adoptions"

    season: Mapped[str] = mapped_column(String(32), primary_key=True)
    run_id: Mapped[str] = mapped_column(ForeignKey("runs.id", ondelete="CASCADE"), index=True)
    adopted_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    note: Mapped[str | None] = mapped_column(Text)
