"""Lagrangian bound that keeps the side rules, and the per-specialist answers that guide the repair.

The first merged network level (coverage, match and, when it fits, continuity,
combined with exact lexicographic scales) is one integer gain per free pair.
Pricing each village's demand splits the problem into one small problem per
specialist: at most `capacity` villages within the days left (an exact
knapsack), and for a team the better of the team alone or its members. For any
non-negative prices the sum of these answers plus the priced demand is an
upper bound on the combined gain, with the days budget and the team rule kept
exactly; prices are integers, so the arithmetic is exact. The prices used are
the network optimum's village duals, so the bound is never worse than the
network's and is tighter wherever the network broke a side rule. max_changes
is relaxed (dropped), which keeps the bound valid.

The same answers say, for every team, whether the team or its members are
worth more at those prices, and for every specialist whose days can bind,
which villages it would take: solver.restrict turns them into restrictions.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from solver.build import Setup
from solver.network import Network, potentials


@dataclass
class Relaxation:
    """The first level's problem over the network's free pairs, as plain arrays."""

    pairs: np.ndarray  # prepared pair index per arc (sorted by specialist)
    s: np.ndarray  # specialist per arc
    v: np.ndarray  # village per arc
    gain: np.ndarray  # int64 gain of the arc: pair value + its village's coverage value
    days: np.ndarray  # days the arc costs its specialist
    cap: np.ndarray  # per specialist: villages it may still take
    left: np.ndarray  # per specialist: days left (inf = no budget)
    req: np.ndarray  # per village: specialists still required
    groups: list[tuple[int, list[int]]]  # (team, members) kept apart by the team rule
    starts: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))
    critical: np.ndarray = field(default_factory=lambda: np.zeros(0, bool))

    def __post_init__(self) -> None:
        n_s = len(self.cap)
        self.starts = np.searchsorted(self.s, np.arange(n_s + 1))
        order = np.lexsort((-self.days, self.s))
        rank = np.arange(len(order)) - self.starts[self.s[order]]
        top = rank < self.cap[self.s[order]]
        worst = np.bincount(self.s[order][top], weights=self.days[order][top], minlength=n_s)
        self.critical = worst > self.left + 1e-9  # days can bind for these specialists


@dataclass
class Answer:
    value: int  # Lagrangian upper bound on the combined gain of the free pairs
    chosen: np.ndarray  # arc mask: every specialist's (or team side's) best answer at the prices
    team_side: dict[int, bool]  # team index -> True when the team is worth more than its members


def relaxation(setup: Setup, net: Network, combined: np.ndarray, groups: list[tuple[int, list[int]]]) -> Relaxation:
    """Arrays of the first level from the network and its combined integer arc cost."""
    prep = setup.prep
    pi = net.pair_index
    village_cost = combined[net.village_arcs]
    gain = -(combined[net.pair_arcs] + village_cost[prep.pv[pi]])
    return Relaxation(
        pairs=pi,
        s=prep.ps[pi].astype(np.int64),
        v=prep.pv[pi].astype(np.int64),
        gain=gain.astype(np.int64),
        days=prep.days[pi],
        cap=setup.cap_eff.astype(np.int64),
        left=prep.s_days - setup.days0,
        req=setup.req_res.astype(np.int64),
        groups=groups,
    )


def network_prices(net: Network, combined: np.ndarray, flow: np.ndarray) -> np.ndarray:
    """Village prices from the optimal flow's node potentials (integers, never negative)."""
    live = net.cap > 0
    d = np.zeros(net.n_nodes, dtype=np.int64)
    d[:] = potentials(net.n_nodes, net.tail[live], net.head[live], combined[live], flow[live], net.cap[live])
    vil = np.arange(net.village_arcs.start, net.village_arcs.stop)
    reduced = combined[vil] + d[net.tail[vil]] - d[net.head[vil]]
    return np.maximum(0, -reduced).astype(np.int64)


def knapsack(q: list[int], d: list[float], k: int, budget: float) -> tuple[int, list[int]]:
    """Best subset of at most k items within the days budget (exact; Pareto front per count)."""
    states: list[list[tuple[float, int, tuple[int, ...]]]] = [[(0.0, 0, ())]] + [[] for _ in range(k)]
    for i in sorted(range(len(q)), key=lambda j: (-q[j], j)):
        if q[i] <= 0:
            break
        for c in range(k - 1, -1, -1):
            states[c + 1] += [(days + d[i], val + q[i], items + (i,)) for days, val, items in states[c]
                              if days + d[i] <= budget + 1e-9]
        for c in range(1, k + 1):  # keep only states with fewer days or more value
            front: list[tuple[float, int, tuple[int, ...]]] = []
            for st in sorted(states[c], key=lambda x: (x[0], -x[1])):
                if not front or st[1] > front[-1][1]:
                    front.append(st)
            states[c] = front
    best = max((st for row in states for st in row), key=lambda x: (x[1], -len(x[2])))
    return best[1], sorted(best[2])


def _specialists(r: Relaxation, prices: np.ndarray, prefer: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    # Every specialist's best answer: its top positive gains, or the exact knapsack where days bind.
    q = r.gain - prices[r.v]
    n_s = len(r.cap)
    pos = np.flatnonzero((q > 0) | ((q == 0) & prefer))
    order = pos[np.lexsort((~prefer[pos], -q[pos], r.s[pos]))]
    s_o = r.s[order]
    rank = np.arange(len(order)) - np.searchsorted(s_o, s_o)
    take = order[rank < r.cap[s_o]]
    chosen = np.zeros(len(q), dtype=bool)
    chosen[take] = True
    value = np.bincount(r.s[take], weights=q[take], minlength=n_s).astype(np.int64)
    used = np.bincount(r.s[take], weights=r.days[take], minlength=n_s)
    over = np.flatnonzero(r.critical & (used > r.left + 1e-9))
    in_over = np.zeros(n_s, dtype=bool)
    in_over[over] = True
    cand = order[in_over[s_o]]  # positive arcs of those specialists, best first
    c_s = r.s[cand]
    same = np.lexsort((np.arange(len(cand)), r.days[cand], c_s))  # by specialist, days, rank
    key_s, key_d = c_s[same], r.days[cand][same]
    new = np.r_[True, (key_s[1:] != key_s[:-1]) | (key_d[1:] != key_d[:-1])]
    grp = np.cumsum(new) - 1
    rank_d = np.arange(len(same)) - np.flatnonzero(new)[grp]
    keep = np.zeros(len(cand), dtype=bool)
    keep[same[rank_d < r.cap[key_s]]] = True  # only a specialist's best `cap` arcs of each days value can matter
    cand, c_s = cand[keep], c_s[keep]
    bounds_s = np.searchsorted(c_s, np.r_[over, over + 1] if len(over) else np.zeros(0, np.int64))
    for k, s in enumerate(over):
        mine = cand[bounds_s[k]:bounds_s[k + len(over)]]
        best, items = knapsack(q[mine].tolist(), r.days[mine].tolist(), int(r.cap[s]), float(r.left[s]))
        chosen[r.starts[s]:r.starts[s + 1]] = False
        chosen[mine[items]] = True
        value[s] = best
    return chosen, value


def evaluate(r: Relaxation, prices: np.ndarray, prefer: np.ndarray | None = None) -> Answer:
    """Lagrangian bound at integer prices, with every specialist's answer (ties go to `prefer`red arcs)."""
    pref = prefer if prefer is not None else np.zeros(len(r.gain), dtype=bool)
    chosen, value = _specialists(r, prices, pref)
    total = int(value.sum()) + int(np.dot(prices, r.req))
    sides: dict[int, bool] = {}
    for t, ms in r.groups:  # a team or its members, whichever is worth more
        team, members = int(value[t]), int(value[ms].sum())
        sides[t] = team > members
        total -= members if sides[t] else team
        for x in ms if sides[t] else [t]:
            chosen[r.starts[x]:r.starts[x + 1]] = False
    return Answer(total, chosen, sides)


def level_bounds(
    bound: int, scales: list[int], ranges: list[int], achieved: list[int]
) -> list[int]:
    """Per level of the merged group, a lower bound on its (minimised) cost given the combined bound.

    `bound` bounds sum(scale_j * cost_j) from below; level i's bound assumes every higher level
    keeps its achieved cost and lets every lower level take its most favourable value.
    """
    out: list[int] = []
    for i, s in enumerate(scales):
        rest = bound - sum(scales[j] * achieved[j] for j in range(i)) - sum(
            scales[j] * ranges[j] for j in range(i + 1, len(scales)))
        out.append(-((-rest) // s))  # ceiling division, exact for Python ints
    return out
