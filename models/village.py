"""Villages (行政村 / 社区) and their industry needs."""

from sqlalchemy import Boolean, Float, ForeignKey, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from models.base import Base, Entity


class Village(Entity, Base):
    __tablename__ = "villages"

    township_id: Mapped[int] = mapped_column(ForeignKey("townships.id", ondelete="RESTRICT"), index=True)
    county_id: Mapped[int] = mapped_column(ForeignKey("counties.id", ondelete="RESTRICT"), index=True)
    name: Mapped[str] = mapped_column(String(100))
    kind: Mapped[str] = mapped_column(String(16))
    poverty_alleviated: Mapped[bool] = mapped_column(Boolean, default=False)
    designated_support: Mapped[bool] = mapped_column(Boolean, default=False)
    three_areas: Mapped[bool] = mapped_column(Boolean, default=False)
    key_village: Mapped[bool] = mapped_column(Boolean, default=False)
    excluded: Mapped[bool] = mapped_column(Boolean, default=False)
    lon: Mapped[float | None] = mapped_column(Float)
    lat: Mapped[float | None] = mapped_column(Float)
    datum: Mapped[str | None] = mapped_column(String(8))

    needs: Mapped[list["VillageNeed"]] = relationship(
        back_populates="village", cascade="all, delete-orphan", order_by="VillageNeed.rank", lazy="selectin"
    )


class VillageNeed(Base):
    __tablename__ = "village_needs"
    __table_args__ = (UniqueConstraint("village_id", "industry_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    village_id: Mapped[int] = mapped_column(ForeignKey("villages.id", ondelete="CASCADE"), index=True)
    industry_id: Mapped[int] = mapped_column(ForeignKey("industries.id", ondelete="RESTRICT"), index=True)
    rank: Mapped[int] = mapped_column(Integer)
    weight: Mapped[float] = mapped_column(Float, default=1.0)
    is_primary: Mapped[bool] = mapped_column(Boolean, default=False)

    village: Mapped[Village] = relationship(back_populates="needs")
