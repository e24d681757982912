"""Specialists (科技特派员: individuals, teams, legal persons), their expertise and team membership."""

from sqlalchemy import Boolean, Float, ForeignKey, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from models.base import Base, Entity


class Specialist(Entity, Base):
    __tablename__ = "specialists"

    name: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(16), index=True)
    org_name: Mapped[str | None] = mapped_column(String(200))
    org_type: Mapped[str | None] = mapped_column(String(32))
    org_region_code: Mapped[str | None] = mapped_column(String(12))
    title_level: Mapped[str | None] = mapped_column(String(32))
    home_region_code: Mapped[str | None] = mapped_column(String(12), index=True)
    home_county_code: Mapped[str | None] = mapped_column(String(6), index=True)
    lon: Mapped[float | None] = mapped_column(Float)
    lat: Mapped[float | None] = mapped_column(Float)
    datum: Mapped[str | None] = mapped_column(String(8))
    capacity: Mapped[int] = mapped_column(Integer, default=2)
    service_days: Mapped[float] = mapped_column(Float, default=120.0)
    max_distance_km: Mapped[float | None] = mapped_column(Float)
    three_areas_programme: Mapped[bool] = mapped_column(Boolean, default=False)
    programme_level: Mapped[str | None] = mapped_column(String(16))
    active: Mapped[bool] = mapped_column(Boolean, default=True, index=True)
    grade: Mapped[str | None] = mapped_column(String(8))

    expertise: Mapped[list["SpecialistExpertise"]] = relationship(
        back_populates="specialist", cascade="all, delete-orphan", lazy="selectin"
    )
    members: Mapped[list["TeamMember"]] = relationship(
        foreign_keys="TeamMember.team_id", cascade="all, delete-orphan", lazy="selectin"
    )


class SpecialistExpertise(Base):
    __tablename__ = "specialist_expertise"
    __table_args__ = (UniqueConstraint("specialist_id", "industry_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    specialist_id: Mapped[int] = mapped_column(ForeignKey("specialists.id", ondelete="CASCADE"), index=True)
    industry_id: Mapped[int] = mapped_column(ForeignKey("industries.id", ondelete="RESTRICT"), index=True)
    proficiency: Mapped[int] = mapped_column(Integer)

    specialist: Mapped[Specialist] = relationship(back_populates="expertise")


class TeamMember(Base):
    """A person's membership of a team; the unique member column makes "at most one team" a database rule."""

    __tablename__ = "team_members"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    team_id: Mapped[int] = mapped_column(ForeignKey("specialists.id", ondelete="CASCADE"), index=True)
    member_id: Mapped[int] = mapped_column(ForeignKey("specialists.id", ondelete="CASCADE"), unique=True)
    is_leader: Mapped[bool] = mapped_column(Boolean, default=False)
