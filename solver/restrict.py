"""Restrictions that make the network respect the side rules (days budget, team rule, max_changes).

Each restriction removes options (bans pairs, lowers a capacity, or forces a
previous pair), so any network optimum under the restrictions that satisfies
the side rules is a feasible answer; comparing its level values with the
unrestricted network (a relaxation) proves optimality level by level when
they are equal. Rounds escalate from minimal changes to safe ones that
guarantee the side rules for every specialist and team.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from ortools.sat.python import cp_model

from solver.build import Setup, valid_tiers
from solver.model import grade_rank
from solver.repair import Violations, capacity_and_days, previous_keys, team_rule

MOST_KEPT_BUDGET = 5.0  # CP-SAT's deterministic seconds to find (and prove) the most previous pairs that fit together


@dataclass
class Restrictions:
    banned: np.ndarray
    forced: np.ndarray
    cap_limit: np.ndarray
    notes: list[str] = field(default_factory=list)
    violators: set[int] = field(
        default_factory=set
    )  # specialists that broke a side rule in some round
    tiers: dict[int, tuple[float, ...]] = field(default_factory=dict)  # days thresholds (guided_chain)
    kept_most: tuple[int, int | None] | None = None  # max_changes' last resort: last season's pairs it keeps, and
    # the most any answer can keep where CP-SAT proved it (None: not proven)


def empty(setup: Setup) -> Restrictions:
    n = len(setup.prep.ps)
    return Restrictions(
        np.zeros(n, bool),
        np.zeros(n, bool),
        np.full(len(setup.prep.spec_ids), 1 << 30, np.int64),
    )


def _own(setup: Setup, s: int) -> np.ndarray:
    # Pair indices of specialist s (pairs are sorted by specialist).
    ps = setup.prep.ps
    key = ps.dtype.type  # same dtype as the array, so searchsorted does not copy millions of pairs
    return np.arange(np.searchsorted(ps, key(s)), np.searchsorted(ps, key(s + 1)))


def _open(setup: Setup, r: Restrictions, s: int) -> tuple[float, np.ndarray, int] | None:
    # A specialist's days left, its pairs still open (not fixed, not banned) and its capacity; None: no budget.
    left = float(setup.prep.s_days[s] - setup.days0[s])
    if not np.isfinite(left):
        return None
    own = _own(setup, s)
    own = own[~setup.fixed[own] & ~r.banned[own]]
    return left, own, int(min(setup.cap_eff[s], r.cap_limit[s], len(own)))


def days_cut(setup: Setup, r: Restrictions, s: int) -> None:
    """Safe days rule for one specialist: keep k villages needing at most (days left) / k days each.

    k is chosen to maximise the best k scores still allowed (ties: larger k).
    """
    prep = setup.prep
    budget = _open(setup, r, s)
    if budget is None:
        return
    left, mine, cap = budget
    best_k, best_value = 0, -1.0
    for k in range(cap, 0, -1):
        ok = prep.days[mine] <= left / k + 1e-9
        if np.count_nonzero(ok) >= k:
            value = float(np.sort(prep.score[mine[ok]])[::-1][:k].sum())
            if value > best_value + 1e-9:
                best_k, best_value = k, value
    if best_k:
        r.banned[mine[prep.days[mine] > left / best_k + 1e-9]] = True
    r.cap_limit[s] = best_k


def days_minimal(setup: Setup, r: Restrictions, assigned: np.ndarray, s: int) -> None:
    """Minimal days fix: ban the specialist's most day-consuming assigned (unlocked) village."""
    prep = setup.prep
    mine = assigned[
        (prep.ps[assigned] == s) & ~setup.fixed[assigned]
    ]  # assigned is small
    if len(mine) == 0:
        return
    worst = mine[np.lexsort((-prep.dist[mine], -prep.days[mine]))][0]
    r.banned[worst] = True


def team_side(setup: Setup, r: Restrictions, assigned: np.ndarray, t: int) -> None:
    """Team rule: keep the side (team or its members) whose pairs score more; ties keep the members."""
    prep = setup.prep
    ms = setup.teams[t]
    on_team = prep.ps[assigned] == t
    on_members = np.isin(prep.ps[assigned], ms)
    team_fixed = bool(setup.fixed[assigned[on_team]].any())
    member_fixed = bool(setup.fixed[assigned[on_members]].any())
    team_value = prep.score[assigned[on_team]].sum()
    member_value = prep.score[assigned[on_members]].sum()
    keep_team = team_fixed or (not member_fixed and team_value > member_value)
    _ban_side(setup, r, ms if keep_team else [t])


def _ban_side(setup: Setup, r: Restrictions, side: list[int]) -> None:
    # The team rule's losing side: none of its unfixed pairs, no capacity.
    for x in side:
        own = _own(setup, x)
        r.banned[own[~setup.fixed[own]]] = True
    r.cap_limit[np.array(side)] = 0


def _held(setup: Setup, r: Restrictions) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    # Load and days per specialist and specialists per village of the locked and already forced pairs.
    prep = setup.prep
    held = np.flatnonzero(setup.fixed | r.forced)
    n_s = len(prep.spec_ids)
    return (np.bincount(prep.ps[held], minlength=n_s).astype(np.int64),
            np.bincount(prep.ps[held], weights=prep.days[held], minlength=n_s),
            np.bincount(prep.pv[held], minlength=len(prep.vil_ids)))


def keep_previous(
    setup: Setup, r: Restrictions, assigned: np.ndarray, extra: int
) -> None:
    """max_changes: force the best-graded dropped previous pairs that still fit."""
    prep = setup.prep
    prev, _ = previous_keys(prep)
    grade = {
        (q.specialist_id, q.village_id): grade_rank(q.grade)
        for q in prep.params.previous
    }
    chosen = {int(i) for i in assigned}
    dropped = [
        int(i)
        for i in prev
        if int(i) not in chosen and not r.banned[i] and not setup.fixed[i] and not r.forced[i]
    ]
    dropped.sort(
        key=lambda i: (
            -grade.get((prep.spec_ids[prep.ps[i]], prep.vil_ids[prep.pv[i]]), -1),
            int(i),
        )
    )
    load, days, per_v = _held(setup, r)
    for i in dropped:
        if extra <= 0:
            break
        s, v = int(prep.ps[i]), int(prep.pv[i])
        if (
            load[s] + 1 > prep.s_cap[s]
            or per_v[v] + 1 > prep.v_req[v]
            or days[s] + prep.days[i] > prep.s_days[s] + 1e-9
        ):
            continue
        r.forced[i] = True
        load[s] += 1
        days[s] += prep.days[i]
        per_v[v] += 1
        extra -= 1


def critical(setup: Setup, r: Restrictions) -> list[int]:
    """Specialists whose most day-consuming allowed selection would break their days budget (tiers kept)."""
    prep = setup.prep
    allowed = np.flatnonzero(~setup.fixed & ~r.banned)
    order = allowed[np.lexsort((-prep.days[allowed], prep.ps[allowed]))]
    s = prep.ps[order]
    starts = np.searchsorted(s, np.arange(len(prep.spec_ids)))
    rank = np.arange(len(order)) - starts[s]
    cap = np.minimum(setup.cap_eff, r.cap_limit)
    top = rank < cap[s]
    worst = np.bincount(
        s[top], weights=prep.days[order][top], minlength=len(prep.spec_ids)
    )
    worst[list(valid_tiers(prep, r.forced, r.tiers))] = 0  # their tiers keep them within budget (guided_chain)
    return [int(x) for x in np.flatnonzero(worst > prep.s_days - setup.days0 + 1e-9)]


def restrict(
    setup: Setup, r: Restrictions, assigned: np.ndarray, viol: Violations, mode: str
) -> None:
    """Add restrictions for the current violations; mode: minimal | safe | all."""
    for s in viol.days:
        (
            days_minimal(setup, r, assigned, s)
            if mode == "minimal"
            else days_cut(setup, r, s)
        )
    for t in viol.teams:
        team_side(setup, r, assigned, t)
    if viol.changes > 0:
        keep_previous(setup, r, assigned, viol.changes)
    if mode == "all":
        for s in critical(setup, r):
            days_cut(setup, r, s)
        for t, ms in sorted(setup.teams.items()):
            if (
                min(setup.cap_eff[t], r.cap_limit[t]) > 0
                and np.minimum(setup.cap_eff[ms], r.cap_limit[ms]).sum() > 0
            ):
                team_side(setup, r, assigned, t)
    r.notes.append(
        f"{mode}: days {len(viol.days)}, teams {len(viol.teams)}, changes {viol.changes}"
    )


def force_previous(setup: Setup, r: Restrictions) -> None:
    """Last resort for max_changes: force as many still-eligible previous pairs as capacity, days, villages and
    teams allow together (a small exact CP-SAT model over those pairs; best grades first among equal counts),
    or, if that finds nothing in its budget, greedily every one that fits in grade order. The network then
    only fills the rest."""
    prep = setup.prep
    prev, _ = previous_keys(prep)
    grade = {(q.specialist_id, q.village_id): grade_rank(q.grade) for q in prep.params.previous}
    r.forced[prev] = False  # previous pairs forced by earlier rounds are chosen again, all together
    order = sorted((int(i) for i in prev if not setup.fixed[i]),
                   key=lambda i: (-grade.get((prep.spec_ids[prep.ps[i]], prep.vil_ids[prep.pv[i]]), -1), i))
    team_of = {int(m): t for t, ms in setup.teams.items() for m in ms}
    load, days, per_v = _held(setup, r)
    best, most = _most_kept(setup, order, grade, load, days, per_v)
    kept = int(setup.fixed[prev].sum())  # locked previous pairs stay
    locked = kept
    for i in best if best is not None else order:
        s, v = int(prep.ps[i]), int(prep.pv[i])
        team = team_of.get(s)
        clash = (team is not None and load[team] > 0) or (s in setup.teams and load[setup.teams[s]].sum() > 0)
        if (clash or load[s] + 1 > prep.s_cap[s] or per_v[v] + 1 > prep.v_req[v]
                or days[s] + prep.days[i] > prep.s_days[s] + 1e-9):
            continue
        r.forced[i] = True
        r.banned[i] = False
        load[s] += 1
        days[s] += prep.days[i]
        per_v[v] += 1
        kept += 1
    r.kept_most = (kept, None if most is None else locked + most)
    for t, ms in setup.teams.items():  # the team rule: whichever side now holds pairs keeps them alone
        side = ms if load[t] > 0 else [t] if load[ms].sum() > 0 else []
        for x in side:
            own = _own(setup, x)
            r.banned[own[~setup.fixed[own] & ~r.forced[own]]] = True
            r.cap_limit[x] = 0
    r.notes.append("kept the most previous pairs that fit together (max_changes)" if best is not None
                   else "kept every previous pair that fits, in grade order (max_changes)")


def _most_kept(setup: Setup, order: list[int], grade: dict[tuple[str, str], int], load: np.ndarray,
               days: np.ndarray, per_v: np.ndarray) -> tuple[list[int] | None, int | None]:
    # The largest set of the candidate previous pairs that fits together (None if CP-SAT finds none in time), and
    # the most that can fit as CP-SAT proved it (its bound on the count; None when it proved nothing).
    prep = setup.prep
    m = cp_model.CpModel()
    x = {i: m.new_bool_var(f"k{i}") for i in order}
    by_s: dict[int, list[int]] = {}
    by_v: dict[int, list[int]] = {}
    for i in order:
        by_s.setdefault(int(prep.ps[i]), []).append(i)
        by_v.setdefault(int(prep.pv[i]), []).append(i)
    capacity_and_days(m, prep, x, by_s, load, days)  # the same rules as the CP-SAT polish
    team_rule(m, setup, x, by_s, load)
    for v, idx in by_v.items():
        m.add(sum(x[i] for i in idx) <= max(0, int(prep.v_req[v]) - int(per_v[v])))
    key = {i: grade.get((prep.spec_ids[prep.ps[i]], prep.vil_ids[prep.pv[i]]), -1) + 2 for i in order}
    unit = 10 * len(order)  # a kept pair outweighs every grade together (keys are at most 5 each)
    m.maximize(sum((unit + key[i]) * x[i] for i in order))  # count first, then grades
    solver = cp_model.CpSolver()
    solver.parameters.num_workers = 1  # deterministic
    solver.parameters.random_seed = prep.params.seed
    solver.parameters.max_deterministic_time = MOST_KEPT_BUDGET
    status = solver.solve(m)
    if status not in (cp_model.OPTIMAL, cp_model.FEASIBLE):
        return None, None
    chosen = [i for i in order if solver.boolean_value(x[i])]
    if status == cp_model.OPTIMAL:
        return chosen, len(chosen)
    return chosen, int(solver.best_objective_bound + 1e-6) // unit if unit else 0  # count * unit <= objective <= bound


def guided_teams(setup: Setup, r: Restrictions, groups: list[tuple[int, list[int]]], team_side: dict[int, bool]) -> None:
    """Team rule from the plan: each team keeps the side (team or members) its planned answer takes."""
    for t, ms in groups:
        _ban_side(setup, r, ms if team_side.get(t, False) else [t])
    r.notes.append(f"team or members chosen by the Lagrangian plan for {len(groups)} teams")


def guided_chain(setup: Setup, r: Restrictions, s: int, pattern: np.ndarray) -> None:
    """Days rule for one specialist around its planned answer `pattern` (pair indices).

    Days thresholds tau_1 >= ... >= tau_k with sum <= days left: the specialist's i-th longest village may
    need at most tau_i days, so whatever the network picks fits. They start at the answer's own days
    and rise, cheapest new villages per day first, while the days left allow; villages above tau_1 are banned.
    """
    prep = setup.prep
    budget = _open(setup, r, s)
    if budget is None:
        return
    left, own, k = budget
    days = np.sort(prep.days[own])
    pd = sorted(prep.days[own[np.isin(own, pattern)]].tolist(), reverse=True)
    while k > len(pd) and sum(pd) + (k - len(pd)) * days[0] > left + 1e-9:
        k -= 1
    tau = (pd + [float(days[0])] * (k - len(pd)))[:k] if len(days) else []
    if sum(tau) > left + 1e-9:  # the answer itself does not fit: nothing but what fits surely
        tau, k = [], 0
    steps = np.unique(days)
    slack = left - sum(tau)
    while tau:
        best: tuple[float, int, float] | None = None
        for i, cur in enumerate(tau):
            up = steps[steps > cur + 1e-9]
            if not len(up) or (i > 0 and up[0] > tau[i - 1] + 1e-9) or up[0] - cur > slack + 1e-9:
                continue
            more = np.searchsorted(days, up[0] + 1e-9) - np.searchsorted(days, cur + 1e-9)
            if best is None or more / (up[0] - cur) > best[0]:
                best = (more / (up[0] - cur), i, float(up[0]))
        if best is None:
            break
        slack -= best[2] - tau[best[1]]
        tau[best[1]] = best[2]
    top = tau[0] if tau else -1.0
    r.banned[own[prep.days[own] > top + 1e-9]] = True
    r.cap_limit[s] = min(int(r.cap_limit[s]), k)
    r.tiers[s] = tuple(tau)
