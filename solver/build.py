"""From prepared pairs to the network: locks, effective capacities, teams, days tiers."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from solver.candidates import Prepared
from solver.network import Network


@dataclass
class Setup:
    prep: Prepared
    lock_pairs: np.ndarray  # pair indices that are locked
    load0: np.ndarray  # locked load per specialist
    days0: np.ndarray  # locked days per specialist
    req_res: np.ndarray  # demand left per village after locks
    cap_eff: (
        np.ndarray
    )  # network capacity per specialist (after locks, days, team rule)
    teams: dict[int, list[int]]  # team specialist index -> member indices
    conflicts: list[str] = field(default_factory=list)  # hard-rule contradictions
    fixed: np.ndarray = field(
        default_factory=lambda: np.zeros(0, bool)
    )  # per pair: locked or forced
    banned: np.ndarray = field(
        default_factory=lambda: np.zeros(0, bool)
    )  # per pair: removed by a repair restriction
    tiers: dict[int, tuple[float, ...]] = field(
        default_factory=dict
    )  # specialist -> days thresholds: its i-th longest village needs at most tiers[i] days (solver.restrict)


def _team_map(
    prep: Prepared, instance_members: dict[str, tuple[str, ...]]
) -> dict[int, list[int]]:
    # Team specialist index -> member indices (only known ids, sorted).
    index = {x: i for i, x in enumerate(prep.spec_ids)}
    teams: dict[int, list[int]] = {}
    for tid, members in sorted(instance_members.items()):
        ms = sorted({index[m] for m in members if m in index and m != tid})
        if tid in index and ms:
            teams[index[tid]] = ms
    return teams


def check_locks(prep: Prepared, setup: Setup) -> None:
    """Hard-rule contradictions created by locks (each makes the run infeasible)."""
    p = prep.params
    s_index = {x: i for i, x in enumerate(prep.spec_ids)}
    v_index = {x: i for i, x in enumerate(prep.vil_ids)}
    forbidden = set(p.forbidden)
    for a, b in sorted(set(p.locked)):
        if a not in s_index or b not in v_index:
            setup.conflicts.append(
                f"lock ({a}, {b}) refers to an unknown specialist or village"
            )
        elif (a, b) in forbidden:
            setup.conflicts.append(f"lock ({a}, {b}) is also forbidden")
        elif not prep.s_ok[s_index[a]]:
            setup.conflicts.append(
                f"lock ({a}, {b}): specialist is inactive or graded 不合格"
            )
        elif prep.v_excluded[v_index[b]]:
            setup.conflicts.append(f"lock ({a}, {b}): village is excluded")
    over_cap = np.flatnonzero(setup.load0 > prep.s_cap)
    setup.conflicts += [
        f"{prep.spec_ids[s]} has {setup.load0[s]} locks but capacity {prep.s_cap[s]}"
        for s in over_cap
    ]
    over_days = np.flatnonzero(setup.days0 > prep.s_days + 1e-9)
    setup.conflicts += [
        f"{prep.spec_ids[s]}: locked pairs need {setup.days0[s]:g} days > {prep.s_days[s]:g} available"
        for s in over_days
    ]
    locks_v = np.bincount(prep.pv[setup.lock_pairs], minlength=len(prep.vil_ids))
    over_v = np.flatnonzero(locks_v > prep.v_req)
    setup.conflicts += [
        f"village {prep.vil_ids[v]} has {locks_v[v]} locks but requires {prep.v_req[v]}"
        for v in over_v
        if not prep.v_excluded[v]
    ]
    if p.team_rule:
        for t, ms in setup.teams.items():
            if setup.load0[t] > 0 and any(setup.load0[m] > 0 for m in ms):
                setup.conflicts.append(
                    f"team {prep.spec_ids[t]} and one of its members are both locked (team rule)"
                )


def make_setup(
    prep: Prepared,
    members: dict[str, tuple[str, ...]],
    banned: np.ndarray | None = None,
    forced: np.ndarray | None = None,
    cap_limit: np.ndarray | None = None,
    tiers: dict[int, tuple[float, ...]] | None = None,
) -> Setup:
    """Pre-assign locks (and `forced` pairs), drop `banned` pairs, then derive network capacities.

    `tiers` (days thresholds per specialist) hold only for specialists without forced pairs."""
    n_s = len(prep.spec_ids)
    fixed = prep.locked | (forced if forced is not None else False)
    lock_pairs = np.flatnonzero(fixed)
    load0 = np.bincount(prep.ps[lock_pairs], minlength=n_s).astype(np.int64)
    days0 = np.bincount(
        prep.ps[lock_pairs], weights=prep.days[lock_pairs], minlength=n_s
    )
    locks_v = np.bincount(prep.pv[lock_pairs], minlength=len(prep.vil_ids))
    req_res = np.maximum(prep.v_req - locks_v, 0)
    cap_eff = np.where(prep.s_ok, np.maximum(prep.s_cap - load0, 0), 0)
    teams = _team_map(prep, members) if prep.params.team_rule else {}
    setup = Setup(prep, lock_pairs, load0, days0, req_res, cap_eff, teams)
    setup.fixed = fixed
    setup.banned = (
        banned.copy() if banned is not None else np.zeros(len(prep.ps), dtype=bool)
    )
    if tiers:
        setup.tiers = valid_tiers(prep, fixed, tiers)
    check_locks(prep, setup)
    for (
        t,
        ms,
    ) in (
        teams.items()
    ):  # a locked team blocks its members, a locked member blocks the team
        if load0[t] > 0:
            cap_eff[ms] = 0
        if load0[ms].sum() > 0:
            cap_eff[t] = 0
    cap_eff[:] = np.minimum(cap_eff, _days_capacity(prep, setup))
    if cap_limit is not None:
        cap_eff[:] = np.minimum(cap_eff, cap_limit)
    return setup


def valid_tiers(prep: Prepared, fixed: np.ndarray, tiers: dict[int, tuple[float, ...]]
                ) -> dict[int, tuple[float, ...]]:
    """The days thresholds that still hold: those of specialists with no forced (fixed, not locked) pair."""
    held = np.bincount(prep.ps[fixed & ~prep.locked], minlength=len(prep.spec_ids))
    return {s: tau for s, tau in tiers.items() if held[s] == 0}


def free_pair_mask(setup: Setup) -> np.ndarray:
    """Pairs that become network arcs: not locked, specialist has capacity, village has demand."""
    prep = setup.prep
    fits = (
        prep.days <= (prep.s_days - setup.days0)[prep.ps] + 1e-9
    )  # days left after locks
    return np.asarray(
        ~setup.fixed
        & ~setup.banned
        & fits
        & (setup.cap_eff[prep.ps] > 0)
        & (setup.req_res[prep.pv] > 0)
    )


def _days_capacity(prep: Prepared, setup: Setup) -> np.ndarray:
    # Most villages a specialist can take within the days left: count of cheapest pairs fitting the budget.
    free = np.flatnonzero(~setup.fixed & ~setup.banned)
    order = free[np.lexsort((prep.days[free], prep.ps[free]))]
    s = prep.ps[order]
    csum = np.cumsum(prep.days[order])
    starts = np.searchsorted(s, np.arange(len(prep.spec_ids)))
    base = np.concatenate([[0.0], csum])[starts]
    within = csum - base[s] <= (prep.s_days - setup.days0)[s] + 1e-9
    return np.bincount(s[within], minlength=len(prep.spec_ids)).astype(np.int64)


def team_groups(setup: Setup) -> list[tuple[int, list[int]]]:
    """Teams that could be paired together with a member, as (team, members); overlapping teams are left out."""
    groups = {
        t: ms
        for t, ms in setup.teams.items()
        if setup.cap_eff[t] > 0 and setup.cap_eff[ms].sum() > 0
    }
    seen: set[int] = set()
    out: list[tuple[int, list[int]]] = []
    for t, ms in sorted(groups.items()):
        if t in seen or any(m in seen or m in groups for m in ms):
            continue  # overlapping teams: relaxed (no shared-capacity tightening, no Lagrangian side)
        seen.update([t, *ms])
        out.append((t, ms))
    return out


def build_network(setup: Setup) -> Network:
    """Nodes: 0 source, 1 sink, team groups, specialists, villages; arcs as in network.py."""
    prep = setup.prep
    n_s, n_v = len(prep.spec_ids), len(prep.vil_ids)
    in_group = np.full(n_s, -1, dtype=np.int64)
    group_list = team_groups(setup)
    g0 = 2
    s0 = g0 + len(group_list)
    v0 = s0 + n_s
    n_nodes = v0 + n_v + 0
    tails: list[np.ndarray] = []
    heads: list[np.ndarray] = []
    caps: list[np.ndarray] = []
    demand = int(setup.req_res.sum())
    tails.append(np.array([0]))
    heads.append(np.array([1]))
    caps.append(np.array([demand]))
    for g, (t, ms) in enumerate(
        group_list
    ):  # shared capacity of a team and its members (valid relaxation)
        in_group[[t, *ms]] = g0 + g
        tails.append(np.array([0]))
        heads.append(np.array([g0 + g]))
        caps.append(
            np.array([max(int(setup.cap_eff[t]), int(setup.cap_eff[ms].sum()))])
        )
    unit_spec = np.repeat(np.arange(n_s), setup.cap_eff)
    unit_step = (
        setup.load0[unit_spec]
        + (
            np.arange(len(unit_spec))
            - np.repeat(np.cumsum(setup.cap_eff) - setup.cap_eff, setup.cap_eff)
        )
        + 1
    )
    u_start = sum(len(x) for x in tails)
    tails.append(np.where(in_group[unit_spec] >= 0, in_group[unit_spec], 0))
    heads.append(s0 + unit_spec)
    caps.append(np.ones(len(unit_spec), dtype=np.int64))
    pair_index = np.flatnonzero(free_pair_mask(setup))
    p_start = u_start + len(unit_spec)
    pair_tail, chain = _day_tiers(setup, pair_index, s0, v0 + n_v)
    n_nodes += len(chain[0])
    tails.append(pair_tail)
    heads.append(v0 + prep.pv[pair_index].astype(np.int64))
    caps.append(np.ones(len(pair_index), dtype=np.int64))
    w_start = p_start + len(pair_index)
    tails.append(v0 + np.arange(n_v))
    heads.append(np.ones(n_v, dtype=np.int64))
    caps.append(setup.req_res.astype(np.int64))
    tails.append(chain[1])
    heads.append(chain[0])
    caps.append(chain[2])
    supply = np.zeros(n_nodes, dtype=np.int64)
    supply[0], supply[1] = demand, -demand
    return Network(
        n_nodes=n_nodes,
        tail=np.concatenate(tails).astype(np.int64),
        head=np.concatenate(heads).astype(np.int64),
        cap=np.concatenate(caps).astype(np.int64),
        supply=supply,
        pair_arcs=slice(p_start, w_start),
        pair_index=pair_index,
        unit_arcs=slice(u_start, p_start),
        unit_spec=unit_spec,
        unit_step=unit_step.astype(np.int64),
        village_arcs=slice(w_start, w_start + n_v),
    )


def _day_tiers(
    setup: Setup, pair_index: np.ndarray, s0: int, first_node: int
) -> tuple[np.ndarray, tuple[np.ndarray, np.ndarray, np.ndarray]]:
    # Days tightening (valid relaxation): with L days left, at most j villages needing more than L/(j+1) days.
    # Pair arcs needing more than L/c leave from a chain s -> h_{c-1} -> ... -> h_1 with capacity j at h_j.
    # A specialist with restriction tiers uses them instead, which makes its days budget always hold.
    prep = setup.prep
    s = prep.ps[pair_index].astype(np.int64)
    left = (prep.s_days - setup.days0)[s]
    cap = setup.cap_eff[s]
    fit = np.where(
        np.isfinite(left),
        np.floor(left / np.maximum(prep.days[pair_index], 1e-9) + 1e-9),
        np.inf,
    )
    for sp, tau in setup.tiers.items():  # inner tiers: with tau_1 >= tau_2 >= ..., at most j villages above tau_{j+1}
        mine = np.arange(np.searchsorted(s, sp), np.searchsorted(s, sp + 1))  # pairs are sorted by specialist
        fit[mine] = np.sum(np.asarray(tau)[None, :] >= prep.days[pair_index[mine]][:, None] - 1e-9, axis=1)
    tier = np.where(fit < cap, np.maximum(fit, 1), 0).astype(np.int64)
    tail = s0 + s
    needs = np.unique(s[tier > 0])
    node_of: dict[tuple[int, int], int] = {}
    c_head: list[int] = []
    c_tail: list[int] = []
    c_cap: list[int] = []
    for sp in needs:
        c = int(setup.cap_eff[sp])
        prev = s0 + int(sp)
        for j in range(c - 1, 0, -1):
            node = first_node + len(node_of)
            node_of[(int(sp), j)] = node
            c_tail.append(prev)
            c_head.append(node)
            c_cap.append(j)
            prev = node
    tiered = np.flatnonzero(tier > 0)
    tail[tiered] = [node_of[(int(a), int(b))] for a, b in zip(s[tiered], tier[tiered])]
    chain = (
        np.array(c_head, dtype=np.int64),
        np.array(c_tail, dtype=np.int64),
        np.array(c_cap, dtype=np.int64),
    )
    return tail, chain
