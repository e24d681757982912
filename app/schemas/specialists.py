"""Specialist bodies (科技特派员: individuals, teams, legal persons) with expertise and team members."""

from typing import Annotated, Literal

from pydantic import (
    BaseModel,
    Field,
    StringConstraints,
    ValidationInfo,
    field_validator,
)
from pydantic_core import InitErrorDetails, PydanticCustomError, ValidationError

from app.schemas.common import (
    CountyCode,
    ExternalCode,
    Located,
    Name,
    RegionCode,
    Stamped,
    Strict,
)

Kind = Literal["individual", "team", "legal_person"]
OrgType = Literal["university", "research_institute", "enterprise", "extension_station", "other"]
TitleLevel = Literal["senior", "deputy_senior", "intermediate", "junior", "none"]  # 正高/副高/中级/初级/无
ProgrammeLevel = Literal["provincial", "city", "county"]
Grade = Literal["优秀", "良好", "合格", "不合格"]
IndustryCode = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=64)]
OrgName = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]


class Expertise(Strict):
    industry: IndustryCode
    proficiency: int = Field(ge=1, le=3, description="1 basic, 2 competent, 3 expert")


class SpecialistIn(Located):
    code: ExternalCode
    name: Name
    kind: Kind = "individual"
    org_name: OrgName | None = None
    org_type: OrgType | None = None
    org_region_code: RegionCode | None = None
    title_level: TitleLevel | None = None
    home_region_code: RegionCode | None = Field(None, description="6, 9 or 12 digits; its county is the first 6")
    expertise: list[Expertise] = []
    capacity: int = Field(2, ge=0, le=50, description="villages per season")
    service_days: float = Field(120, ge=0, le=366, allow_inf_nan=False, description="days available per season")
    max_distance_km: float | None = Field(100, gt=0, le=2000, allow_inf_nan=False)
    three_areas_programme: bool = False
    programme_level: ProgrammeLevel | None = None
    active: bool = True
    grade: Grade | None = Field(None, description="latest evaluation")
    members: list[ExternalCode] = Field([], description="codes of member specialists; teams only")
    leader: ExternalCode | None = Field(None, description="one of members; teams only")

    @field_validator("expertise")
    @classmethod
    def _unique_industries(cls, value: list[Expertise]) -> list[Expertise]:
        seen: dict[str, int] = {}
        errors: list[InitErrorDetails] = []
        for i, item in enumerate(value):
            if item.industry in seen:
                err = PydanticCustomError("duplicate_industry", "industry {industry} repeats expertise.{first}",
                                          {"industry": item.industry, "first": seen[item.industry]})
                errors.append(InitErrorDetails(type=err, loc=(i, "industry"), input=item.industry))
            else:
                seen[item.industry] = i
        if errors:
            raise ValidationError.from_exception_data("expertise", errors)
        return value

    @field_validator("members")
    @classmethod
    def _members_only_for_teams(cls, value: list[str], info: ValidationInfo) -> list[str]:
        if value and info.data.get("kind", "individual") != "team":
            raise ValueError("only a specialist of kind 'team' can have members")
        if len(set(value)) != len(value):
            raise ValueError("a member is listed twice")
        if info.data.get("code") in value:
            raise ValueError("a team cannot list itself as a member")
        return value

    @field_validator("leader")
    @classmethod
    def _leader_among_members(cls, value: str | None, info: ValidationInfo) -> str | None:
        if value is None or "members" not in info.data:
            return value
        if info.data.get("kind") != "team":
            raise ValueError("only a specialist of kind 'team' can have a leader")
        if value not in info.data["members"]:
            raise ValueError("the leader must be one of the members")
        return value


class ExpertiseOut(BaseModel):
    industry: str
    proficiency: int


class SpecialistOut(Stamped):
    name: str
    kind: str
    org_name: str | None
    org_type: str | None
    org_region_code: str | None
    title_level: str | None
    home_region_code: str | None
    home_county_code: str | None
    lon: float | None
    lat: float | None
    datum: str | None
    expertise: list[ExpertiseOut]
    capacity: int
    service_days: float
    max_distance_km: float | None
    three_areas_programme: bool
    programme_level: str | None
    active: bool
    grade: str | None
    members: list[str]
    leader: str | None


class SpecialistFilters(BaseModel):
    """Query filters of the specialist list; all given filters must hold."""

    county: CountyCode | None = Field(None, description="home county code (6 digits)")
    kind: Kind | None = None
    industry: IndustryCode | None = Field(None, description="has expertise in this industry")
    min_proficiency: int | None = Field(None, ge=1, le=3, description="with at least this proficiency")
    active: bool | None = None
    grade: Grade | None = None
    org_type: OrgType | None = None
    three_areas_programme: bool | None = None
    name_contains: str | None = Field(None, min_length=1, max_length=200)
