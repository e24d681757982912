"""Village (行政村 / 社区) bodies with their industry needs."""

from typing import Annotated, Literal

from pydantic import (
    BaseModel,
    Field,
    StringConstraints,
    ValidationInfo,
    field_validator,
)

from app.schemas.common import Located, Stamped, Strict, TownshipCode, VillageCode

VillageKind = Literal["村委会", "居委会", "社区", "虚拟"]
VillageName = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100)]
NeedIndustry = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=64)]
Weight = Annotated[float, Field(gt=0, le=100, allow_inf_nan=False)]


class NeedIn(Strict):
    industry: NeedIndustry
    weight: Weight = 1.0
    primary: bool = False


class VillageIn(Located):
    """A village; `excluded` left out means excluded unless it is a 村委会 (urban communities are not covered)."""

    code: VillageCode
    name: VillageName
    kind: VillageKind
    township_code: TownshipCode | None = None
    poverty_alleviated: bool = False
    designated_support: bool = False
    three_areas: bool = False
    key_village: bool = False
    excluded: bool | None = None
    needs: list[NeedIn] = Field(default_factory=list, max_length=64)

    @field_validator("township_code")
    @classmethod
    def _under_township(cls, value: str | None, info: ValidationInfo) -> str | None:
        code = info.data.get("code")
        if value is not None and code is not None and code[:9] != value:
            raise ValueError(f"village code does not sit under township {value}")
        return value


class NeedOut(BaseModel):
    industry: str
    weight: float
    primary: bool
    rank: int


class VillageOut(Stamped):
    name: str
    kind: str
    township_code: str
    county_code: str
    poverty_alleviated: bool
    designated_support: bool
    three_areas: bool
    key_village: bool
    excluded: bool
    lon: float | None
    lat: float | None
    datum: str | None
    needs: list[NeedOut]
