"""County and township bodies."""

from pydantic import ConfigDict

from app.schemas.common import CountyCode, Located, Name, Stamped, TownshipCode


class CountyIn(Located):
    code: CountyCode
    name: Name


class CountyOut(Stamped):
    model_config = ConfigDict(from_attributes=True)

    name: str
    lon: float | None
    lat: float | None
    datum: str | None


class TownshipIn(Located):
    code: TownshipCode
    name: Name


class TownshipOut(CountyOut):
    county_code: str
