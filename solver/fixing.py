"""Reduced-cost fixing: the pairs that no answer as good as the incumbent can use, from the Lagrangian bound.

At village prices p >= 0 the Lagrangian bound is L = sum of every unit's best answer K_u (a specialist's knapsack,
or for a team the better of the team and its members) plus the priced demand. Any answer x keeping the rules has
gain G(x) = L - sum_u (K_u - value_u(x)) - sum_v p_v (demand_v - load_v(x)), and every term subtracted is >= 0.
So an answer with G(x) >= G(incumbent) spends at most delta = L - G(incumbent) on all of them together: a pair
whose use alone would cost its unit more than delta is in no such answer, and neither is a team side whose best
falls short of its group's by more than delta. Every answer lexicographically at least as good as the incumbent on
the bounded levels (and so every optimum of the lower levels) keeps to the pairs left, so an exact MILP over them
proves the levels for the whole instance.
"""

from __future__ import annotations

import numpy as np

from solver.lagrange import Answer, Relaxation


def usable_arcs(r: Relaxation, prices: np.ndarray, answer: Answer, incumbent: int,
                limit: int | None = None) -> np.ndarray | None:
    """Arc mask: the arcs some answer with gain >= `incumbent` may use (`answer` is the Lagrangian answer at `prices`).
    None as soon as more than `limit` arcs are known to stay usable (the exact knapsacks are then not worth their time)."""
    delta = answer.value - incumbent
    if delta < 0:  # the incumbent beats the bound: the arithmetic is off, so nothing is fixed
        return None if limit is not None and len(r.gain) > limit else np.ones(len(r.gain), dtype=bool)
    room = _room(r, answer, delta)
    q = (r.gain - prices[r.v]).astype(np.float64)  # every arc's gain at the prices
    cost = _entry_cost(r, q, answer)
    if limit is not None and int((cost <= room[r.s])[~r.critical[r.s]].sum()) > limit:
        return None
    _critical_entry_cost(r, q, answer, cost)
    return np.asarray((answer.own & (room[r.s] >= 0)) | (cost <= room[r.s]))


def _room(r: Relaxation, answer: Answer, delta: int) -> np.ndarray:
    # Per specialist, the most its own answer may fall short of its best: delta, less what its team side already
    # falls short of the group's best (-1 where the side cannot be used at all).
    room = np.full(len(r.cap), delta, dtype=np.float64)
    k = answer.spec_value
    for t, ms in r.groups:
        best = max(int(k[t]), int(k[ms].sum()))
        for side, worth in (([t], int(k[t])), (ms, int(k[ms].sum()))):
            short = best - worth
            room[side] = delta - short if short <= delta else -1.0
    return room


def _entry_cost(r: Relaxation, q: np.ndarray, answer: Answer) -> np.ndarray:
    # Per arc not in its specialist's best answer, how much that answer loses when the arc must be used, where the
    # days budget cannot bind (inf where the arc alone exceeds the days left; own arcs 0).
    n_s = len(r.cap)
    own, s = answer.own, r.s
    count = np.bincount(s[own], minlength=n_s)
    worst = np.full(n_s, np.inf)
    np.minimum.at(worst, s[own], q[own])
    # days cannot bind: the best answer is the top `cap` positive gains, so taking the arc drops the worst one when full
    cost = np.where(count[s] >= r.cap[s], worst[s] - q, -q)
    cost[r.days > r.left[s] + 1e-9] = np.inf
    cost[own] = 0.0
    return np.asarray(cost)


def _critical_entry_cost(r: Relaxation, q: np.ndarray, answer: Answer, cost: np.ndarray) -> None:
    # The same loss, in place, for the arcs of specialists whose days can bind: a lower bound from the best
    # companions the arc could have within the days it leaves (an exact Pareto front of days and gain).
    for c in np.flatnonzero(r.critical):
        a, b = int(r.starts[c]), int(r.starts[c + 1])
        mine = answer.spec_value[c] - q[a:b] - _best_within(q[a:b], r.days[a:b], int(r.cap[c]) - 1,
                                                            float(r.left[c]) - r.days[a:b])
        cost[a:b] = np.where(answer.own[a:b], 0.0, mine)


def _best_within(q: np.ndarray, d: np.ndarray, k: int, budgets: np.ndarray) -> np.ndarray:
    # For each budget, the best total of at most k positive gains within it (an upper bound for the arc's
    # companions: the arc itself may be among them, which only relaxes). Exact Pareto fronts of (days, value).
    out = np.full(len(budgets), -np.inf)
    ok = budgets >= -1e-9
    out[ok] = 0.0
    if k <= 0:
        return out
    front = _front(q, d, k)
    days, value = front[:, 0], np.maximum.accumulate(front[:, 1])
    at = np.searchsorted(days, budgets[ok] + 1e-9, side="right") - 1
    out[ok] = np.where(at >= 0, value[np.maximum(at, 0)], 0.0)
    return out


def _front(q: np.ndarray, d: np.ndarray, k: int) -> np.ndarray:
    # Rows (days, value), sorted by days, of the subsets of at most k positive items that no other beats on both.
    by_count: list[np.ndarray] = [np.zeros((1, 2))] + [np.zeros((0, 2)) for _ in range(k)]
    for i in np.flatnonzero(q > 0):
        for c in range(k - 1, -1, -1):
            grown = by_count[c] + np.array([d[i], q[i]])
            by_count[c + 1] = _pareto(np.vstack([by_count[c + 1], grown]))
    return _pareto(np.vstack(by_count))


def _pareto(rows: np.ndarray) -> np.ndarray:
    # The rows no other row beats (fewer or equal days and more value), sorted by days.
    if len(rows) <= 1:
        return rows
    rows = rows[np.lexsort((-rows[:, 1], rows[:, 0]))]
    keep = rows[:, 1] > np.r_[-np.inf, np.maximum.accumulate(rows[:-1, 1])]
    return np.asarray(rows[keep])


def usable_pairs(r: Relaxation, prices: np.ndarray, answer: Answer, assigned: np.ndarray, fixed: np.ndarray,
                 limit: int | None = None) -> np.ndarray | None:
    """Prepared-pair mask of the pairs an answer at least as good as `assigned` may use (locked pairs and pairs
    outside the relaxation stay usable); None when `assigned` uses a free pair the relaxation does not hold, or
    when more than `limit` pairs stay usable."""
    pos = np.full(len(fixed), -1, dtype=np.int64)
    pos[r.pairs] = np.arange(len(r.pairs))
    arcs = pos[assigned]
    if (arcs[~fixed[assigned]] < 0).any():
        return None
    incumbent = int(r.gain[arcs[arcs >= 0]].sum())
    usable = usable_arcs(r, prices, answer, incumbent, limit)
    if usable is None:
        return None
    mask = np.ones(len(fixed), dtype=bool)
    mask[r.pairs] = usable
    mask[assigned] = True  # the incumbent's own pairs always are (the arithmetic above says so too)
    return mask
