"""Industry taxonomy bodies."""

from typing import Annotated

from pydantic import ConfigDict, StringConstraints

from app.schemas.common import Stamped, Strict

IndustryCode = Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9_]{1,39}$")]
IndustryName = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100)]


class IndustryIn(Strict):
    code: IndustryCode
    name_zh: IndustryName
    name_en: IndustryName


class IndustryOut(Stamped):
    model_config = ConfigDict(from_attributes=True)

    name_zh: str
    name_en: str
