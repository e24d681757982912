"""Service record bodies: per season and pairing, the evaluation grade (考核等次), service days and visits."""

from datetime import datetime
from typing import Annotated

from pydantic import BaseModel, Field, StringConstraints

from app.schemas.common import CountyCode, ExternalCode, Strict, VillageCode
from app.schemas.specialists import Grade

# No "/" so that a season can sit in a URL path segment (DELETE /service-records/{season}/...).
Season = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=32, pattern=r"^[^/]+$")]
Note = Annotated[str, StringConstraints(max_length=2000)]


class ServiceRecordIn(Strict):
    """One pairing's record for one season; (season, specialist, village) is the key."""

    season: Season = Field(description='e.g. "2026" or "2026H1"')
    specialist: ExternalCode = Field(description="specialist code (it may since have become inactive)")
    village: VillageCode = Field(description="12-digit village code")
    grade: Grade | None = Field(None, description="evaluation: 优秀, 良好, 合格 or 不合格")
    service_days: float = Field(0, ge=0, le=366, allow_inf_nan=False)
    visits: int = Field(0, ge=0, le=1000)
    note: Note | None = None


class ServiceRecordOut(BaseModel):
    season: str
    specialist: str
    village: str
    county: str
    grade: str | None
    service_days: float
    visits: int
    note: str | None
    created_at: datetime
    updated_at: datetime
    version: int


class ServiceRecordFilters(BaseModel):
    """Query filters of the record list; all given filters must hold."""

    season: Season | None = None
    specialist: ExternalCode | None = None
    village: VillageCode | None = None
    county: CountyCode | None = Field(None, description="the village's county (first 6 digits of its code)")
    grade: Grade | None = None
