"""The industry taxonomy (产业) that needs and expertise refer to."""

from sqlalchemy import String
from sqlalchemy.orm import Mapped, mapped_column

from models.base import Base, Entity


class Industry(Entity, Base):
    __tablename__ = "industries"

    name_zh: Mapped[str] = mapped_column(String(100))
    name_en: Mapped[str] = mapped_column(String(100))
