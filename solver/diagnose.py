"""Why villages stay uncovered, and which recruitment would close the gap."""

from __future__ import annotations

import numpy as np
from ortools.graph.python import min_cost_flow

from solver.build import Setup, free_pair_mask
from solver.candidates import Prepared, distances, expertise_ok, rule_masks, travel_days
from solver.model import Reason, Recruit, Uncovered

MAX_IDS = 20


def _ids(prep: Prepared, idx: np.ndarray) -> list[str]:
    return [prep.spec_ids[int(i)] for i in idx[:MAX_IDS]]


def _listed(ids: list[str], count: int) -> str:
    # The named ids, and how many more there are when the list was cut.
    return ", ".join(ids) + (f" and {count - len(ids)} more" if count > len(ids) else "")


def uncovered(
    setup: Setup, assigned: np.ndarray, teams_used: set[int]
) -> list[Uncovered]:
    """One entry per village short of specialists, with the reasons found."""
    prep = setup.prep
    n_s, n_v = len(prep.spec_ids), len(prep.vil_ids)
    per_v = np.bincount(prep.pv[assigned], minlength=n_v)
    load = np.bincount(prep.ps[assigned], minlength=n_s)
    locked_load = setup.load0
    days_used = np.bincount(
        prep.ps[assigned], weights=prep.days[assigned], minlength=n_s
    )
    is_assigned = np.zeros(len(prep.ps), dtype=bool)
    is_assigned[assigned] = True
    order = np.argsort(prep.pv, kind="stable")
    starts = np.searchsorted(prep.pv[order], np.arange(n_v + 1))
    out: list[Uncovered] = []
    for v in np.flatnonzero(per_v < prep.v_req):
        missing = int(prep.v_req[v] - per_v[v])
        every = order[starts[v] : starts[v + 1]]
        elig = every[~is_assigned[every]]
        if len(elig):
            reasons = _busy_reasons(setup, elig, int(v), load, locked_load, days_used, teams_used)
        elif len(every):  # partly covered: everyone who may serve it already does
            serving = [prep.spec_ids[prep.ps[i]] for i in every]
            reasons = [Reason("too_few_eligible", f"only {len(every)} eligible specialist(s) can serve it and all "
                              f"already do ({', '.join(serving)}); it needs {missing} more",
                              {"specialists": serving})]
        else:
            reasons = _no_candidate_reasons(prep, int(v))
        out.append(Uncovered(prep.vil_ids[v], missing, reasons))
    return out


def _industry(prep: Prepared, v: int) -> str:
    k = int(prep.v_primary[v])
    return prep.industries[k] if k >= 0 else ""


def _no_candidate_reasons(prep: Prepared, v: int) -> list[Reason]:
    # No eligible pair at all: find the first rule that empties the candidate set.
    p = prep.params
    s = np.arange(len(prep.spec_ids))
    vv = np.full(len(s), v)
    km, _ = distances(prep, s, vv)
    days = prep.v_service[v] + travel_days(prep, km)
    masks = rule_masks(prep, s, vv, km, days)
    ind = _industry(prep, v)
    experts = expertise_ok(prep, s, vv) & masks["inactive"]
    if not experts.any():
        return [
            Reason(
                "no_expert_in_range",
                f"no active specialist with industry {ind} exists" if ind
                else "the village lists no industry need, so no specialist matches it under the expertise rule",
                {"industry": ind, "radius_km": None},
            )
        ]
    in_range = experts & masks["radius"]
    if not in_range.any():
        near = int(np.flatnonzero(experts)[np.argmin(km[experts])])
        return [
            Reason(
                "no_expert_in_range",
                f"no specialist with industry {ind} within their service radius; "
                f"nearest is {prep.spec_ids[near]} at {km[near]:.0f} km",
                {
                    "industry": ind,
                    "nearest_id": prep.spec_ids[near],
                    "nearest_km": round(float(km[near]), 1),
                    "radius_km": float(prep.s_radius[near]),
                },
            )
        ]
    reasons: list[Reason] = []
    forbidden = {a for a, b in p.forbidden if b == prep.vil_ids[v]}
    fb = np.array(
        [prep.spec_ids[i] in forbidden for i in np.flatnonzero(in_range)], dtype=bool
    )
    if fb.any():
        ids = _ids(prep, np.flatnonzero(in_range)[fb])
        reasons.append(Reason("forbidden", f"pairing is forbidden for {_listed(ids, int(fb.sum()))}",
                              {"specialists": ids, "count": int(fb.sum())}))
    blocked_three = in_range & ~masks["three_areas"]
    if blocked_three.any():
        reasons.append(
            Reason(
                "three_areas_rule",
                "in-range specialists are three-areas programme staff who may only serve three-areas villages "
                "outside their home county",
                {"specialists": _ids(prep, np.flatnonzero(blocked_three)), "count": int(blocked_three.sum())},
            )
        )
    blocked_days = in_range & masks["three_areas"] & ~masks["days"]
    if blocked_days.any():
        reasons.append(
            Reason(
                "days_budget",
                "in-range specialists lack the days this pairing needs",
                {"specialists": _ids(prep, np.flatnonzero(blocked_days)), "count": int(blocked_days.sum())},
            )
        )
    if p.restrict_to_overrides:
        reasons.append(
            Reason(
                "not_in_overrides",
                "only override pairs are allowed and none fits this village",
                {},
            )
        )
    return reasons or [
        Reason(
            "no_expert_in_range",
            f"no eligible specialist with industry {ind}",
            {"industry": ind},
        )
    ]


def _busy_reasons(
    setup: Setup,
    elig: np.ndarray,
    v: int,
    load: np.ndarray,
    locked: np.ndarray,
    days_used: np.ndarray,
    teams_used: set[int],
) -> list[Reason]:
    # Eligible specialists exist: say what keeps each of them away.
    prep = setup.prep
    s = prep.ps[elig].astype(np.int64)
    full = load[s] >= prep.s_cap[s]
    by_lock = full & (locked[s] >= prep.s_cap[s])
    days_short = ~full & (days_used[s] + prep.days[elig] > prep.s_days[s] + 1e-6)
    member_of_used = {m for t in teams_used for m in setup.teams[t]}
    team_block = (
        ~full
        & ~days_short
        & np.array(
            [
                int(i) in member_of_used
                or (int(i) in setup.teams and load[setup.teams[int(i)]].sum() > 0)
                for i in s
            ],
            dtype=bool,
        )
    )
    reasons: list[Reason] = []
    eligible = len(s)
    if (full & ~by_lock).any():
        n = int((full & ~by_lock).sum())
        ids = _ids(prep, s[full & ~by_lock])
        which = f"all {n}" if n == eligible else f"{n} of the {eligible}"
        reasons.append(
            Reason(
                "experts_full",
                f"{which} eligible specialists are at capacity: {_listed(ids, n)}",
                {"specialists": ids, "count": n, "eligible": eligible},
            )
        )
    rest = ~full & ~days_short & ~team_block
    for mask, code, text in (
        (by_lock, "locked_elsewhere", "are locked to other villages"),
        (days_short, "days_budget", "have too few days left"),
        (team_block, "team_rule", "are blocked by the team rule"),
        (rest, "not_chosen", "could still serve (search stopped or max_changes kept them elsewhere)"),
    ):
        if mask.any():
            n = int(mask.sum())
            ids = _ids(prep, s[mask])
            reasons.append(Reason(code, f"specialists {_listed(ids, n)} {text}",
                                  {"specialists": ids, "count": n, "eligible": eligible}))
    return reasons


def recruitment(setup: Setup, deficit_units: np.ndarray) -> list[Recruit]:
    """Fewest extra slots by (county, primary industry): a min-cost flow where real specialists cost 0 and virtual ones 1."""
    prep = setup.prep
    n_s, n_v = len(prep.spec_ids), len(prep.vil_ids)
    if deficit_units.sum() == 0:
        return []
    groups = sorted(
        {
            (prep.v_county[v], int(prep.v_primary[v]))
            for v in np.flatnonzero(setup.req_res > 0)
        }
    )
    gid = {g: k for k, g in enumerate(groups)}
    pairs = np.flatnonzero(free_pair_mask(setup))
    src, sink, s0, v0, g0 = 0, 1, 2, 2 + n_s, 2 + n_s + n_v
    with_demand = np.flatnonzero(setup.req_res > 0)
    v_group = np.array(
        [gid[(prep.v_county[v], int(prep.v_primary[v]))] for v in with_demand],
        dtype=np.int64,
    )
    demand = int(setup.req_res.sum())
    tails = np.concatenate(
        [
            np.zeros(n_s),
            s0 + prep.ps[pairs],
            v0 + np.arange(n_v),
            np.zeros(len(groups)),
            g0 + v_group,
        ]
    ).astype(np.int32)
    heads = np.concatenate(
        [
            s0 + np.arange(n_s),
            v0 + prep.pv[pairs],
            np.full(n_v, sink),
            g0 + np.arange(len(groups)),
            v0 + with_demand,
        ]
    ).astype(np.int32)
    caps = np.concatenate(
        [
            setup.cap_eff,
            np.ones(len(pairs)),
            setup.req_res,
            np.full(len(groups), demand),
            setup.req_res[with_demand],
        ]
    ).astype(np.int64)
    costs = np.concatenate(
        [
            np.zeros(n_s + len(pairs) + n_v),
            np.ones(len(groups)),
            np.zeros(len(with_demand)),
        ]
    ).astype(np.int64)
    mcf = min_cost_flow.SimpleMinCostFlow()
    mcf.add_arcs_with_capacity_and_unit_cost(tails, heads, caps, costs)
    supply = np.zeros(g0 + len(groups), dtype=np.int64)
    supply[src], supply[sink] = demand, -demand
    mcf.set_nodes_supplies(np.arange(len(supply), dtype=np.int32), supply)
    if mcf.solve() != mcf.OPTIMAL:
        return []
    flows = np.asarray(mcf.flows(np.arange(len(tails), dtype=np.int32)))
    virt = flows[-len(with_demand) :] if len(with_demand) else np.zeros(0, np.int64)
    if (virt > deficit_units[with_demand]).any():
        # The relaxation (no days budget, no team rule) would recruit for villages the answer covers, moving its
        # specialists to the ones it leaves open, in ways the side rules forbid: recruit where the answer falls
        # short instead, which always suffices.
        virt = np.zeros(len(with_demand), dtype=np.int64)
    slots = np.bincount(v_group, weights=virt, minlength=len(groups)).astype(np.int64)
    villages: dict[int, list[str]] = {}
    for v, g, f in zip(with_demand, v_group, virt):
        if f > 0:
            villages.setdefault(int(g), []).append(prep.vil_ids[v])
    extra = int(
        deficit_units.sum() - slots.sum()
    )  # side rules can leave more demand open than the relaxation
    planned = np.zeros(n_v, dtype=np.int64)
    planned[with_demand] = virt
    for v in np.flatnonzero(deficit_units > planned):  # open units the relaxation's recruits do not already fill
        if extra <= 0:
            break
        g = gid.get((prep.v_county[v], int(prep.v_primary[v])))
        if g is None:
            continue
        take = min(extra, int(deficit_units[v] - planned[v]))
        slots[g] += take
        extra -= take
        if prep.vil_ids[v] not in villages.setdefault(g, []):
            villages[g].append(prep.vil_ids[v])
    county_names = _county_names(setup)
    return [
        Recruit(
            county_names.get(int(groups[g][0]), ""),
            prep.industries[groups[g][1]] if groups[g][1] >= 0 else "",
            int(slots[g]),
            sorted(villages.get(g, [])),
        )
        for g in range(len(groups))
        if slots[g] > 0
    ]


def _county_names(setup: Setup) -> dict[int, str]:
    # County int code -> the 6-digit code string (taken from the village ids' county field).
    return setup.prep.county_names
