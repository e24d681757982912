"""Field types shared by the catalogue schemas: division codes, coordinates, datums, list envelopes."""

from datetime import datetime
from typing import Annotated, Generic, Literal, TypeVar

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, model_validator

CountyCode = Annotated[str, StringConstraints(pattern=r"^[0-9]{6}$")]
TownshipCode = Annotated[str, StringConstraints(pattern=r"^[0-9]{9}$")]
VillageCode = Annotated[str, StringConstraints(pattern=r"^[0-9]{12}$")]
RegionCode = Annotated[str, StringConstraints(pattern=r"^([0-9]{6}|[0-9]{9}|[0-9]{12})$")]
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
    """Rows inserted, rows changed (new version) and rows identical to the stored ones (version and ETag kept)."""

    created: int
    updated: int
    total: int
    unchanged: int = Field(default=0, description="catalogue rows identical to the stored ones (their child rows "
                                                  "too), left untouched; service records count every existing row "
                                                  "as updated")


class ErrorItem(BaseModel):
    """One problem: the row (index in the submitted array, or null) and the field it concerns."""

    row: int | None
    field: str
    message: str


class ErrorBody(BaseModel):
    model_config = ConfigDict(extra="allow")  # e.g. current_etag on a 412

    code: str = Field(description="short machine-readable kind, e.g. invalid_input, not_found, conflict")
    message: str
    errors: list[ErrorItem] | None = Field(None, description="every problem found (invalid input), up to 1,000")


class ErrorEnvelope(BaseModel):
    """How every error is answered."""

    error: ErrorBody


ERROR_RESPONSES: dict[int | str, dict[str, object]] = {
    404: {"model": ErrorEnvelope, "description": "an unknown code, run or path"},
    409: {"model": ErrorEnvelope, "description": "the write conflicts with stored data (exists, still in use); "
                                                 "nothing was written"},
    413: {"model": ErrorEnvelope, "description": "too many rows or too large a body"},
    422: {"model": ErrorEnvelope, "description": "invalid input: every problem with its row and field; "
                                                 "nothing was written"},
}

IF_MATCH_RESPONSES: dict[int | str, dict[str, object]] = {
    412: {"model": ErrorEnvelope, "description": "If-Match names an old version; the ETag header and current_etag "
                                                 "name the current one; nothing was written"},
}
