"""Plain input and output data of the Jiedui matching solver.

All classes are frozen dataclasses (inputs) or plain dataclasses (outputs)
with `to_dict()` / `from_dict()` for JSON snapshots. Nothing here touches a
database or the network; the solver is pure.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from solver.pairs import PairTable
from solver.serial import Serial

GRADES: tuple[str, ...] = ("不合格", "合格", "良好", "优秀")  # worst .. best
LEVEL_NAMES: tuple[str, ...] = ("coverage", "match", "continuity", "travel", "balance")
MAXIMISED: frozenset[str] = frozenset({"coverage", "match", "continuity"})


def grade_rank(grade: str | None) -> int:
    """Rank of an evaluation grade (-1 for unknown/None, 0 = 不合格 .. 3 = 优秀)."""
    return GRADES.index(grade) if grade in GRADES else -1


def keeps_continuity(grade: str | None, min_grade: str) -> bool:
    """Whether last season's pair with this grade counts for continuity: graded at least min_grade, or ungraded."""
    return grade is None or grade_rank(grade) >= max(grade_rank(min_grade), 0)


@dataclass(frozen=True)
class Specialist(Serial):
    id: str
    county: str | None = None  # 6-digit division code
    township: str | None = None  # 9-digit division code
    lon: float | None = None
    lat: float | None = None
    expertise: dict[str, int] = field(
        default_factory=dict
    )  # industry -> proficiency 1..3
    capacity: int = 2  # villages per season
    days_available: float | None = None  # None = unlimited
    max_distance_km: float | None = None  # None = no radius rule
    kind: str = "individual"  # individual | team | legal_person
    members: tuple[str, ...] = ()  # team member specialist ids
    three_areas_programme: bool = False
    active: bool = True
    grade: str | None = None  # latest evaluation: 优秀 | 良好 | 合格 | 不合格


@dataclass(frozen=True)
class Need(Serial):
    industry: str
    weight: float = 1.0
    primary: bool = False


@dataclass(frozen=True)
class Village(Serial):
    id: str  # 12-digit division code
    county: str
    township: str
    lon: float | None = None
    lat: float | None = None
    needs: tuple[Need, ...] = ()
    poverty_alleviated: bool = False
    designated_support: bool = False
    three_areas: bool = False
    key_village: bool = False
    excluded: bool = False
    service_days: float = 30.0  # on-site days a pairing costs the specialist per season

    @property
    def priority(self) -> bool:
        """Policy's first-served villages: 脱贫村, 定点帮扶村 and 三区 (the API's `priority` filter agrees)."""
        return self.poverty_alleviated or self.designated_support or self.three_areas

    def primary_industry(self) -> str | None:
        """The need flagged primary, else the heaviest need (ties: first), else None."""
        for need in self.needs:
            if need.primary:
                return need.industry
        if not self.needs:
            return None
        return max(self.needs, key=lambda n: n.weight).industry


@dataclass(frozen=True)
class PairOverride(Serial):
    specialist_id: str
    village_id: str
    score: float | None = (
        None  # replaces the computed match score (and waives the expertise rule)
    )
    effort_days: float | None = None  # replaces service + travel days of the pair


@dataclass(frozen=True)
class PreviousPair(Serial):
    specialist_id: str
    village_id: str
    grade: str | None = None  # None: not evaluated yet (counts for continuity, as 合格 does)


@dataclass(frozen=True)
class MatchParams(Serial):
    """Rules and objective of one matching run.

    Travel days of a pair: `visits_per_season * ceil(distance_km / km_per_travel_day)`;
    a pair costs `village.service_days + travel_days` days of the specialist's
    `days_available` (an override's `effort_days` replaces the sum).
    Missing coordinates: distance is estimated from the division hierarchy
    (`km_same_township`, `km_same_county`, `km_other_county`).
    `levels` are lexicographic (coverage is always first); an entry may join criteria with "+", e.g.
    "match+continuity", weighted inside the level by `level_weights`; weights act on the
    internal integer units (coverage: weighted units, match: points x 100, continuity: pairs,
    travel: km x 10, balance: sum of load^2). Single-criterion levels ignore weights.
    max_changes counts last season's pairs that are dropped (including ones no longer eligible).
    The match level is additive over pairs (with priority_required=2 both specialists' scores count).
    """

    expertise_rule: str = "primary"  # primary | any | none
    required: int = 1
    priority_required: int = 1
    priority_weight: int = 10
    use_radius: bool = True
    use_days_budget: bool = True
    visits_per_season: int = 4
    km_per_travel_day: float = 60.0
    km_same_township: float = 8.0
    km_same_county: float = 35.0
    km_other_county: float = 90.0
    locked: tuple[tuple[str, str], ...] = ()
    forbidden: tuple[tuple[str, str], ...] = ()
    team_rule: bool = True
    three_areas_rule: bool = False
    overrides: tuple[PairOverride, ...] = ()
    override_table: PairTable | None = None  # the same as columns, for up to millions of pairs
    restrict_to_overrides: bool = False
    previous: tuple[PreviousPair, ...] = ()
    continuity_min_grade: str = "合格"
    max_changes: int | None = None
    levels: tuple[str, ...] = LEVEL_NAMES
    level_weights: dict[str, float] = field(default_factory=dict)
    time_limit_s: float = 60.0
    bound_rounds: int = 15  # column-generation rounds refining the side-rule bound (deterministic work; 0 = off)
    bound_time_s: float = 8.0  # and at most this many seconds for them (at least one network solve's time)
    polish_time_s: float = 0.3  # CP-SAT polish budget in deterministic seconds (~1-2 s wall on 2 cores; 0 = off)
    exact_finish: bool = True  # prove the levels left unproven by MILPs on small instances (solver.exact)
    gap_limit: float = 0.0  # relative gap of the first open level at which refining the bound (and CP-SAT) may stop
    workers: int = 2
    seed: int = 0


@dataclass(frozen=True)
class MatchInstance(Serial):
    specialists: tuple[Specialist, ...]
    villages: tuple[Village, ...]
    params: MatchParams = field(default_factory=MatchParams)


@dataclass
class Progress(Serial):
    phase: str
    level: str | None
    value: float | None
    bound: float | None
    gap: float | None
    elapsed_s: float


@dataclass
class LevelResult(Serial):
    name: str
    value: float
    bound: float | None
    gap: float | None
    sense: str = "max"  # max | min
    proven: bool = True  # bound is a valid proof for this level's value


@dataclass
class Assignment(Serial):
    specialist_id: str
    village_id: str
    score: float
    matched: list[tuple[str, int, float]] = field(
        default_factory=list
    )  # (industry, proficiency, weight)
    distance_km: float = 0.0
    distance_estimated: bool = False
    travel_days: float = 0.0
    continuity: bool = False
    locked: bool = False
    reason: str = ""


@dataclass
class Reason(Serial):
    code: str
    message: str
    detail: dict[str, Any] = field(default_factory=dict)


@dataclass
class Uncovered(Serial):
    village_id: str
    missing: int
    reasons: list[Reason] = field(default_factory=list)


@dataclass
class Recruit(Serial):
    county: str
    industry: str
    slots: int
    villages: list[str] = field(default_factory=list)


@dataclass
class MatchSolution(Serial):
    status: str  # optimal | feasible | infeasible
    levels: list[LevelResult] = field(default_factory=list)
    bound: float | None = None
    gap: float | None = None
    solve_seconds: float = 0.0
    model_size: dict[str, Any] = field(default_factory=dict)
    method: str = ""
    assignments: list[Assignment] = field(default_factory=list)
    uncovered: list[Uncovered] = field(default_factory=list)
    recruitment: list[Recruit] = field(default_factory=list)
    messages: list[str] = field(default_factory=list)
