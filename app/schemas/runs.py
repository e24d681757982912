"""Bodies of the matching-run endpoints."""

from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, Field, HttpUrl, field_validator

from app.schemas.common import CountyCode, Strict, VillageCode
from app.schemas.records import Season

Grade = Literal["优秀", "良好", "合格", "不合格"]
# A sheet of a run's CSV export, by key or by its title in the workbook.
ExportSheet = Literal["pairings", "uncovered", "counties", "结对名单", "未覆盖村", "分县覆盖"]
LEVELS = ("coverage", "match", "continuity", "travel", "balance")


class PairRef(Strict):
    specialist: str
    village: VillageCode


class PreviousPairIn(PairRef):
    grade: Grade | None = None


class OverrideIn(PairRef):
    score: Annotated[float, Field(ge=0, le=1_000_000, allow_inf_nan=False)] | None = None
    effort_days: Annotated[float, Field(ge=0, le=366, allow_inf_nan=False)] | None = None


class Rules(Strict):
    """Each hard rule's switch."""

    expertise_rule: Literal["primary", "any", "none"] = "primary"
    use_radius: bool = True
    use_days_budget: bool = True
    team_rule: bool = True
    three_areas_rule: bool = False
    required: Annotated[int, Field(ge=1, le=5)] = 1
    priority_required: Annotated[int, Field(ge=1, le=5)] = 1
    priority_weight: Annotated[int, Field(ge=1, le=1000)] = 10


class RunCreate(Strict):
    season: Season | None = Field(default=None, description='e.g. "2026" or "2026H1" (no "/": it sits in /seasons/{season})')
    counties: list[CountyCode] = Field(default_factory=list, description="empty = every county")
    specialists: Literal["all", "in_scope"] = "all"
    rules: Rules = Field(default_factory=Rules)
    levels: list[str] = Field(default_factory=lambda: list(LEVELS))
    level_weights: dict[str, Annotated[float, Field(gt=0, le=1_000_000, allow_inf_nan=False)]] = Field(
        default_factory=dict, description="weights of criteria joined in one level, e.g. {\"travel\": 2}")
    time_limit_s: Annotated[float, Field(gt=0, le=3600)] = 60.0
    gap_limit: Annotated[float, Field(ge=0, le=1)] = 0.0
    exact_finish: bool = Field(default=True, description="where at most 80,000 free pairs are left after reduced-cost "
                                                         "fixing (a county; a city of 2,000 villages), prove the levels "
                                                         "the network leaves unproven by exact MILPs, within "
                                                         "time_limit_s; false: the quick answer")
    workers: Annotated[int, Field(ge=1, le=16)] = 2
    seed: int = 0
    locked: list[PairRef] = Field(default_factory=list)
    forbidden: list[PairRef] = Field(default_factory=list)
    previous: list[PreviousPairIn] = Field(default_factory=list)
    previous_run: str | None = Field(default=None, description="take continuity pairs from this run")
    renews: str | None = Field(default=None, description="the run this one renews (for the change report)")
    continuity_min_grade: Grade = "合格"
    max_changes: Annotated[int, Field(ge=0)] | None = None
    overrides: list[OverrideIn] = Field(default_factory=list)
    restrict_to_overrides: bool = False
    callback_url: HttpUrl | None = None

    @field_validator("level_weights")
    @classmethod
    def _known_weights(cls, value: dict[str, float]) -> dict[str, float]:
        unknown = sorted(k for k in value if k not in LEVELS)
        if unknown:
            raise ValueError(f"unknown level(s) {unknown}; valid: {', '.join(LEVELS)}")
        return value

    @field_validator("levels")
    @classmethod
    def _known_levels(cls, value: list[str]) -> list[str]:
        for entry in value:
            for part in entry.split("+"):
                if part not in LEVELS:
                    raise ValueError(f"unknown level {part!r}; valid: {', '.join(LEVELS)}")
        return value


class RunOut(BaseModel):
    id: str
    state: str
    season: str | None
    params: dict[str, Any]
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None
    attempts: int
    cancel_requested: bool
    progress: dict[str, Any] | None
    result: dict[str, Any] | None
    error: str | None
    solve_seconds: float | None
    snapshot_hash: str
    rerun_of: str | None
    webhook_state: str | None
