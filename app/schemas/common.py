"""Field types shared by the catalogue schemas: division codes, coordinates, datums, list envelopes."""

from datetime import datetime
from typing import Annotated, Generic, Literal, TypeVar

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, model_validator

CountyCode = Annotated[str, StringConstraints(pattern=r"^\d{6}$")]
TownshipCode = Annotated[str, StringConstraints(pattern=r"^\d{9}$")]
VillageCode = Annotated[str, StringConstraints(pattern=r"^\d{12}$")]
RegionCode = Annotated[str, StringConstraints(pattern=r"^(\d{6}|\d{9}|\d{12})$")]
ExternalCode = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9_.\-]{1,64}$")]
Name = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100)]
Lon = Annotated[float, Field(ge=-180, le=180, allow_inf_nan=False)]
Lat = Annotated[float, Field(ge=-90, le=90, allow_inf_nan=False)]
Datum = Literal["WGS-84", "GCJ-02"]

T = TypeVar("T")


class Strict(BaseModel):
    """Unknown fields are an error, so a typo in a column name is reported instead of silently dropped."""

    model_config = ConfigDict(extra="forbid")


class Located(Strict):
    """Optional coordinates with their datum; lon and lat come together."""

    lon: Lon | None = None
    lat: Lat | None = None
    datum: Datum | None = None

    @model_validator(mode="after")
    def _pair(self) -> "Located":
        if (self.lon is None) != (self.lat is None):
            raise ValueError("lon and lat must be given together")
        if self.lon is not None and self.datum is None:
            self.datum = "GCJ-02"
        return self


class Stamped(BaseModel):
    """Fields every response carries."""

    code: str
    created_at: datetime
    updated_at: datetime
    version: int


class ListPage(BaseModel, Generic[T]):
    items: list[T]
    next_cursor: str | None = None


class BulkResult(BaseModel):
    created: int
    updated: int
    total: int
