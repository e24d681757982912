"""Season bodies: the adoption of a run as a season's pairings, and the season overview."""

from datetime import datetime

from pydantic import BaseModel, Field

from app.schemas.common import Strict
from app.schemas.records import Note


class AdoptionIn(Strict):
    """Adopt a finished run of this season as its pairings (replaces any earlier adoption)."""

    run_id: str = Field(min_length=1, max_length=32, description="a run of this season that ended optimal or feasible")
    note: Note | None = Field(None, description="e.g. who approved it and when (县科技局 2026-03-01 会议)")


class AdoptionOut(BaseModel):
    season: str
    run_id: str
    adopted_at: datetime
    note: str | None
    replaced: str | None = Field(None, description="the run adopted before, when this adoption replaced it")


class SeasonOut(BaseModel):
    season: str
    runs: int = Field(description="runs submitted for the season")
    finished: int = Field(description="runs that ended optimal or feasible")
    newest_run: str | None = Field(description="the newest run that ended optimal or feasible")
    adoption: AdoptionOut | None
    pairing_run: str | None = Field(description="the run holding the season's pairings: the adopted one, else the "
                                                "newest finished one; season renewals start from it")
    coverage: float | None = Field(description="share of the pairing run's villages that are covered")
