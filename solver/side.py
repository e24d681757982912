"""Side rules after the network relaxation: Lagrangian guide and bound, restricted re-solves.

When the network optimum breaks the days budget or the team rule, a Lagrangian
relaxation that keeps both rules exactly (solver.lagrange, priced by the
network's duals and refined by column generation, solver.dual) gives a tighter
bound on the first merged level. The master LP's plan picks each team's side
and days thresholds around each days-bound specialist's planned villages
(restrict.guided_chain), and one network re-solve under those restrictions
always keeps the rules. Without a complete plan (the refinement was cut short),
the answers at the network's duals guide instead, and while time is left the
violators are restricted round by round; the last round keeps everyone else's
pairs.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from solver import dual, lagrange
from solver import restrict as restrictions
from solver.build import Setup, build_network, make_setup, team_groups
from solver.lagrange import Answer
from solver.levels import level_costs, pair_level_values
from solver.network import (
    LexResult,
    Network,
    _ranges,
    _scales,
    merge_plan,
    solve_lexicographic,
)
from solver.repair import Violations, find_violations

PAIR_ADDITIVE = frozenset({"coverage", "match", "continuity", "travel"})
PLAN_ROUNDS_FIRST = 8  # price rounds before the safe re-solve when it goes first (province, PDLP master: its plan gives
# 137336, 6 rounds 137323.5, the answers at the network duals 137222); the bound gets more rounds after it
ROUNDS_AHEAD = 8  # network solves of time left that let the violators' rounds go first (the safe answer is the fallback)


def safe_answer_first(max_changes: int | None, deadline: float, lex_time: float) -> bool:
    """Whether the always-valid guided re-solve comes first: max_changes applies or time is short."""
    return max_changes is not None or time.perf_counter() + ROUNDS_AHEAD * lex_time > deadline


@dataclass
class Guide:
    rel: lagrange.Relaxation
    levels: list[int]  # spec levels merged in the bounded objective
    scales: list[int]
    ranges: list[int]
    grains: list[int]  # per level: every achievable cost is a multiple of it, so bounds round up to one
    floors: list[int]  # per level: no flow costs less (negative-cost arcs at capacity)
    rounds: int  # column-generation rounds spent refining the prices
    plan: Answer  # guides the restrictions: each unit's pattern weighed most by the master LP, once `planned`
    planned: bool  # the plan comes from a refinement that ran to its end, or from its last checkpoint when the
    # time ran out (dual.PLAN_EVERY rounds apart); before: the answers at the network's duals
    plan_round: int  # the round the plan was taken after
    pricer: dual.Pricer  # the column generation, kept between refinements
    heard: Callable[[int], None]  # hears each better bound

    @property
    def answer(self) -> Answer:
        """The Lagrangian answer at the best prices so far: its value is the bound."""
        return self.pricer.answer

    def refine(self, until: float, max_rounds: int, should_stop: Callable[[], bool] | None = None) -> None:
        """Lower the bound by column generation over every village: at most `max_rounds` more rounds, none
        after `until` (perf_counter time). The master LP's plan guides the re-solves when the refinement ran
        to its end (all its rounds, or nothing left to price); cut short, the plan of its last checkpoint (a
        fixed round) does. So the answer depends on the machine's speed only through the round it reached."""
        n = self.pricer.run(max_rounds, until, should_stop, self.heard)
        if n and (n >= max_rounds or self.pricer.done):
            self.plan, self.planned, self.plan_round = self.pricer.plan, True, self.pricer.total
        elif not self.planned and self.pricer.checkpoint is not None:  # cut short: the plan of the last checkpoint
            self.plan_round, self.plan = self.pricer.checkpoint
            self.planned = True
        self.rounds += n

    def pattern(self, s: int, answer: Answer | None = None) -> np.ndarray:
        """Prepared pair indices the specialist takes in the plan (by default) or in `answer`."""
        a, b = self.rel.starts[s], self.rel.starts[s + 1]
        pairs: np.ndarray = self.rel.pairs[a:b][(answer or self.plan).chosen[a:b]]
        return pairs


def make_guide(setup: Setup, net: Network, costs: list[np.ndarray], spec: list[list[str]],
               lex: LexResult, refine_until: float, rounds: int,
               should_stop: Callable[[], bool] | None = None,
               on_bound: Callable[[int, int], None] | None = None) -> Guide | None:
    """Lagrangian relaxation of the first merged level, priced by the network's duals and then refined
    over every village for `rounds` rounds, none after `refine_until` (perf_counter time); None if the
    level is not pair-additive.

    `on_bound(level, bound)` hears each better bound of the group's second level (network units, locks
    excluded, the higher level at its network value) while the prices are refined."""
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
    grains = [lagrange.grain(costs[j][live]) for j in group]
    floors = [int(np.sum(np.minimum(costs[j][live], 0) * net.cap[live])) for j in group]
    combined = np.zeros(len(net.cap), dtype=np.int64)
    for s, j in zip(scales, group):
        combined += np.int64(s) * costs[j]
    rel = lagrange.relaxation(setup, net, combined, team_groups(setup))
    flow = lex.flow
    known = lex.first_potentials if lex.first_group == group else None  # the same cost: its duals hold
    prices = lagrange.network_prices(net, combined, flow, known)
    prefer = flow[net.pair_arcs] > 0
    answer = lagrange.evaluate(rel, prices, prefer)
    achieved = [int(np.dot(costs[j], flow)) for j in group]

    def heard(value: int) -> None:
        # Progress names the level the bound speaks of: the second, unless it shows the network's first-level
        # value out of reach (then the second's bound, which assumes that value, means nothing).
        if on_bound is not None and len(group) > 1:
            b = lagrange.level_bounds(-value, scales, ranges, achieved, grains, floors)
            i = 0 if b[0] > achieved[0] else 1
            on_bound(group[i], b[i])

    heard(answer.value)
    unit = float(scales[1] * 100) if len(scales) > 1 else 1.0  # LP units: points of the second level
    guide = Guide(rel, group, scales, ranges, grains, floors, 0, answer, False, 0,
                  dual.Pricer(rel, prices, answer, prefer, unit, max(1, setup.prep.params.workers)), heard)
    guide.refine(refine_until, rounds, should_stop)
    return guide


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
    free = lagrange.level_bounds(-guide.answer.value, guide.scales, guide.ranges, achieved, guide.grains,
                                 guide.floors)
    out, ok, moved, tight = list(bounds), list(proven), False, True
    for j, b in zip(guide.levels, free):
        if not tight:  # below a level that misses its bound, this one has no bound to report
            ok[j] = False
        elif moved or b + locks[j] > out[j]:
            out[j], moved = b + locks[j], True
        tight = tight and ok[j] and values[j] == out[j]
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
    safe_first: bool = True,
) -> tuple[np.ndarray, str, Violations, restrictions.Restrictions]:
    """Re-solve the lexicographic network under restrictions until the side rules hold.

    With a guide and `safe_first` (time is short, or max_changes applies), or a complete plan: first every
    specialist whose days can bind keeps days thresholds around its planned answer (always valid). With a
    complete plan that is the answer: the violators' rounds after it gave the same answer on every instance
    measured (the benchmark city and four other synthetic cities), in two to three times the time.
    Otherwise, while time is left, only the violators are restricted, round by round, and the last round
    keeps the pairs of everyone who kept the rules. The better answer is returned; if the rounds are cut
    short before any valid answer, the always-valid restriction is solved then.
    """
    if guide is None:
        return _unguided(setup, members, spec, names, relaxed, viol, deadline, should_stop, lex_time, report)
    prep = setup.prep
    stop = should_stop if should_stop is not None else (lambda: False)
    best: np.ndarray | None = None
    best_viol, chosen, note, round_time = viol, restrictions.empty(setup), "", lex_time
    if stop():  # stopped while the prices were refined: the caller drops pairs until the rules hold
        return relaxed, "none, stopped before the re-solves", viol, chosen
    if safe_first or guide.planned or prep.params.max_changes is not None:
        best, best_viol, chosen, round_time = _guided_safe(setup, members, spec, names, relaxed, viol, guide, report)
        note = "every specialist whose days can bind" + (
            f", around the master LP's plan (round {guide.plan_round})" if guide.planned else "")
        if best_viol.changes or prep.params.max_changes is not None:
            return _max_changes(setup, members, spec, names, chosen, best, best_viol, note)
        if guide.planned and not best_viol.any():  # the violators' rounds found nothing better on 5 instances
            return best, f"restricted {note}: " + "; ".join(chosen.notes), best_viol, chosen
    guided = {t for t, _ in guide.rel.groups}
    r = restrictions.empty(setup)
    restrictions.guided_teams(setup, r, guide.rel.groups, guide.plan.team_side)
    assigned, k = relaxed, 0
    while viol.any() and not stop():
        k += 1
        started = time.perf_counter()
        r.violators.update(viol.days)
        settle = started + 2 * round_time > deadline or k == 6
        if settle:
            if started + round_time > deadline or k == 1:  # settling the relaxed answer itself never pays
                break
            _settle(setup, members, r, assigned, viol)
        else:
            for s in viol.days:
                restrictions.guided_chain(setup, r, s, guide.pattern(s))
            restrictions.restrict(setup, r, assigned, Violations(teams=[t for t in viol.teams if t not in guided]),
                                  "safe")
        _, assigned, viol = _resolve(setup, members, spec, names, r)
        round_time = time.perf_counter() - started
        report(f"coverage after restriction round {k}", -pair_level_values(prep, assigned, [["coverage"]])[0])
        if not viol.any() and (best is None or pair_level_values(prep, assigned, spec) < pair_level_values(prep, best, spec)):
            best, best_viol, chosen, note = assigned, viol, r, f"violators only, {k} rounds"
        if settle:
            break
    if best is None and stop():  # stopped before any valid answer: the caller drops pairs until the rules hold
        return assigned, "stopped before the rules held: " + "; ".join(r.notes), viol, r
    if best is None:  # the violators' rounds were cut short: the always-valid restriction after all
        best, best_viol, chosen, _ = _guided_safe(setup, members, spec, names, relaxed, viol, guide, report)
        note = "every specialist whose days can bind"
    chosen.violators.update(r.violators)
    return best, f"restricted {note}: " + "; ".join(chosen.notes), best_viol, chosen


def _guided_safe(setup: Setup, members: dict[str, tuple[str, ...]], spec: list[list[str]], names: list[str],
                 relaxed: np.ndarray, viol: Violations, guide: Guide, report: Callable[[str, float], None]
                 ) -> tuple[np.ndarray, Violations, restrictions.Restrictions, float]:
    # Every specialist whose days can bind keeps days thresholds around its planned answer, every team its
    # planned side: one re-solve whose answer always keeps the rules.
    safe, first = restrictions.empty(setup), guide.plan
    safe.violators.update(viol.days)
    for t in viol.teams:
        safe.violators.update([t, *setup.teams[t]])
    restrictions.guided_teams(setup, safe, guide.rel.groups, first.team_side)
    for s in np.flatnonzero(guide.rel.critical):
        restrictions.guided_chain(setup, safe, int(s), guide.pattern(int(s), first))
    guided = {t for t, _ in guide.rel.groups}
    outside = [t for t in viol.teams if t not in guided]  # overlapping teams the guide left out
    restrictions.restrict(setup, safe, relaxed, Violations(teams=outside, changes=viol.changes), "all")
    started = time.perf_counter()
    _, assigned, left = _resolve(setup, members, spec, names, safe)
    report("coverage after the guided restriction", -pair_level_values(setup.prep, assigned, [["coverage"]])[0])
    return assigned, left, safe, time.perf_counter() - started


def _max_changes(setup: Setup, members: dict[str, tuple[str, ...]], spec: list[list[str]], names: list[str],
                 r: restrictions.Restrictions, assigned: np.ndarray, viol: Violations, note: str
                 ) -> tuple[np.ndarray, str, Violations, restrictions.Restrictions]:
    # max_changes: add last season's pairs that fit, as before; then the rest under safe days cuts.
    if viol.changes > 0:
        restrictions.restrict(setup, r, assigned, Violations(changes=viol.changes), "safe")
        _, assigned, viol = _resolve(setup, members, spec, names, r)
    if viol.changes > 0:
        assigned, viol = _keep_previous(setup, members, spec, names, r)
    return assigned, f"restricted {note}: " + "; ".join(r.notes), viol, r


def _unguided(
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
) -> tuple[np.ndarray, str, Violations, restrictions.Restrictions]:
    # Without a Lagrangian answer: escalating safe days cuts and team sides, then everything that could break.
    prep = setup.prep
    r = restrictions.empty(setup)
    current, assigned = setup, relaxed
    modes = ["safe", "safe", "safe", "all"]
    for k, planned in enumerate(modes):
        r.violators.update(viol.days)
        for t in viol.teams:
            r.violators.update([t, *setup.teams[t]])
        mode = planned
        if time.perf_counter() + 2.2 * lex_time > deadline or (should_stop is not None and should_stop()):
            mode = "all"  # no time for another round after this one
        restrictions.restrict(current, r, assigned, viol, mode)
        current, assigned, viol = _resolve(setup, members, spec, names, r)
        report(f"coverage after restriction round {k + 1} ({mode})", -pair_level_values(prep, assigned, [["coverage"]])[0])
        if not viol.any() or mode == "all":
            break
    if viol.changes > 0:
        assigned, viol = _keep_previous(setup, members, spec, names, r)
    return assigned, f"{k + 1} rounds: " + "; ".join(r.notes), viol, r


def _keep_previous(setup: Setup, members: dict[str, tuple[str, ...]], spec: list[list[str]], names: list[str],
                   r: restrictions.Restrictions) -> tuple[np.ndarray, Violations]:
    # max_changes fallback: keep last season's answer where it still fits, then fill the rest under safe days cuts.
    restrictions.force_previous(setup, r)
    current = make_setup(setup.prep, members, banned=r.banned, forced=r.forced, cap_limit=r.cap_limit, tiers=r.tiers)
    for s in restrictions.critical(current, r):  # the rest must fit the days the forced pairs leave
        restrictions.days_cut(current, r, s)
    _, assigned, viol = _resolve(setup, members, spec, names, r)
    return assigned, viol


def settled(setup: Setup, members: dict[str, tuple[str, ...]], spec: list[list[str]], names: list[str],
            relaxed: np.ndarray, viol: Violations) -> tuple[np.ndarray, str, Violations, restrictions.Restrictions]:
    """One cheap re-solve when time is short: every specialist who keeps the rules keeps its pairs, the
    violators' villages are re-placed under safe days cuts (the network holds only villages with demand left)."""
    r = restrictions.empty(setup)
    r.violators.update(viol.days)
    for t in viol.teams:
        r.violators.update([t, *setup.teams[t]])
    _settle(setup, members, r, relaxed, viol)
    _, assigned, left = _resolve(setup, members, spec, names, r)
    return assigned, "; ".join(r.notes), left, r


def _settle(setup: Setup, members: dict[str, tuple[str, ...]], r: restrictions.Restrictions,
            assigned: np.ndarray, viol: Violations) -> None:
    # Last round: keep the pairs of every specialist that kept the rules, re-place the rest under safe days cuts.
    prep = setup.prep
    bad = np.array(sorted(set(viol.days) | {x for t in viol.teams for x in (t, *setup.teams[t])}), dtype=np.int64)
    keep = assigned[~np.isin(prep.ps[assigned], bad) & ~setup.fixed[assigned]]
    r.forced[keep] = True
    current = make_setup(prep, members, banned=r.banned, forced=r.forced, cap_limit=r.cap_limit, tiers=r.tiers)
    restrictions.restrict(current, r, assigned, Violations(teams=viol.teams), "all")
    r.notes.append(f"settle: kept {len(keep)} pairs, re-placed the villages of {len(bad)} specialists")


def _resolve(setup: Setup, members: dict[str, tuple[str, ...]], spec: list[list[str]], names: list[str],
             r: restrictions.Restrictions) -> tuple[Setup, np.ndarray, Violations]:
    # One exact lexicographic network solve under the restrictions, and the side rules it still breaks.
    prep = setup.prep
    current = make_setup(prep, members, banned=r.banned, forced=r.forced, cap_limit=r.cap_limit, tiers=r.tiers)
    net = build_network(current)
    lex = solve_lexicographic(net, level_costs(net, prep, spec), names)
    assigned = np.sort(np.concatenate([current.lock_pairs, net.pair_index[lex.flow[net.pair_arcs] > 0]]))
    return current, assigned, find_violations(setup, assigned)


def reseated(setup: Setup, members: dict[str, tuple[str, ...]], spec: list[list[str]], names: list[str],
             assigned: np.ndarray) -> np.ndarray | None:
    """The best answer, level by level, that keeps every days-bound specialist and every team (and its members)
    to its pairs in `assigned`: everyone else is then a pure network, solved exactly. None if it breaks a rule."""
    prep = setup.prep
    r = restrictions.empty(setup)
    held = np.zeros(len(prep.spec_ids), dtype=bool)
    held[restrictions.critical(setup, r)] = True
    for t, ms in setup.teams.items():
        held[[t, *ms]] = True
    mine = held[prep.ps] & ~setup.fixed
    chosen = np.zeros(len(prep.ps), dtype=bool)
    chosen[assigned] = True
    r.forced[:] = mine & chosen
    r.banned[:] = mine & ~chosen
    _, answer, viol = _resolve(setup, members, spec, names, r)
    return None if viol.any() else answer
