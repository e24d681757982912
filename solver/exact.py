"""Exact finish: every unproven level as one MILP (HiGHS), proven optimal, then held for the next.

The network answer with its side-rule repairs proves the levels the network holds; where the days budget or the
team rule break it (or a lower level is unproven), an instance with few enough free pairs (a county; a city once
reduced-cost fixing, solver.fixing, has left out the pairs no answer as good as this one can use) is solved
exactly. Variables: one binary per free pair, one per team (team used: its members idle), and, for the balance
level, the load steps of each specialist (load^2 is convex: step k costs 2k - 1, and the LP fills the steps in
order); max_changes is one row (enough of last season's pairs kept). Each level minimises its integer cost with
every higher level held at its optimum; consecutive levels that one small integer objective orders exactly are one
MILP. HiGHS starts from the answer; when a MILP finds a better one, each lower level first gets a re-seat (the
answer's days-bound specialists and teams kept, everyone else re-solved exactly as a network) and a crossover (the
MILP over the pairs of both answers), so an answer cut short by the time limit is not left with lower levels that
no objective looked at.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp

from solver.build import Setup
from solver.levels import UNIT_SCALE, pair_level_values
from solver.milp_process import solve_milp
from solver.repair import previous_keys

EXACT_UP_TO = 80_000  # free pairs left after reduced-cost fixing; the benchmark city keeps 67,583 of 312,989 (its
# match and continuity are then proven in about 15 s, all five levels in about 156 s; unfixed, match alone took 863 s)
MIN_LEVEL_S = 0.5  # time a level's MILP needs at least to be worth starting
CROSSOVER_SHARE = 0.25  # of the time left: the most a crossover of two answers may take (see crossover_share)
MERGE_UP_TO = 1 << 16  # largest coefficient of one objective that joins several levels (HiGHS keeps such exactly)
TIE_BREAK_UP_TO = 1 << 31  # the same for balance joining the level above it as its tie-breaker: balance's own MILP
# spends most of its time proving an answer it starts from (the 六安 demo city: travel 18.6 s, then balance 34.1 s;
# joined, 4.4-5.4 s), and with integral load steps HiGHS sees an integral objective and prunes by whole units


@dataclass
class _Model:
    free: np.ndarray  # pair index of each x variable
    n_vars: int
    a: sp.csr_matrix
    lo: np.ndarray
    hi: np.ndarray
    steps: np.ndarray  # per balance-step variable: its cost 2k - 1 (k counted from the locked load)
    step_of: np.ndarray  # per balance-step variable: its specialist
    teams: list[tuple[int, list[int]]]  # per team variable: the team and its members


def finish_exactly(setup: Setup, spec: list[list[str]], assigned: np.ndarray, held: int, deadline: float,
                   should_stop: Callable[[], bool] | None = None, usable: np.ndarray | None = None,
                   on_proven: Callable[[int, int], None] | None = None,
                   reseat: Callable[[np.ndarray], np.ndarray | None] | None = None
                   ) -> tuple[np.ndarray, int, int | None]:
    """Prove the levels after the first `held` (already proven, and held at the answer's values) by MILP, while
    time lasts; returns the answer (changed only where a MILP found a lexicographically better one) and how many
    leading levels are now proven. `usable`: per prepared pair, whether an answer at least as good as `assigned`
    may use it (solver.fixing); the others are left out of the MILPs. `on_proven(level, value)` hears each level
    proven, with its optimal value over the free pairs (locked pairs not counted). `reseat(answer)`: the best answer
    that keeps the answer's days-bound specialists and teams to their pairs (solver.side.reseated), tried on the
    lower levels whenever a MILP has changed the answer. Also returns a proven bound on the first level left open
    (solver.levels' integer, locked pairs counted) when the time cut its MILP after HiGHS had proven one, else None."""
    model = _model(setup, balance=any("balance" in names for names in spec), usable=usable)
    if model is None or held >= len(spec) or model.n_vars == 0:
        return assigned, held, None
    x0 = _incidence(setup, model, assigned)
    if x0 is None:
        return assigned, held, None
    costs = [_level_cost(setup, model, names) for names in spec]
    rows = [model.a] + [sp.csr_matrix(c.astype(float)) for c in costs[:held]]
    lo = [model.lo.copy()] + [np.array([-np.inf])] * held
    hi = [model.hi] + [np.array([float(c @ x0)]) for c in costs[:held]]
    if held and spec[0] == ["coverage"] and (model.a[: len(setup.req_res)] @ x0 == setup.req_res).all():
        lo[0][: len(setup.req_res)] = setup.req_res  # full coverage held: every village's demand met, row by row
    x, proven, seed = x0, held, setup.prep.params.seed
    last_s = 0.0  # how long the last full MILP took
    open_bound: int | None = None  # on the first open level's cost over the free pairs
    for group in _groups(costs, held, tie_breakers={j for j, names in enumerate(spec) if names == ["balance"]}):
        cost = _merged([costs[j] for j in group])
        if deadline - time.perf_counter() < MIN_LEVEL_S or (should_stop is not None and should_stop()):
            break
        if x is not x0:  # a better answer above, found with no regard for these levels: first re-seat the rest
            x = _reseated(setup, model, cost, rows, lo, hi, x, reseat)
            crossed = _crossover(model, cost, rows, lo, hi, x0, x, deadline, should_stop, seed=seed,
                                 share=crossover_share(deadline - time.perf_counter(), last_s))
            if crossed is not x:  # a better answer: re-seat around it too (the same one would give the same)
                x = _reseated(setup, model, cost, rows, lo, hi, _point(setup, model, crossed), reseat)
        began = time.perf_counter()
        found = solve_milp(cost.astype(float), sp.vstack(rows, format="csr"), np.concatenate(lo), np.concatenate(hi),
                           _integrality(model, cost), deadline, should_stop, start=x, seed=seed)
        last_s = time.perf_counter() - began
        if found is None:  # a stop came first, or nothing was found in time: keep what is proven
            break
        if cost @ found.x < cost @ x:  # strictly better on these levels: lexicographically better than the answer
            x = _point(setup, model, found.x)
        if not found.optimal:  # the time ran out: a better answer on these levels, not a proof (but maybe a bound)
            if np.isfinite(found.bound):
                open_bound = first_bound([costs[j] for j in group], found.bound)
            break
        for j in group:
            proven += 1
            if on_proven is not None:
                on_proven(j, int(costs[j] @ x))
            rows.append(sp.csr_matrix(costs[j].astype(float)))  # hold the level at its optimum for the next ones
            lo.append(np.array([-np.inf]))
            hi.append(np.array([float(costs[j] @ x)]))
    answer = assigned if x is x0 else _pairs(setup, model, x)
    if open_bound is not None:  # the locked pairs' part, the same for every point of the model
        open_bound += pair_level_values(setup.prep, answer, spec)[proven] - int(costs[proven] @ x)
    return answer, proven, open_bound


def first_bound(costs: list[np.ndarray], bound: float) -> int:
    """A lower bound on costs[0] @ x, for every 0/1 point x, from one on _merged(costs) @ x (undoing the merge: the
    lower levels' costs at their largest)."""
    b = math.ceil(bound - 1e-9 * max(1.0, abs(bound)))  # HiGHS's bound, less its last bits
    steps = _merge(costs)[1]
    for (g, reach), nxt in reversed(list(zip(steps, costs[1:]))):  # merged = (previous // g) * (reach + 1) + nxt
        most = int(np.maximum(nxt, 0).sum())  # nxt's largest value at a 0/1 point
        b = g * -((most - b) // (reach + 1)) if g else 0  # previous / g is an integer >= (b - most) / (reach + 1)
    return b


def _pairs(setup: Setup, model: _Model, x: np.ndarray) -> np.ndarray:
    # The answer at a point of the model: the locked pairs and the free pairs it uses (sorted pair indices).
    return np.sort(np.concatenate([setup.lock_pairs, model.free[x[: len(model.free)] > 0.5]]))


def _point(setup: Setup, model: _Model, x: np.ndarray) -> np.ndarray:
    # A MILP's answer as the model point of its pairs: teams and load steps recomputed from them (where the objective
    # does not price the steps, HiGHS may leave them fractional, and the next MILP starts from this point).
    again = _incidence(setup, model, _pairs(setup, model, x))
    return x if again is None else again


def _reseated(setup: Setup, model: _Model, cost: np.ndarray, rows: list[sp.csr_matrix], lo: list[np.ndarray],
              hi: list[np.ndarray], x: np.ndarray, reseat: Callable[[np.ndarray], np.ndarray | None] | None
              ) -> np.ndarray:
    # The answer with everyone but its days-bound specialists and teams re-solved as a network, exactly on every
    # level: taken when it keeps every row (the rules, the levels held) and is better on this level's cost.
    if reseat is None:
        return x
    again = reseat(_pairs(setup, model, x))
    xr = None if again is None else _incidence(setup, model, again)
    if xr is None:
        return x
    ax = sp.vstack(rows, format="csr") @ xr
    if (ax < np.concatenate(lo) - 1e-6).any() or (ax > np.concatenate(hi) + 1e-6).any() or not cost @ xr < cost @ x:
        return x
    return xr


def crossover_share(left: float, last_s: float) -> float:
    """The share of the time left a crossover may take: all of it when less is left than the last full MILP took
    (the next one, over the same model, would rarely finish: the 2,000-village city at a 30 s limit kept 79,666 km of
    travel with a quarter, 70,782 km with all), else CROSSOVER_SHARE."""
    return 1.0 if left < last_s else CROSSOVER_SHARE


def _crossover(model: _Model, cost: np.ndarray, rows: list[sp.csr_matrix], lo: list[np.ndarray], hi: list[np.ndarray],
               first: np.ndarray, x: np.ndarray, deadline: float, should_stop: Callable[[], bool] | None, *,
               seed: int = 0, share: float = CROSSOVER_SHARE) -> np.ndarray:
    # The level's MILP over only the pairs of the first answer and of `x` (teams and load steps free): small, so
    # solved in seconds, and at least as good as `x`; a heuristic for the levels a proof may not reach in time.
    n = len(model.free)
    keep = np.ones(model.n_vars, dtype=bool)
    keep[:n] = (first[:n] > 0.5) | (x[:n] > 0.5)
    cols = np.flatnonzero(keep)
    left = deadline - time.perf_counter()
    found = solve_milp(cost[cols].astype(float), sp.vstack(rows, format="csc")[:, cols].tocsr(), np.concatenate(lo),
                       np.concatenate(hi), _integrality(model, cost)[cols], time.perf_counter() + share * left,
                       should_stop, start=x[cols], seed=seed)
    if found is None or not cost[cols] @ found.x < cost @ x:
        return x
    out = np.zeros(model.n_vars)
    out[cols] = found.x
    return out


def _groups(costs: list[np.ndarray], start: int, tie_breakers: set[int] | frozenset[int] = frozenset()
            ) -> list[list[int]]:
    # The levels from `start` on, consecutive ones joined where one integer objective holds them exactly with small
    # coefficients (city: match and continuity, one MILP of 25 s instead of two of 12 s and 73 s); a tie-breaker
    # level (balance) joins the level above it up to TIE_BREAK_UP_TO.
    out: list[list[int]] = []
    for j in range(start, len(costs)):
        limit = TIE_BREAK_UP_TO if j in tie_breakers else MERGE_UP_TO
        if out and np.abs(_merged([costs[i] for i in out[-1]] + [costs[j]])).max(initial=0) <= limit:
            out[-1].append(j)
        else:
            out.append([j])
    return out


def _merged(costs: list[np.ndarray]) -> np.ndarray:
    # One integer cost whose minimum is the lexicographic minimum of `costs` (see _merge).
    return _merge(costs)[0]


def _merge(costs: list[np.ndarray]) -> tuple[np.ndarray, list[tuple[int, int]]]:
    # Each level's cost so far, divided by its gcd g, is scaled past the whole range the next one can take (reach: at
    # most the sum of its absolute coefficients): the merged cost, and (g, reach) of each step.
    out, steps = costs[0].astype(np.int64), []
    for nxt in costs[1:]:
        g = int(np.gcd.reduce(np.abs(out))) if len(out) else 0
        reach = int(np.abs(nxt).sum())
        steps.append((g, reach))
        out = (out // g if g else out) * (reach + 1) + nxt
    return out, steps


def _incidence(setup: Setup, model: _Model, assigned: np.ndarray) -> np.ndarray | None:
    # The answer as a point of the model (its free pairs, teams used, load steps); None if it is not one.
    prep = setup.prep
    x = np.zeros(model.n_vars)
    pos = np.full(len(prep.ps), -1)
    pos[model.free] = np.arange(len(model.free))
    mine = assigned[~setup.fixed[assigned]]
    if (pos[mine] < 0).any():
        return None
    x[pos[mine]] = 1
    n, m = len(model.free), len(model.steps)
    load = np.bincount(prep.ps[mine], minlength=len(prep.spec_ids))
    for j, (t, _) in enumerate(model.teams):
        x[n + j] = 1.0 if load[t] > 0 else 0.0
    if m:
        first = np.concatenate([[0], np.cumsum(setup.cap_eff)])[:-1]
        k = np.arange(m) - first[model.step_of]
        x[model.n_vars - m:] = (k < load[model.step_of]).astype(float)
    return x


def _level_cost(setup: Setup, model: _Model, names: list[str]) -> np.ndarray:
    # One level's integer cost per variable: its criteria weighted as solver.levels weighs them.
    weights = setup.prep.params.level_weights
    cost = np.zeros(model.n_vars, dtype=np.int64)
    for name in names:
        w = float(weights.get(name, 1.0)) if len(names) > 1 else 1.0
        cost += np.rint(w * _criterion(setup, model, name)).astype(np.int64)
    return cost


def _model(setup: Setup, *, balance: bool, usable: np.ndarray | None = None) -> _Model | None:
    # Every hard rule over the free (and usable) pairs: village demand, capacity, days budget, team rule, max_changes.
    prep = setup.prep
    n_s, n_v = len(prep.spec_ids), len(prep.vil_ids)
    days_left = prep.s_days - setup.days0
    usable_mask = usable if usable is not None else np.ones(len(prep.ps), dtype=bool)
    free = np.flatnonzero(~setup.fixed & (setup.cap_eff[prep.ps] > 0) & (setup.req_res[prep.pv] > 0)
                          & (prep.days <= days_left[prep.ps] + 1e-9) & usable_mask)
    if len(free) > EXACT_UP_TO:
        return None
    s, v = prep.ps[free], prep.pv[free]
    teams = [(t, ms) for t, ms in sorted(setup.teams.items()) if setup.cap_eff[t] > 0 and setup.cap_eff[ms].sum() > 0]
    step_of = np.repeat(np.arange(n_s), setup.cap_eff) if balance else np.zeros(0, dtype=np.int64)
    first = np.concatenate([[0], np.cumsum(setup.cap_eff)])[:-1] if balance else np.zeros(0, dtype=np.int64)
    k = np.arange(len(step_of)) - first[step_of] + 1 if balance else np.zeros(0, dtype=np.int64)
    steps = 2 * (setup.load0[step_of] + k) - 1
    n, g, m = len(free), len(teams), len(step_of)
    n_vars = n + g + m
    cols = np.arange(n)
    blocks = [sp.csr_matrix((np.ones(n), (v, cols)), shape=(n_v, n_vars)),
              sp.csr_matrix((np.ones(n), (s, cols)), shape=(n_s, n_vars))]
    lo = [np.full(n_v, -np.inf), np.full(n_s, -np.inf)]
    hi = [setup.req_res.astype(float), setup.cap_eff.astype(float)]
    finite = np.isfinite(prep.s_days)
    blocks.append(sp.csr_matrix((prep.days[free] * finite[s], (s, cols)), shape=(n_s, n_vars)))
    lo.append(np.full(n_s, -np.inf))
    hi.append(np.where(finite, days_left, 0.0))
    for j, (t, ms) in enumerate(teams):  # team used (y = 1): members idle; y = 0: the team idle
        on_t, on_m = cols[s == t], cols[np.isin(s, ms)]
        blocks.append(sp.csr_matrix((np.r_[np.ones(len(on_t)), -float(setup.cap_eff[t])],
                                     (np.zeros(len(on_t) + 1, dtype=np.int64), np.r_[on_t, n + j])), shape=(1, n_vars)))
        blocks.append(sp.csr_matrix((np.r_[np.ones(len(on_m)), float(n)],
                                     (np.zeros(len(on_m) + 1, dtype=np.int64), np.r_[on_m, n + j])), shape=(1, n_vars)))
        lo += [np.array([-np.inf]), np.array([-np.inf])]
        hi += [np.zeros(1), np.array([float(n)])]
    if balance:  # each specialist's load equals its used steps
        blocks.append(sp.csr_matrix((np.r_[np.ones(n), -np.ones(m)], (np.r_[s, step_of], np.r_[cols, n + g + np.arange(m)])),
                                    shape=(n_s, n_vars)))
        lo.append(np.zeros(n_s))
        hi.append(np.zeros(n_s))
    if prep.params.max_changes is not None:  # at most max_changes of last season's pairs dropped: the rest kept
        prev, total = previous_keys(prep)
        col = np.full(len(prep.ps), -1, dtype=np.int64)
        col[free] = cols
        on = col[prev][col[prev] >= 0]
        blocks.append(sp.csr_matrix((np.ones(len(on)), (np.zeros(len(on), dtype=np.int64), on)), shape=(1, n_vars)))
        lo.append(np.array([float(total - prep.params.max_changes - int(setup.fixed[prev].sum()))]))
        hi.append(np.array([np.inf]))
    return _Model(free, n_vars, sp.vstack(blocks, format="csr"), np.concatenate(lo), np.concatenate(hi),
                  steps.astype(np.int64), step_of, teams)


def _integrality(model: _Model, cost: np.ndarray) -> np.ndarray:
    # Pairs and teams are binary; balance steps are continuous (the convex costs fill them in order), except where
    # the objective prices them: integral there too, so HiGHS sees an integral objective and prunes by whole units.
    out = np.ones(model.n_vars)
    steps = slice(model.n_vars - len(model.steps), model.n_vars)
    if not cost[steps].any():
        out[steps] = 0
    return out


def _criterion(setup: Setup, model: _Model, name: str) -> np.ndarray:
    # Integer cost per variable of one criterion (minimised; maximised ones negated), as solver.levels counts it.
    prep, free = setup.prep, model.free
    c = np.zeros(model.n_vars, dtype=np.int64)
    n = len(free)
    if name == "coverage":  # a pair adds its village's weight: demand caps each village at its remaining units
        c[:n] = -prep.v_weight[prep.pv[free]]
    elif name == "match":
        c[:n] = -np.rint(prep.score[free] * UNIT_SCALE["match"]).astype(np.int64)
    elif name == "continuity":
        c[:n] = -prep.cont[free].astype(np.int64)
    elif name == "travel":
        c[:n] = np.rint(prep.dist[free] * UNIT_SCALE["travel"]).astype(np.int64)
    elif name == "balance":
        c[model.n_vars - len(model.steps):] = model.steps
    return c


def prove_rest(setup: Setup, spec: list[list[str]], assigned: np.ndarray, bounds: list[int], proven: list[bool],
               deadline: float, should_stop: Callable[[], bool] | None = None, usable: np.ndarray | None = None,
               on_proven: Callable[[int, int], None] | None = None,
               reseat: Callable[[np.ndarray], np.ndarray | None] | None = None
               ) -> tuple[np.ndarray, list[int], list[bool], str]:
    """Try to prove the levels the answer has not proven, on a small instance (or one that reduced-cost fixing
    made small: `usable`, see finish_exactly): (answer, bounds, proven, note)."""
    values = pair_level_values(setup.prep, assigned, spec)
    held = 0
    while held < len(spec) and proven[held] and values[held] == bounds[held]:
        held += 1
    if held == len(spec) or time.perf_counter() + MIN_LEVEL_S > deadline:
        return assigned, bounds, proven, ""
    try:
        answer, done, open_bound = finish_exactly(setup, spec, assigned, held, deadline, should_stop, usable, on_proven,
                                                  reseat)
    except Exception as exc:  # the proof is a bonus: the answer stands without it (a HiGHS numerical failure)
        return assigned, bounds, proven, f"; exact finish not used ({type(exc).__name__}: {exc})"
    changed = answer is not assigned
    if done == held and not changed and open_bound is None:
        return assigned, bounds, proven, ""
    bounds, proven = after_finish(pair_level_values(setup.prep, answer, spec), bounds, proven, held, done, changed,
                                  open_bound)
    over = "the free pairs" if usable is None else "the free pairs reduced-cost fixing left"
    note = ""
    if done > held:
        note = f"; {', '.join('+'.join(spec[i]) for i in range(held, done))} proven optimal by exact MILPs over {over} (HiGHS)"
    bounded = open_bound is not None and bounds[done] == open_bound  # the cut MILP's bound is the best this level has
    if bounded:
        note += f"; {'+'.join(spec[done])} bounded by its exact MILP, cut by the time limit (HiGHS's proven bound)"
    first_unproven = done + 1 if bounded else done
    if changed and first_unproven < len(spec):
        note += (f"; {', '.join('+'.join(spec[i]) for i in range(first_unproven, len(spec)))} from the exact finish's "
                 "last answer (a MILP cut by the time limit, or no time for one), unproven")
    return answer, bounds, proven, note


def after_finish(values: list[int], bounds: list[int], proven: list[bool], held: int, done: int, changed: bool,
                 open_bound: int | None = None) -> tuple[list[int], list[bool]]:
    """Bounds and proofs once the exact finish has proven levels held..done-1 (values: the answer's, now): those are
    their own bounds; a changed answer voids the bounds below them, which held for the old answer's higher levels,
    except the first open level's when no level above it moved (nothing proven: a MILP cut with a better answer).
    `open_bound`: a bound on level `done` from its cut MILP, which holds since every level above it is proven."""
    out_b, out_p = list(bounds), list(proven)
    for i in range(len(values)):
        if i < done:
            out_b[i], out_p[i] = values[i], True
        elif changed and not (i == held == done):
            out_b[i], out_p[i] = values[i], False
    if open_bound is not None and done < len(values):
        out_b[done] = max(out_b[done], open_bound) if out_p[done] else open_bound
        out_p[done] = True
    return out_b, out_p
