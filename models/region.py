"""Counties (县/区) and townships (乡镇/街道), keyed by the official statistical division code."""

from sqlalchemy import Float, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from models.base import Base, Entity


class County(Entity, Base):
    __tablename__ = "counties"

    name: Mapped[str] = mapped_column(String(100))
    lon: Mapped[float | None] = mapped_column(Float)
    lat: Mapped[float | None] = mapped_column(Float)
    datum: Mapped[str | None] = mapped_column(String(8))


class Township(Entity, Base):
    __tablename__ = "townships"

    county_id: Mapped[int] = mapped_column(ForeignKey("counties.id", ondelete="RESTRICT"), index=True)
    name: Mapped[str] = mapped_column(String(100))
    lon: Mapped[float | None] = mapped_column(Float)
    lat: Mapped[float | None] = mapped_column(Float)
    datum: Mapped[str | None] = mapped_column(String(8))
