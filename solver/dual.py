"""Better village prices for the Lagrangian bound, by column generation, and a plan from the master LP.

The network's duals price villages as if the side rules did not exist. Every
village's price is re-optimised by a linear programme over the villages' demand
rows (Dantzig-Wolfe master: one column per pair of an ordinary specialist, one
column per answer of a team or of a specialist whose days can bind). Its duals
are new prices; the exact Lagrangian value at those (integer) prices is a valid
bound whatever the linear programme did, and the answers at the new prices add
columns for the next round. Stops when nothing new prices in or the time is up;
keeps the best bound seen.

Up to a city's size (SIMPLEX_UP_TO villages) the master is solved exactly by
HiGHS's dual simplex. Beyond it (a province: 30,000 rows and more, where the
simplex takes seconds a round) by PDLP, OR-Tools' first-order LP solver, on the
run's worker threads, warm-started from the last round. Its duals are
approximate, which only makes the trial prices approximate.

The last master LP is also a fractional answer that respects demand: each
team's and days-bound specialist's pattern of greatest weight there is its
plan, which guides the restricted re-solves (city: 15715.5 with the plan
against 15704.5 with the answers at the same prices, whose ties collide;
province: 137336 against 137290.5 with a plan from the conflict region alone).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import replace

import numpy as np
import scipy.sparse as sp
from ortools.pdlp import solve_log_pb2, solvers_pb2
from ortools.pdlp.python import pdlp
from scipy.optimize import linprog

from solver.lagrange import Answer, Relaxation, evaluate

NEW_ARCS_PER_ROUND = 3000
SIMPLEX_UP_TO = 5000  # villages: a city's master by the exact simplex, a bigger one by PDLP (province: the bound
# 137350 against 137486.5 when only the conflict region was priced, by the simplex)
FIRST_ORDER_TOL = (3e-3, 1e-5)  # PDLP's relative tolerance: the first, and the last after tightening tenfold each time
# a round gains nothing (province: -124 points in 12.8 s at 3e-3, -66 in 15 s at 1e-4)
PLAN_EVERY = 2  # rounds between the plans kept in case the time runs out before the last round
MAX_STEP = 0.5  # points of the second level a price may fall or rise per round: a small box around the best
# prices so far keeps column-poor rounds from wild prices (province: 44 points lower in 12 rounds, 0 with a 50-point box)


class Pricer:
    """Column generation on the village prices, kept between calls so a later call goes on where the last
    stopped (the master keeps its columns): the best prices, their answer, and the master LP's plan."""

    def __init__(self, r: Relaxation, prices: np.ndarray, start: Answer, prefer: np.ndarray, unit: float,
                 threads: int = 1) -> None:
        self.r, self.prefer, self.unit = r, prefer, unit
        self.prices, self.answer, self.plan = prices, start, start
        self.first_order = len(r.req) > SIMPLEX_UP_TO  # the master LP is solved by PDLP on `threads` threads
        self.threads = max(1, threads)
        self.master: _Master | None = None
        self.simple_arc = np.zeros(len(r.gain), dtype=bool)
        self.done = len(r.req) == 0  # nothing (left) to price
        self.total = 0  # LP rounds run so far, over all calls
        self.checkpoint: tuple[int, Answer] | None = None  # the plan after the last round that is a multiple of
        # PLAN_EVERY: a refinement cut short by time still has a plan taken at a fixed round

    def run(self, max_rounds: int, deadline: float, should_stop: Callable[[], bool] | None = None,
            on_bound: Callable[[int], None] | None = None) -> int:
        """Lower the Lagrangian bound by re-pricing every village; returns the LP rounds run.

        At most `max_rounds` LP rounds (so the same input gives the same prices), and none after `deadline`
        (perf_counter time, a safety net). `on_bound` hears every better bound as it is found. The plan is
        the answer with every team's and days-bound specialist's answer replaced by the pattern the last
        master LP weighs most: one consistent choice where the Lagrangian answers tie or collide."""
        stop = should_stop if should_stop is not None else (lambda: False)
        if self.done or max_rounds <= 0 or time.perf_counter() >= deadline or stop():
            return 0
        if self.master is None:
            self._open_master()
        return self._rounds(max_rounds, deadline, stop, on_bound)

    def _open_master(self) -> None:
        # The master: ordinary specialists' best arcs at the starting prices, and the units' answers.
        r, prices = self.r, self.prices
        units = _units(r)
        in_unit = np.zeros(len(r.cap), dtype=bool)
        for members in units:
            in_unit[members] = True
        self.simple_arc = ~in_unit[r.s]
        self.master = _Master(r, self.simple_arc, units, prices, self.unit,
                              self.threads if self.first_order else 0)
        self.master.add_arcs(_initial_arcs(r, prices, self.prefer, self.simple_arc))
        self.master.add_patterns(self.answer)

    def _rounds(self, max_rounds: int, deadline: float, stop: Callable[[], bool],
                on_bound: Callable[[int], None] | None) -> int:
        # Column generation; the LP prices changes inside a box around the best prices so far, which move only
        # when the bound improves. Returns the rounds run; done once nothing new prices in (at PDLP's last
        # tolerance).
        r, master, unit = self.r, self.master, self.unit
        assert master is not None
        rounds = 0
        while rounds < max_rounds and time.perf_counter() < deadline and not stop():
            rounds += 1
            duals = master.solve(deadline)
            if master.cut:  # out of time inside the LP: the round does not count, so no plan depends on it
                rounds -= 1
                break
            if duals is None:
                self.done = True
                break
            pi, sigma = duals
            reduced = master.value - pi[r.v] - sigma[r.s]
            cand = np.flatnonzero(self.simple_arc & (reduced > 1e-7) & ~master.has_arc)
            cand = cand[np.argsort(-reduced[cand], kind="stable")][:NEW_ARCS_PER_ROUND]
            added = master.add_arcs(cand)
            trial = np.maximum(0, self.prices + np.rint(pi * unit).astype(np.int64))
            answer = evaluate(r, trial, self.prefer, since=(self.prices, self.answer))
            added += master.add_patterns(answer)
            moved = answer.value < self.answer.value
            if moved:
                self.prices, self.answer = trial, answer
                master.recentre(trial)
                if on_bound is not None:
                    on_bound(answer.value)
            self.total += 1
            if self.total % PLAN_EVERY == 0:
                self.checkpoint = (self.total, master.plan(self.answer))
            if added == 0 and not moved and not master.tighten():
                self.done = True
                break
        if rounds and not master.cut:
            self.plan = master.plan(self.answer)
        return rounds


def _units(r: Relaxation) -> list[np.ndarray]:
    # Teams with their members, and single specialists whose days can bind: one convexity row each.
    grouped = np.zeros(len(r.cap), dtype=bool)
    out = []
    for t, ms in r.groups:
        out.append(np.array([t, *ms], dtype=np.int64))
        grouped[[t, *ms]] = True
    out += [np.array([s], dtype=np.int64) for s in np.flatnonzero(r.critical & ~grouped)]
    return out


def _initial_arcs(r: Relaxation, prices: np.ndarray, prefer: np.ndarray, simple_arc: np.ndarray) -> np.ndarray:
    # Each ordinary specialist's network pairs and its best few arcs at the starting prices.
    q = r.gain - prices[r.v]
    idx = np.flatnonzero(simple_arc)
    order = idx[np.lexsort((-q[idx], r.s[idx]))]
    s_o = r.s[order]
    rank = np.arange(len(order)) - np.searchsorted(s_o, s_o)
    top = order[rank < r.cap[s_o] + 3]
    return np.union1d(top, np.flatnonzero(simple_arc & prefer))


class _Master:
    # Restricted master LP: arc columns of ordinary specialists and pattern columns of units. `threads` > 0:
    # solved by PDLP on that many threads, warm-started from the last round; 0: HiGHS's dual simplex.
    def __init__(self, r: Relaxation, simple_arc: np.ndarray, units: list[np.ndarray],
                 prices: np.ndarray, unit: float, threads: int = 0) -> None:
        self.r, self.unit, self.threads = r, unit, threads
        n_v = len(r.req)  # rows: one per village (its demand), ordinary specialist (capacity), unit (convexity)
        simple_specs = np.unique(r.s[simple_arc])
        self.row_of_s = np.full(len(r.cap), -1, dtype=np.int64)
        self.row_of_s[simple_specs] = n_v + np.arange(len(simple_specs))
        self.unit_of = np.full(len(r.cap), -1, dtype=np.int64)
        for k, members in enumerate(units):
            self.unit_of[members] = k
        self.unit_row0 = n_v + len(simple_specs)
        self.n_rows = self.unit_row0 + len(units)
        self.n_v = n_v
        self.rhs = np.concatenate([r.req, r.cap[simple_specs], np.ones(len(units))]).astype(np.float64)
        self.step = max(MAX_STEP, 1.0 / unit)  # the box, in points; at least one unit of price
        self.recentre(prices)
        self.has_arc = np.zeros(len(r.gain), dtype=bool)
        self.arcs: list[np.ndarray] = []
        self.patterns: list[tuple[int, np.ndarray]] = []
        self.pattern_rows: list[np.ndarray] = []  # per pattern its rows (villages, then its unit's)
        self.seen: set[tuple[int, tuple[int, ...]]] = set()
        self.weight: list[float] = []  # each pattern's weight in the last LP
        self.tol = FIRST_ORDER_TOL[0]
        self.warm: tuple[int, int, np.ndarray, np.ndarray] | None = None  # arcs, patterns, primal, dual
        self.cut = False  # the last solve stopped at the deadline, so its answer depends on the machine's speed

    def recentre(self, prices: np.ndarray) -> None:
        """Price changes are measured from `prices`: arc values net of them, and how far each may fall."""
        self.value = (self.r.gain - prices[self.r.v]).astype(np.float64) / self.unit
        self.slack_cost = -np.minimum(prices / self.unit, self.step)  # leaving a unit of demand: its price falls
        self.surplus_cost = np.full(self.n_v, -self.step)  # a unit beyond its demand: its price may rise that far

    def tighten(self) -> bool:
        """A first-order master solves more exactly from now on; False if it cannot (simplex, or at the last)."""
        if self.threads <= 0 or self.tol / 10 < FIRST_ORDER_TOL[1]:
            return False
        self.tol /= 10
        return True

    def add_arcs(self, arcs: np.ndarray) -> int:
        arcs = arcs[~self.has_arc[arcs]]
        self.has_arc[arcs] = True
        if len(arcs):
            self.arcs.append(arcs)
        return len(arcs)

    def add_patterns(self, answer: Answer) -> int:
        r = self.r
        chosen = np.flatnonzero(answer.chosen & (self.unit_of[r.s] >= 0))
        units = self.unit_of[r.s[chosen]]
        added = 0
        for k in np.unique(np.r_[units, np.arange(self.n_rows - self.unit_row0)]):
            arcs = chosen[units == k]
            if (int(k), tuple(arcs.tolist())) not in self.seen:
                self._add_pattern(int(k), arcs)
                added += 1
        return added

    def _add_pattern(self, k: int, arcs: np.ndarray) -> None:
        r = self.r
        self.seen.add((k, tuple(arcs.tolist())))
        self.patterns.append((k, arcs))
        self.pattern_rows.append(np.r_[r.v[arcs], self.unit_row0 + k])
        self.weight.append(0.0)

    def solve(self, deadline: float = float("inf")) -> tuple[np.ndarray, np.ndarray] | None:
        """Solve the master; price changes per village and specialist duals."""
        r = self.r
        arcs = np.concatenate(self.arcs) if self.arcs else np.zeros(0, np.int64)
        n_a, n_p = len(arcs), len(self.patterns)
        lens = np.array([len(x) for x in self.pattern_rows], dtype=np.int64)
        row = np.concatenate([r.v[arcs], self.row_of_s[r.s[arcs]], *self.pattern_rows])
        col = np.concatenate([np.arange(n_a), np.arange(n_a), np.repeat(n_a + np.arange(n_p), lens)])
        p_arcs = np.concatenate([p for _, p in self.patterns]) if n_p else np.zeros(0, np.int64)
        p_value = np.bincount(np.repeat(np.arange(n_p), lens - 1),
                              weights=self.value[p_arcs], minlength=n_p)
        n_cols, nl = n_a + n_p, self.n_v
        a = sp.csr_matrix((np.ones(len(row)), (row, col)), shape=(self.n_rows, n_cols))
        eye = sp.identity(nl, format="csr")
        a_eq = sp.hstack([a[:nl], eye, -eye], format="csr")  # demand rows, with slack and surplus
        a_ub = sp.hstack([a[nl:], sp.csr_matrix((self.n_rows - nl, 2 * nl))], format="csr")
        cost = -np.concatenate([self.value[arcs], p_value, self.slack_cost, self.surplus_cost])
        if self.threads > 0:
            solved = self._first_order(cost, a_eq, a_ub, n_a, n_p, deadline)
        else:
            res = linprog(cost, A_ub=a_ub, b_ub=self.rhs[nl:], A_eq=a_eq, b_eq=self.rhs[:nl], bounds=(0, None),
                          method="highs-ds")
            solved = None if res.status != 0 else (np.asarray(res.x), np.asarray(res.eqlin.marginals),
                                                    np.asarray(res.ineqlin.marginals))
        if solved is None:
            return None
        x, y_eq, y_ub = solved
        self.weight = [float(w) for w in x[n_a:n_cols]]
        pi = -y_eq  # price change of each village
        sigma = np.zeros(len(r.cap))
        simple = self.row_of_s >= 0
        sigma[simple] = -y_ub[self.row_of_s[simple] - nl]
        sigma[self.unit_of >= 0] = np.inf  # unit specialists price through patterns, never as arcs
        return pi, sigma

    def _first_order(self, cost: np.ndarray, a_eq: sp.csr_matrix, a_ub: sp.csr_matrix, n_a: int, n_p: int,
                     deadline: float) -> tuple[np.ndarray, np.ndarray, np.ndarray] | None:
        # PDLP on the same LP, from the last round's primal and dual (new columns start at 0). Its duals are
        # approximate, which only makes the trial prices approximate: the bound is the exact Lagrangian value.
        nl = self.n_v
        qp = pdlp.QuadraticProgram()
        qp.objective_vector = cost
        qp.constraint_matrix = sp.vstack([a_eq, a_ub], format="csc")
        qp.constraint_lower_bounds = np.concatenate([self.rhs[:nl], np.full(self.n_rows - nl, -np.inf)])
        qp.constraint_upper_bounds = self.rhs.copy()
        qp.variable_lower_bounds = np.zeros(len(cost))
        qp.variable_upper_bounds = np.full(len(cost), np.inf)
        params = solvers_pb2.PrimalDualHybridGradientParams()
        criteria = params.termination_criteria
        criteria.simple_optimality_criteria.eps_optimal_relative = self.tol
        criteria.simple_optimality_criteria.eps_optimal_absolute = self.tol
        criteria.time_sec_limit = max(0.1, deadline - time.perf_counter())
        params.num_threads = self.threads
        params.verbosity_level = 0
        start = None
        if self.warm is not None:
            w_a, w_p, x0, y0 = self.warm
            x = np.zeros(len(cost))
            x[:w_a], x[n_a:n_a + w_p], x[n_a + n_p:] = x0[:w_a], x0[w_a:w_a + w_p], x0[w_a + w_p:]
            start = pdlp.PrimalAndDualSolution()
            start.primal_solution, start.dual_solution = x, y0
        res = pdlp.primal_dual_hybrid_gradient(qp, params, start)
        self.cut = res.solve_log.termination_reason == solve_log_pb2.TERMINATION_REASON_TIME_LIMIT
        x, y = np.asarray(res.primal_solution), np.asarray(res.dual_solution)
        if len(x) != len(cost) or not (np.isfinite(x).all() and np.isfinite(y).all()):
            return None
        self.warm = (n_a, n_p, x, y)
        return np.maximum(x, 0.0), y[:nl], y[nl:]

    def plan(self, answer: Answer) -> Answer:
        """`answer` with each unit's answer replaced by its pattern of greatest weight in the last LP."""
        r = self.r
        best: dict[int, tuple[float, np.ndarray]] = {}
        for (k, p), w in zip(self.patterns, self.weight):
            if w > best.get(k, (1e-9, p))[0]:
                best[k] = (w, p)
        chosen = answer.chosen.copy()
        sides = dict(answer.team_side)
        for k, (_, p) in best.items():
            for x in np.flatnonzero(self.unit_of == k):
                chosen[r.starts[x]:r.starts[x + 1]] = False
            chosen[p] = True
        for t, _ in r.groups:
            k = int(self.unit_of[t])
            if k in best and len(best[k][1]):
                sides[t] = bool((r.s[best[k][1]] == t).any())
        return replace(answer, chosen=chosen, team_side=sides)
