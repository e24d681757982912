"""Side rules after the network relaxation: Lagrangian guide and bound, restricted re-solves.

When the network optimum breaks the days budget or the team rule, a Lagrangian
relaxation that keeps both rules exactly (solver.lagrange, priced by the
network's duals) gives a tighter bound on the first merged level, and its
per-specialist answers pick each team's side and a days-safe set of villages
for every specialist that broke its budget. The network is re-solved under
those restrictions, adding the new violators each round; the last round
restricts every specialist whose days can bind, which guarantees the rules.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from solver import dual, lagrange
from solver import restrict as restrictions
from solver.build import (
    Setup,
    build_network,
    level_costs,
    make_setup,
    pair_level_values,
    team_groups,
)
from solver.network import Network, _ranges, _scales, merge_plan, solve_lexicographic
from solver.repair import Violations, find_violations

PAIR_ADDITIVE = frozenset({"coverage", "match", "continuity", "travel"})


@dataclass
class Guide:
    rel: lagrange.Relaxation
    answer: lagrange.Answer
    levels: list[int]  # spec levels merged in the bounded objective
    scales: list[int]
    ranges: list[int]
    at_network_prices: int  # the bound before the prices were refined
    rounds: int  # column-generation rounds spent refining the prices

    def pattern(self, s: int) -> np.ndarray:
        """Prepared pair indices the specialist takes in the Lagrangian answer."""
        a, b = self.rel.starts[s], self.rel.starts[s + 1]
        return self.rel.pairs[a:b][self.answer.chosen[a:b]]


def make_guide(setup: Setup, net: Network, costs: list[np.ndarray], spec: list[list[str]],
               flow: np.ndarray, refine_until: float,
               should_stop: Callable[[], bool] | None = None) -> Guide | None:
    """Lagrangian relaxation of the first merged level, priced by the network's duals and then refined
    on the conflict region until `refine_until` (perf_counter time); None if the level is not pair-additive."""
    live = net.cap > 0
    group: list[int] = []
    for j in merge_plan(costs, net.cap, live, net.n_nodes)[0]:  # the pair-additive head of the first merged level
        if any(n not in PAIR_ADDITIVE for n in spec[j]):
            break
        group.append(j)
    if not group:
        return None
    ranges = _ranges([costs[j] for j in group], net.cap, live)
    scales = _scales(ranges)
    combined = np.zeros(len(net.cap), dtype=np.int64)
    for s, j in zip(scales, group):
        combined += np.int64(s) * costs[j]
    rel = lagrange.relaxation(setup, net, combined, team_groups(setup))
    prices = lagrange.network_prices(net, combined, flow)
    prefer = flow[net.pair_arcs] > 0
    answer = lagrange.evaluate(rel, prices, prefer)
    network_bound = answer.value
    unit = float(scales[1] * 100) if len(scales) > 1 else 1.0  # LP units: points of the second level
    prices, answer, rounds = dual.refine(rel, prices, answer, prefer, unit, refine_until, should_stop)
    return Guide(rel, answer, group, scales, ranges, network_bound, rounds)


def tighten(guide: Guide, setup: Setup, spec: list[list[str]], assigned: np.ndarray,
            bounds: list[int], proven: list[bool]) -> tuple[list[int], list[bool]]:
    """Bounds of the guided levels from the Lagrangian where it is tighter than the network's.

    Once a level's network bound is shown unreachable, the network's bounds of the levels below it
    were computed on an unreachable face and no longer hold: inside the guided group the
    Lagrangian's take over, below it the levels are no longer proven.
    """
    prep = setup.prep
    locks = pair_level_values(prep, setup.lock_pairs, spec)
    values = pair_level_values(prep, assigned, spec)
    achieved = [values[j] - locks[j] for j in guide.levels]
    free = lagrange.level_bounds(-guide.answer.value, guide.scales, guide.ranges, achieved)
    out, ok, moved = list(bounds), list(proven), False
    for j, b in zip(guide.levels, free):
        if moved or b + locks[j] > out[j]:
            out[j], moved = b + locks[j], True
    if moved:
        for j in range(max(guide.levels) + 1, len(out)):
            ok[j] = False
    return out, ok


def restricted_rounds(
    setup: Setup,
    members: dict[str, tuple[str, ...]],
    spec: list[list[str]],
    names: list[str],
    relaxed: np.ndarray,
    viol: Violations,
    deadline: float,
    should_stop: Callable[[], bool] | None,
    lex_time: float,
    report: Callable[[str, float], None],
    guide: Guide | None,
) -> tuple[np.ndarray, str, Violations, restrictions.Restrictions]:
    # Re-solve the lexicographic network under growing restrictions until the side rules hold.
    prep = setup.prep
    r = restrictions.empty(setup)
    current, assigned, done = setup, relaxed, set()
    if guide is not None:
        restrictions.guided_teams(setup, r, guide.rel.groups, guide.answer.team_side)
    rounds = 6 if guide is not None else 4
    for k in range(rounds):
        r.violators.update(viol.days)
        for t in viol.teams:
            r.violators.update([t, *setup.teams[t]])
        last = k == rounds - 1 or time.perf_counter() + 2.2 * lex_time > deadline or (
            should_stop is not None and should_stop())
        mode = "all" if last else "safe"
        if guide is None:
            restrictions.restrict(current, r, assigned, viol, mode)
        else:
            days = set(viol.days) | (set(np.flatnonzero(guide.rel.critical).tolist()) if last else set())
            for s in sorted(days - done):
                restrictions.guided_days(setup, r, s, guide.pattern(s))
            done |= days
            guided = {t for t, _ in guide.rel.groups}
            rest = Violations(teams=[t for t in viol.teams if t not in guided], changes=viol.changes)
            restrictions.restrict(current, r, assigned, rest, mode)  # teams outside the guide, max_changes, safety net
        current, assigned, viol = _resolve(setup, members, spec, names, r)
        coverage = -pair_level_values(prep, assigned, [["coverage"]])[0]
        report(f"coverage after restriction round {k + 1} ({mode})", coverage)
        if not viol.any() or last:
            break
    if viol.changes > 0:  # keep last season's answer where it still fits, then fill the rest under the rules
        restrictions.force_previous(setup, r)
        current = make_setup(prep, members, banned=r.banned, forced=r.forced, cap_limit=r.cap_limit)
        for s in restrictions.critical(current, r):  # the rest must fit the days the forced pairs leave
            restrictions.days_cut(current, r, s)
        current, assigned, viol = _resolve(setup, members, spec, names, r)
    return assigned, f"{k + 1} rounds: " + "; ".join(r.notes), viol, r


def _resolve(setup: Setup, members: dict[str, tuple[str, ...]], spec: list[list[str]], names: list[str],
             r: restrictions.Restrictions) -> tuple[Setup, np.ndarray, Violations]:
    # One exact lexicographic network solve under the restrictions, and the side rules it still breaks.
    prep = setup.prep
    current = make_setup(prep, members, banned=r.banned, forced=r.forced, cap_limit=r.cap_limit)
    net = build_network(current)
    lex = solve_lexicographic(net, level_costs(net, prep, spec), names)
    assigned = np.sort(np.concatenate([current.lock_pairs, net.pair_index[lex.flow[net.pair_arcs] > 0]]))
    return current, assigned, find_violations(setup, assigned)
