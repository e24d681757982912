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
    by_v: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))  # arcs ordered by village
    v_starts: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))

    def __post_init__(self) -> None:
        n_s = len(self.cap)
        self.starts = np.searchsorted(self.s, np.arange(n_s + 1))
        self.by_v = np.argsort(self.v, kind="stable")
        self.v_starts = np.searchsorted(self.v[self.by_v], np.arange(len(self.req) + 1))
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
    own: np.ndarray  # arc mask: every specialist's own best answer, before the team rule
    spec_value: np.ndarray  # per specialist: the value of its own best answer


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


def network_prices(net: Network, combined: np.ndarray, flow: np.ndarray, known: np.ndarray | None = None
                   ) -> np.ndarray:
    """Village prices from node potentials proving the flow optimal (integers, never negative).

    `known`: potentials already proven for this cost (any optimal duals fit every optimal flow)."""
    live = net.cap > 0
    d = np.zeros(net.n_nodes, dtype=np.int64)
    d[:] = known if known is not None else potentials(
        net.n_nodes, net.tail[live], net.head[live], combined[live], flow[live], net.cap[live])
    vil = np.arange(net.village_arcs.start, net.village_arcs.stop)
    reduced = combined[vil] + d[net.tail[vil]] - d[net.head[vil]]
    return np.asarray(np.maximum(0, -reduced).astype(np.int64))


def knapsack(q: list[int], d: list[float], k: int, budget: float) -> tuple[int, list[int]]:
    """Best subset of at most k items within the days budget (exact; Pareto front per count)."""
    states: list[list[tuple[float, int, tuple[int, ...]]]] = [[(0.0, 0, ())], *[[] for _ in range(k)]]
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


def _specialists(r: Relaxation, prices: np.ndarray, prefer: np.ndarray,
                 arcs: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    # Best answer of every specialist owning `arcs` (sorted by specialist): its top positive gains, or the
    # exact knapsack where days bind. Returns the chosen mask over `arcs` and the value per specialist.
    n_s = len(r.cap)
    q = r.gain[arcs] - prices[r.v[arcs]]
    s_a, d_a, pf = r.s[arcs], r.days[arcs], prefer[arcs]
    pos = np.flatnonzero((q > 0) | ((q == 0) & pf))
    order = pos[np.lexsort((~pf[pos], -q[pos], s_a[pos]))]
    s_o = s_a[order]
    rank = np.arange(len(order)) - np.searchsorted(s_o, s_o)
    take = order[rank < r.cap[s_o]]
    chosen = np.zeros(len(arcs), dtype=bool)
    chosen[take] = True
    value = np.bincount(s_a[take], weights=q[take], minlength=n_s).astype(np.int64)
    used = np.bincount(s_a[take], weights=d_a[take], minlength=n_s)
    over = np.flatnonzero(r.critical & (used > r.left + 1e-9))
    in_over = np.zeros(n_s, dtype=bool)
    in_over[over] = True
    cand = order[in_over[s_o]]  # positive arcs of those specialists, best first
    c_s = s_a[cand]
    same = np.lexsort((np.arange(len(cand)), d_a[cand], c_s))  # by specialist, days, rank
    key_s, key_d = c_s[same], d_a[cand][same]
    new = np.r_[True, (key_s[1:] != key_s[:-1]) | (key_d[1:] != key_d[:-1])]
    grp = np.cumsum(new) - 1
    rank_d = np.arange(len(same)) - np.flatnonzero(new)[grp]
    keep = np.zeros(len(cand), dtype=bool)
    keep[same[rank_d < r.cap[key_s]]] = True  # only a specialist's best `cap` arcs of each days value can matter
    cand, c_s = cand[keep], c_s[keep]
    bounds_s = np.searchsorted(c_s, np.r_[over, over + 1] if len(over) else np.zeros(0, np.int64))
    own = np.searchsorted(s_a, np.r_[over, over + 1] if len(over) else np.zeros(0, np.int64))
    for k, s in enumerate(over):
        mine = cand[bounds_s[k]:bounds_s[k + len(over)]]
        best, items = knapsack(q[mine].tolist(), d_a[mine].tolist(), int(r.cap[s]), float(r.left[s]))
        chosen[own[k]:own[k + len(over)]] = False
        chosen[mine[items]] = True
        value[s] = best
    return chosen, value


def _ranges_of(starts: np.ndarray, ends: np.ndarray) -> np.ndarray:
    # Concatenated index ranges [starts[i], ends[i]).
    lens = ends - starts
    if lens.sum() == 0:
        return np.zeros(0, dtype=np.int64)
    return np.repeat(starts - np.cumsum(np.r_[0, lens[:-1]]), lens) + np.arange(int(lens.sum()))


def evaluate(r: Relaxation, prices: np.ndarray, prefer: np.ndarray | None = None,
             since: tuple[np.ndarray, Answer] | None = None) -> Answer:
    """Lagrangian bound at integer prices, with every specialist's answer (ties go to `prefer`red arcs).

    With `since` = (other prices, the answer at them, same `prefer`), only the specialists with a pair
    into a village whose price differs are re-solved.
    """
    pref = prefer if prefer is not None else np.zeros(len(r.gain), dtype=bool)
    if since is None:
        own, value = _specialists(r, prices, pref, np.arange(len(r.gain)))
    else:
        old_prices, old = since
        changed = np.flatnonzero(prices != old_prices)
        touched = np.unique(r.s[r.by_v[_ranges_of(r.v_starts[changed], r.v_starts[changed + 1])]])
        arcs = _ranges_of(r.starts[touched], r.starts[touched + 1])
        mine, fresh = _specialists(r, prices, pref, arcs)
        own, value = old.own.copy(), old.spec_value.copy()
        own[arcs] = mine
        value[touched] = fresh[touched]
    total = int(value.sum()) + int(np.dot(prices, r.req))
    chosen = own.copy()
    sides: dict[int, bool] = {}
    for t, ms in r.groups:  # a team or its members, whichever is worth more
        team, members = int(value[t]), int(value[ms].sum())
        sides[t] = team > members
        total -= members if sides[t] else team
        for x in ms if sides[t] else [t]:
            chosen[r.starts[x]:r.starts[x + 1]] = False
    return Answer(total, chosen, sides, own, value)


def level_bounds(
    bound: int, scales: list[int], ranges: list[int], achieved: list[int], grains: list[int] | None = None,
    floors: list[int] | None = None,
) -> list[int]:
    """Per level of the merged group, a lower bound on its (minimised) cost given the combined bound.

    `bound` bounds sum(scale_j * cost_j) from below; level i's bound assumes every higher level
    keeps its achieved cost and lets every lower level take its most favourable value. `grains`: every
    achievable cost of level i is a multiple of grains[i] (the gcd of its arc costs), so its bound rounds
    up to the next multiple (match scores in half points: a bound of 15716.58 points is 15716.5).
    `floors`: no flow costs less than floors[i] on level i (every arc at its capacity where its cost is
    negative); the last level of a group takes all the combined bound's slack, which can fall below that.
    """
    out: list[int] = []
    for i, s in enumerate(scales):
        rest = bound - sum(scales[j] * achieved[j] for j in range(i)) - sum(
            scales[j] * ranges[j] for j in range(i + 1, len(scales)))
        b = -((-rest) // s)  # ceiling division, exact for Python ints
        if floors is not None:
            b = max(b, floors[i])
        g = grains[i] if grains is not None and grains[i] > 0 else 1
        out.append(-((-b) // g) * g)
    return out


def grain(cost: np.ndarray) -> int:
    """Greatest common divisor of the (integer) arc costs: every flow's total is a multiple of it (0: all zero)."""
    return int(np.gcd.reduce(np.abs(cost.astype(np.int64)))) if len(cost) else 0
