"""Jiedui (结对) optimisation core: pair science-and-technology specialists with villages.

Pure: frozen dataclasses in, dataclasses out; no database or I/O.

Method. Eligible pairs are built with numpy (solver.candidates, solver.spatial).
The core (coverage + capacity + per-pair criteria + convex load balance) is a
transportation network solved by OR-Tools min-cost flow; levels are
lexicographic, each proven optimal and then fixed to its optimal face with node
potentials (solver.network). Side rules that break the network (total days
budget, team rule, max_changes) are checked on the network optimum, which is a
relaxation. If it breaks one, a Lagrangian relaxation that prices village
demand and keeps the days budget and team rule exactly (solver.lagrange; prices
from the network's duals, refined by column generation in solver.dual over
every village, the master LP solved by HiGHS's simplex for a city and by PDLP
for a province, a fixed number of rounds before the answer so the same input
gives the same answer) gives a tighter bound. The last
master LP's plan (each days-bound specialist's and team's pattern of greatest
weight) picks each team's side and, per specialist, days thresholds around its
planned villages (the i-th longest village may need at most tau_i days, nested
capacities in the network); the network is re-solved under those restrictions
(solver.side, solver.restrict), which always keeps the rules, and CP-SAT may
polish a small neighbourhood
(solver.repair). Where levels stay unproven, reduced-cost fixing (solver.fixing)
uses the Lagrangian bound's slack to leave out every pair that no answer as good
as this one can use, and where few enough are left, one exact MILP per level
(solver.exact, HiGHS, started from the answer; balance joined to the level above
it as its tie-breaker) proves the rest; a MILP counts as proven only when HiGHS's
bound reaches its own answer's value (solver.milp_process), and one the time
limit cuts still gives the first level it was solving HiGHS's bound. A level is
reported optimal only when its value equals a proven bound.
solver.validate re-checks any answer independently; solver.synthetic generates
realistic test instances.
"""

from solver.model import (
    Assignment,
    LevelResult,
    MatchInstance,
    MatchParams,
    MatchSolution,
    Need,
    PairOverride,
    PreviousPair,
    Progress,
    Reason,
    Recruit,
    Specialist,
    Uncovered,
    Village,
)
from solver.pairs import PairTable
from solver.solve import solve

__all__ = [
    "Assignment",
    "LevelResult",
    "MatchInstance",
    "MatchParams",
    "MatchSolution",
    "Need",
    "PairOverride",
    "PairTable",
    "PreviousPair",
    "Progress",
    "Reason",
    "Recruit",
    "Specialist",
    "Uncovered",
    "Village",
    "solve",
]
