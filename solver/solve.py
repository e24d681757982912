"""Entry point: candidates -> network -> exact lexicographic MCF -> side-rule repair -> report."""

from __future__ import annotations

import time
from collections.abc import Callable

import numpy as np

from solver import exact
from solver.build import Setup, build_network, make_setup
from solver.candidates import build_pairs, prepare
from solver.diagnose import recruitment, uncovered
from solver.fixing import usable_pairs
from solver.inputs import check_instance
from solver.levels import UNIT_SCALE, level_costs, level_spec, pair_level_values
from solver.model import (
    MAXIMISED,
    MatchInstance,
    MatchParams,
    MatchSolution,
    Progress,
    grade_rank,
)
from solver.network import merge_plan, solve_lexicographic
from solver.output import assignments, level_results
from solver.polish import polish
from solver.repair import (
    find_violations,
    previous_keys,
)
from solver.restrict import Restrictions
from solver.side import (
    PLAN_ROUNDS_FIRST,
    Guide,
    make_guide,
    reseated,
    restricted_rounds,
    safe_answer_first,
    settled,
    tighten,
)

FINISH_S = 2.5  # seconds kept for the report after the last bound refinement
FINISH_SHARE = 0.2  # of a network solve's time: the report grows with the instance (province: about 2.5 s)
RESOLVE_SHARE = 1.2  # network solves' time kept for the guided re-solve after the first refinement
WIDE_ROUNDS = 4  # times bound_rounds after the answer for a PDLP master (province: about 25 rounds converge)
FIX_ROUNDS = (25, 20_000, 0.1)  # when reduced-cost fixing leaves more than 20,000 pairs (or more than the exact finish
# takes), up to 25 more price rounds within a tenth of the time left, then fixing again: a tighter bound leaves fewer
# (the benchmark city: 40,625 instead of 69,356; its seed 2, 303,096 pairs, fits only then)


def solve(
    instance: MatchInstance,
    progress: Callable[[Progress], None] | None = None,
    should_stop: Callable[[], bool] | None = None,
) -> MatchSolution:
    """Pair specialists with villages; see the package docstring for the method."""
    check_instance(instance)  # a malformed instance is a ValueError naming each bad field
    start = time.perf_counter()
    p = instance.params
    deadline = start + max(0.0, p.time_limit_s)
    timings: dict[str, float] = {}

    def report(
        phase: str, level: str | None, value: float | None, bound: float | None
    ) -> None:
        if progress is not None:
            gap = (
                None
                if value is None or bound is None
                else abs(bound - value) / max(1.0, abs(bound))
            )
            progress(
                Progress(phase, level, value, bound, gap, time.perf_counter() - start)
            )

    t = time.perf_counter()
    prep = prepare(instance)
    build_pairs(prep)
    timings["candidates_s"] = time.perf_counter() - t
    report("candidates", None, None, None)
    members = {
        s.id: s.members for s in instance.specialists if s.kind == "team" and s.members
    }
    setup = make_setup(prep, members)
    spec = level_spec(p.levels)
    names = ["+".join(n) for n in spec]
    _check_max_changes(setup)
    size: dict[str, object] = {
        "specialists": len(prep.spec_ids),
        "villages": len(prep.vil_ids),
        "candidates": len(prep.ps),
    }
    if should_stop is not None and should_stop() and not setup.conflicts:
        return _stopped(setup, spec, size | {"timings": timings}, time.perf_counter() - start)
    if setup.conflicts:
        return MatchSolution(
            "infeasible",
            solve_seconds=time.perf_counter() - start,
            model_size=size | {"timings": timings},
            method="hard-rule check",
            messages=setup.conflicts,
        )

    t = time.perf_counter()
    net = build_network(setup)
    costs = level_costs(net, prep, spec)
    timings["network_build_s"] = time.perf_counter() - t
    plan = merge_plan(costs, net.cap, net.cap > 0, net.n_nodes)
    size |= {
        "nodes": net.n_nodes,
        "arcs": len(net.cap),
        "pair_arcs": len(net.pair_index),
    }
    held = dict(zip(names, pair_level_values(prep, setup.lock_pairs, spec)))  # the locked pairs' level values
    lex = solve_lexicographic(
        net,
        costs,
        names,
        on_level=lambda n, v: report("network", n, _natural(n, v + held[n]), _natural(n, v + held[n])),
        should_stop=should_stop,
    )
    timings |= {k + "_s": v for k, v in lex.timings.items()}
    lex_time = sum(lex.timings.values()) + timings["network_build_s"]  # one network solve, with its building
    relaxed = np.sort(
        np.concatenate([setup.lock_pairs, net.pair_index[lex.flow[net.pair_arcs] > 0]])
    )
    bounds = pair_level_values(prep, relaxed, spec)
    method = (
        "min-cost flow (OR-Tools SimpleMinCostFlow), exact lexicographic by optimal-face fixing; solves: "
        + " | ".join("+".join(names[j] for j in g) for g in plan)
    )
    assigned, status_note, messages, proven = relaxed, "", [], list(lex.proven)
    viol = find_violations(setup, relaxed)
    guide: Guide | None = None
    rounds: Restrictions | None = None
    if viol.any():
        answer_first = False

        def on_bound(j: int, b: int) -> None:
            report("bound", names[j], None, _natural(names[j], b + held[names[j]]))

        if should_stop is not None and should_stop():  # stopped already: no more solves, drop pairs until the rules hold
            assigned = _greedy_drop(setup, relaxed)
            method += "; network optimum breaks side rules; stopped before the re-solves, so pairs were dropped until they hold"
        elif p.max_changes is None and not _resolve_fits(deadline, lex_time):  # a full re-solve would overrun the limit
            t = time.perf_counter()
            assigned, note, viol, _ = settled(setup, members, spec, names, relaxed, viol)
            timings["restricted_s"] = time.perf_counter() - t
            method += ("; network optimum breaks side rules; the time left did not fit a full re-solve, so the "
                       f"violators' villages were re-placed around everyone else's pairs ({note}); bounds: network relaxation")
            if viol.any():
                assigned = _greedy_drop(setup, assigned)
                method += "; remaining violations removed by dropping pairs"
            finish = deadline - max(FINISH_S, FINISH_SHARE * lex_time)
            if p.bound_time_s > 0 and time.perf_counter() + 0.5 * lex_time < finish:  # the time left tightens the bound
                t = time.perf_counter()
                guide = make_guide(setup, net, costs, spec, lex, refine_until=finish, rounds=p.bound_rounds,
                                   should_stop=should_stop, on_bound=on_bound)
                timings["lagrange_s"] = time.perf_counter() - t
        else:
            t = time.perf_counter()
            # restriction rounds report coverage, against its network-relaxation value
            relaxed_coverage = _natural("coverage", bounds[names.index("coverage")]) if "coverage" in names else None
            answer_first = safe_answer_first(p.max_changes, deadline, lex_time)  # then the bound also gets the time left after
            guide = make_guide(setup, net, costs, spec, lex, refine_until=_refine_deadline(p, deadline, lex_time),
                               rounds=min(p.bound_rounds, PLAN_ROUNDS_FIRST) if answer_first else p.bound_rounds,
                               should_stop=should_stop, on_bound=on_bound)
            timings["lagrange_s"] = time.perf_counter() - t
            t = time.perf_counter()
            assigned, note, viol, rounds = restricted_rounds(
                setup,
                members,
                spec,
                names,
                relaxed,
                viol,
                deadline,
                should_stop,
                lex_time=lex_time,
                report=lambda lv, v: report("restrict", lv, v, relaxed_coverage),
                guide=guide,
                safe_first=answer_first,
            )
            timings["restricted_s"] = time.perf_counter() - t
            method += f"; network optimum breaks side rules, re-solved under restrictions ({note}); bounds: network relaxation"
            if viol.any():
                assigned = _greedy_drop(setup, assigned)
                method += "; remaining violations removed by dropping pairs"
            if not find_violations(setup, assigned).any():  # CP-SAT only polishes an answer that keeps the rules
                assigned, note = polish(
                    setup, assigned, spec, rounds, deadline, report, should_stop, size, bounds
                )
                method += note
        if find_violations(setup, assigned).any():
            messages.append(_changes_message(setup, rounds.kept_most if rounds is not None else None))
            return MatchSolution(
                "infeasible",
                solve_seconds=time.perf_counter() - start,
                model_size=size | {"timings": timings},
                method=method,
                messages=messages,
            )
        if guide is not None:
            if answer_first and p.bound_time_s > 0:
                t = time.perf_counter()
                close = _within_gap(guide, setup, spec, assigned, bounds, proven, p.gap_limit)
                if not close():  # the answer is in; a PDLP master goes on until the deadline or convergence
                    n_rounds = p.bound_rounds * (WIDE_ROUNDS if guide.pricer.first_order else 1)
                    guide.refine(deadline - max(FINISH_S, FINISH_SHARE * lex_time), n_rounds,
                                 lambda: (should_stop is not None and should_stop()) or close())
                timings["lagrange_s"] += time.perf_counter() - t
                if close():
                    method += f"; the bound's refinement stopped within gap_limit={p.gap_limit:g}"
            bounds, proven = tighten(guide, setup, spec, assigned, bounds, proven)
            method += (", tightened by a Lagrangian relaxation that keeps the days budget and team rule "
                       f"(prices: network duals, refined by {guide.rounds} column-generation rounds"
                       + (", the master LP solved by PDLP)" if guide.pricer.first_order else ")"))
    if p.exact_finish and not (should_stop is not None and should_stop()):  # prove the rest
        report("exact", None, None, None)
        usable = None
        if (guide is not None and guide.levels[0] == 0  # the bound of the first levels leaves out many pairs
                and time.perf_counter() + exact.MIN_LEVEL_S < deadline - FINISH_S):
            t, g = time.perf_counter(), guide

            def fixed() -> np.ndarray | None:  # the pairs fixing leaves at the best prices so far
                return usable_pairs(g.rel, g.pricer.prices, g.answer, assigned, setup.fixed, limit=exact.EXACT_UP_TO)

            usable = fixed()
            if (usable is None or int(usable.sum()) > FIX_ROUNDS[1]) and not guide.pricer.done:
                before = guide.rounds
                guide.refine(t + FIX_ROUNDS[2] * (deadline - t), FIX_ROUNDS[0], should_stop)
                bounds, proven = tighten(guide, setup, spec, assigned, bounds, proven)
                if guide.rounds > before:
                    method += f"; {guide.rounds - before} more price rounds before reduced-cost fixing"
                usable = fixed()
            timings["fixing_s"] = time.perf_counter() - t
            if usable is not None:
                size["pairs_fixed_out"] = int((~usable).sum())  # left out of the exact finish by reduced-cost fixing

        def on_proven(j: int, v: int) -> None:  # a level proven by its MILP: its value is its bound
            report("exact", names[j], _natural(names[j], v + held[names[j]]), _natural(names[j], v + held[names[j]]))

        def reseat(a: np.ndarray) -> np.ndarray | None:  # one network solve, which cannot be stopped: only if it fits
            if time.perf_counter() + lex_time > deadline - FINISH_S:
                return None
            return reseated(setup, members, spec, names, a)

        assigned, bounds, proven, note = exact.prove_rest(setup, spec, assigned, bounds, proven, deadline - FINISH_S,
                                                          should_stop, usable, on_proven, reseat)
        method += note
    values = pair_level_values(prep, assigned, spec)
    levels = level_results(spec, values, bounds, proven)
    first = next((lv for lv in levels if not lv.proven or lv.gap != 0), None)
    status = "optimal" if first is None else "feasible"
    load = np.bincount(prep.ps[assigned], minlength=len(prep.spec_ids))
    teams_used = {t for t in setup.teams if load[t] > 0}
    t = time.perf_counter()
    unc = uncovered(setup, assigned, teams_used)
    deficit = np.maximum(
        prep.v_req - np.bincount(prep.pv[assigned], minlength=len(prep.vil_ids)), 0
    )
    recruits = recruitment(setup, deficit)
    timings["diagnose_s"] = time.perf_counter() - t
    elapsed = time.perf_counter() - start
    report("done", (first or levels[0]).name, (first or levels[0]).value, (first or levels[0]).bound)
    return MatchSolution(
        status=status,
        levels=levels,
        bound=(first or levels[0]).bound,
        gap=(first.gap if first is not None else 0.0),
        solve_seconds=elapsed,
        model_size=size | {"timings": {k: round(v, 4) for k, v in timings.items()}},
        method=method + status_note,
        assignments=assignments(prep, setup, assigned),
        uncovered=unc,
        recruitment=recruits,
        messages=messages,
    )


def _stopped(setup: Setup, spec: list[list[str]], size: dict[str, object], seconds: float) -> MatchSolution:
    # Stopped before the first solve: the locked pairs are the only answer so far (they keep every rule);
    # nothing is diagnosed, which would take longer than the stop allows.
    prep = setup.prep
    assigned = np.sort(setup.lock_pairs)
    values = pair_level_values(prep, assigned, spec)
    return MatchSolution(
        status="feasible",
        levels=level_results(spec, values, values, [False] * len(spec)),
        solve_seconds=seconds,
        model_size=size,
        method="stopped before the first solve: only the locked pairs",
        assignments=assignments(prep, setup, assigned),
        messages=["stopped before the first solve: uncovered villages were not diagnosed"],
    )


def _within_gap(guide: Guide, setup: Setup, spec: list[list[str]], assigned: np.ndarray, bounds: list[int],
                proven: list[bool], limit: float) -> Callable[[], bool]:
    # Whether the answer is within gap_limit of the bound at the best prices so far (0: never).
    values = pair_level_values(setup.prep, assigned, spec)

    def close() -> bool:
        if limit <= 0:
            return False
        b, ok = tighten(guide, setup, spec, assigned, bounds, proven)
        first = next((lv for lv in level_results(spec, values, b, ok) if not lv.proven or lv.gap != 0), None)
        return first is None or (first.gap is not None and first.gap <= limit)

    return close


def _resolve_fits(deadline: float, lex_time: float) -> bool:
    # Whether a full network re-solve (about one first solve's time) and the report fit before the deadline.
    return time.perf_counter() + lex_time + max(FINISH_S, FINISH_SHARE * lex_time) <= deadline


def _refine_deadline(p: MatchParams, deadline: float, lex_time: float) -> float:
    # Time for refining the Lagrangian prices before the re-solves: bound_time_s, or one network solve's time
    # on big instances, leaving room for the guided re-solve (about one network solve) and the report.
    now = time.perf_counter()
    if p.bound_time_s <= 0 or p.bound_rounds <= 0:
        return now
    return min(now + max(p.bound_time_s, lex_time), max(now, deadline - RESOLVE_SHARE * lex_time - FINISH_S))


def _natural(name: str, value: int) -> float:
    # Level value (internal integer) in the level's natural units, for progress reports.
    if name in MAXIMISED:
        return -value / UNIT_SCALE[name]
    return value / UNIT_SCALE.get(name, 1)


def _changes_message(setup: Setup, kept_most: tuple[int, int | None] | None) -> str:
    # Why a max_changes run has no answer: proven (the most previous pairs that fit together are too few), or not.
    limit = setup.prep.params.max_changes
    _, total = previous_keys(setup.prep)
    head = f"no assignment keeping all but max_changes={limit} of last season's {total} pairs was found"
    if kept_most is None:
        return head + " before the run was stopped"
    kept, most = kept_most
    if most is not None and limit is not None and total - most > limit:
        return (f"at most {most} of last season's {total} pairs can be kept together (capacity, days budget, village "
                f"demand and team rule; proven by CP-SAT), so at least {total - most} change: more than "
                f"max_changes={limit}")
    return (head + f": the best found keeps {kept} of them ({total - kept} change); CP-SAT did not prove within its "
            f"budget that no more can be kept together" + (f" (at most {most})" if most is not None else ""))


def _check_max_changes(setup: Setup) -> None:
    # max_changes is impossible when more previous pairs are already ineligible than allowed.
    p = setup.prep.params
    if p.max_changes is None:
        return
    prev, total = previous_keys(setup.prep)
    if total - len(prev) > p.max_changes:
        setup.conflicts.append(
            f"{total - len(prev)} of last season's pairs are no longer eligible, more than max_changes={p.max_changes}"
        )


def _greedy_drop(setup: Setup, assigned: np.ndarray) -> np.ndarray:
    # Fallback: drop non-locked pairs (longest days first; members of used teams) until days and team rules hold.
    prep = setup.prep
    keep = {int(i) for i in assigned}
    viol = find_violations(setup, assigned)
    for t in viol.teams:
        ms = setup.teams[t]
        team_locked = setup.load0[t] > 0
        member_load = int(np.isin(prep.ps[assigned], ms).sum())
        team_load = int((prep.ps[assigned] == t).sum())
        side = (
            ms
            if team_locked or (setup.load0[ms].sum() == 0 and member_load <= team_load)
            else [t]
        )
        for i in assigned:
            if int(prep.ps[i]) in side and not prep.locked[i]:
                keep.discard(int(i))
    cur = np.array(sorted(keep), dtype=np.int64)
    for s in find_violations(setup, cur).days:
        mine = cur[(prep.ps[cur] == s) & ~prep.locked[cur]]
        total = prep.days[cur[prep.ps[cur] == s]].sum()
        for i in mine[np.argsort(-prep.days[mine], kind="stable")]:
            if total <= prep.s_days[s] + 1e-6:
                break
            keep.discard(int(i))
            total -= prep.days[i]
    return np.array(sorted(keep), dtype=np.int64)


__all__ = ["grade_rank", "solve"]
