"""Transportation network and exact lexicographic min-cost flow.

Network: source -> [team group] -> specialist (one unit arc per load step, so
the convex balance cost sum(load^2) is a sum of increasing marginal costs)
-> village (one arc per eligible, not locked pair) -> sink (capacity =
required minus locks), plus a source -> sink bypass so uncovered demand is
allowed. Locked pairs are pre-assigned: they reduce capacities, days and
demands before the network is built.

Lexicographic optimisation: consecutive levels are merged into one integer
cost with scale factors only when the exact separation provably fits in int64
(ranges are computed with Python ints). After each solve, node potentials of
the optimal flow are computed by Bellman-Ford on the residual graph; arcs with
positive reduced cost are dropped and arcs with negative reduced cost are fixed
at capacity. By complementary slackness the remaining free arcs describe
exactly the set of optimal flows of that level, so the next level is optimised
over the previous level's optimal face, and every level value is proven optimal
for the network (a relaxation when side rules apply).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
from ortools.graph.python import min_cost_flow

SAFE = 1 << 62


@dataclass
class Network:
    n_nodes: int
    tail: np.ndarray
    head: np.ndarray
    cap: np.ndarray
    supply: np.ndarray
    pair_arcs: slice  # aligned with `pair_index`
    pair_index: np.ndarray  # index into prepared pairs
    unit_arcs: slice  # specialist load steps
    unit_spec: np.ndarray
    unit_step: np.ndarray  # load after this unit (locks included)
    village_arcs: slice
    costs: dict[str, np.ndarray] = field(default_factory=dict)


@dataclass
class LexResult:
    flow: np.ndarray
    values: list[int]  # per level, internal cost (minimised)
    proven: list[bool]
    timings: dict[str, float]
    solves: int
    first_group: list[int] | None = None  # the first group solved and fixed to its optimal face ...
    first_potentials: np.ndarray | None = None  # ... and the node potentials that prove it optimal


def _mcf(
    net: Network, free: np.ndarray, cost: np.ndarray, supply: np.ndarray
) -> np.ndarray | None:
    # One OR-Tools min-cost flow over the free arcs; returns their flows (None on cost-range trouble).
    idx = np.flatnonzero(free)
    mcf = min_cost_flow.SimpleMinCostFlow()
    mcf.add_arcs_with_capacity_and_unit_cost(
        net.tail[idx].astype(np.int32),
        net.head[idx].astype(np.int32),
        net.cap[idx].astype(np.int64),
        cost[idx].astype(np.int64),
    )
    mcf.set_nodes_supplies(
        np.arange(net.n_nodes, dtype=np.int32), supply.astype(np.int64)
    )
    status = mcf.solve()
    if status == mcf.BAD_COST_RANGE:
        return None
    if status != mcf.OPTIMAL:
        raise RuntimeError(f"min-cost flow failed with status {status}")
    return np.asarray(mcf.flows(np.arange(len(idx), dtype=np.int32)), dtype=np.int64)


def potentials(
    n_nodes: int,
    tail: np.ndarray,
    head: np.ndarray,
    cost: np.ndarray,
    flow: np.ndarray,
    cap: np.ndarray,
) -> np.ndarray:
    """Shortest-path distances from a virtual root on the residual graph (vectorised Bellman-Ford)."""
    fwd = flow < cap
    bwd = flow > 0
    t = np.concatenate([tail[fwd], head[bwd]])
    h = np.concatenate([head[fwd], tail[bwd]])
    c = np.concatenate([cost[fwd], -cost[bwd]])
    order = np.argsort(h, kind="stable")
    t, h, c = t[order], h[order], c[order]
    heads, starts = np.unique(h, return_index=True)
    d = np.zeros(n_nodes, dtype=np.int64)
    if len(t) == 0:
        return d
    for _ in range(n_nodes + 1):
        best = np.minimum.reduceat(d[t] + c, starts)
        improved = best < d[heads]
        if not improved.any():
            return d
        d[heads[improved]] = best[improved]
    raise RuntimeError("negative cycle in residual graph: flow was not optimal")


def _ranges(costs: list[np.ndarray], cap: np.ndarray, free: np.ndarray) -> list[int]:
    # Upper bound on |total cost| of any flow, per level, as exact Python ints.
    out = []
    for c in costs:
        a = np.abs(c[free])
        if float(np.sum(a.astype(np.float64) * cap[free])) > 2.0**61:
            raise OverflowError("level cost range exceeds int64")
        out.append(int(np.sum(a * cap[free])) + int(a.max(initial=0)) + 1)
    return out


def merge_plan(
    costs: list[np.ndarray], cap: np.ndarray, free: np.ndarray, n_nodes: int
) -> list[list[int]]:
    """Group consecutive levels whose scaled combination provably fits in int64 (with MCF's node-count headroom)."""
    rng = _ranges(costs, cap, free)
    plan: list[list[int]] = []
    k = 0
    while k < len(costs):
        group = [k]
        while group[-1] + 1 < len(costs):
            trial = group + [group[-1] + 1]
            scales = _scales([rng[j] for j in trial])
            arc_max = sum(
                s * int(np.abs(costs[j][free]).max(initial=0))
                for s, j in zip(scales, trial)
            )
            total = sum(s * rng[j] for s, j in zip(scales, trial))
            if arc_max * (n_nodes + 1) * 4 >= SAFE or total >= SAFE:
                break
            group = trial
        plan.append(group)
        k = group[-1] + 1
    return plan


def _scales(ranges: list[int]) -> list[int]:
    # Scale of each level so that any change of a higher level outweighs every lower level's whole range.
    scales = [1] * len(ranges)
    for i in range(len(ranges) - 2, -1, -1):
        scales[i] = scales[i + 1] * (2 * ranges[i + 1] + 1)
    return scales


def solve_lexicographic(
    net: Network,
    costs: list[np.ndarray],
    names: list[str],
    on_level: Callable[[str, int], None] | None = None,
    should_stop: Callable[[], bool] | None = None,
) -> LexResult:
    """Optimise the levels in order; each solved level is fixed to its optimal face before the next."""
    free = net.cap > 0
    fixed = np.zeros(len(net.cap), dtype=np.int64)
    supply = net.supply.copy()
    flow = np.zeros(len(net.cap), dtype=np.int64)
    proven = [False] * len(costs)
    first: tuple[list[int], np.ndarray] | None = None
    timings: dict[str, float] = {}
    solves = 0
    plan = merge_plan(costs, net.cap, free, net.n_nodes)
    queue = [list(g) for g in plan]
    while queue:
        group = queue.pop(0)
        if should_stop is not None and should_stop() and solves > 0:
            break
        scales = _scales(_ranges([costs[j] for j in group], net.cap, free))
        combined = np.zeros(len(net.cap), dtype=np.int64)
        for s, j in zip(scales, group):
            combined += np.int64(s) * costs[j]
        t0 = time.perf_counter()
        sub = _mcf(net, free, combined, supply)
        solves += 1
        label = "+".join(names[j] for j in group)
        timings[f"mcf:{label}"] = time.perf_counter() - t0
        if sub is None:
            if len(group) == 1:
                raise RuntimeError(
                    f"cost range of level {label} too large for min-cost flow"
                )
            queue = [[j] for j in group] + queue
            continue
        flow = fixed.copy()
        flow[free] = sub
        for j in group:
            proven[j] = True
            if on_level is not None:
                on_level(names[j], int(np.dot(costs[j], flow)))
        if queue:
            t0 = time.perf_counter()
            idx = np.flatnonzero(free)
            d = potentials(
                net.n_nodes,
                net.tail[idx],
                net.head[idx],
                combined[idx],
                sub,
                net.cap[idx],
            )
            if first is None:
                first = (group, d)
            rc = combined[idx] + d[net.tail[idx]] - d[net.head[idx]]
            forced = idx[rc < 0]
            dropped = idx[rc > 0]
            fixed[forced] = net.cap[forced]
            np.subtract.at(supply, net.tail[forced], net.cap[forced])
            np.add.at(supply, net.head[forced], net.cap[forced])
            free[forced] = False
            free[dropped] = False
            timings[f"face:{label}"] = time.perf_counter() - t0
    values = [int(np.dot(c, flow)) for c in costs]
    return LexResult(
        flow=flow, values=values, proven=proven, timings=timings, solves=solves,
        first_group=first[0] if first else None, first_potentials=first[1] if first else None,
    )
