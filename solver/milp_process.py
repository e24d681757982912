"""One MILP (HiGHS, via highspy, started from a known answer) that keeps the run's time limit and can be cancelled.

HiGHS cannot be interrupted, and overran its own time limit by a quarter on a county's MILP. So a model runs
in a child process (`python -m solver.milp_process IN OUT`), which is killed at the deadline or when the run is
stopped, and dies with the process that started it; a tiny one first gets IN_PROCESS_S in this process, where starting
a child would cost more than most such solves.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import highspy
import numpy as np
import scipy.sparse as sp

IN_PROCESS_UP_TO = 2_000  # variables: a MILP this small usually takes milliseconds (not always: knapsacks)
IN_PROCESS_S = 0.3  # the most a MILP may run in this process, where nothing can stop it; then it goes to a child
HANDOVER_S = (1.5, 0.1)  # HiGHS's own limit is the time left less the larger of 1.5 s and a tenth of it (the child's
# start, HiGHS overrunning its limit), so it can hand over its best answer before it is killed
POLL_S = 0.05
SUB_MIPS_OFF = ("mip_heuristic_run_rins", "mip_heuristic_run_rens", "mip_heuristic_run_root_reduced_cost")  # every
# MILP here starts from a good answer, and these improvement sub-MIPs took most of the root's time (68 of 107 s in
# the city's travel+balance MILP); without them, twelve runs of the city's and the demo city's MILPs (three seeds
# each) took 206 s in all against 289 s, faster in nine
PREFIX = "jiedui-milp-"  # temporary folders: jiedui-milp-<pid of the solving process>-<random>


@dataclass
class Found:
    x: np.ndarray
    optimal: bool  # proven optimal; else the best answer HiGHS had when its time ran out
    bound: float = -np.inf  # HiGHS's proven lower bound on the optimum (-inf: none yet)


def solve_milp(cost: np.ndarray, a: sp.csr_matrix, lo: np.ndarray, hi: np.ndarray, integrality: np.ndarray,
               deadline: float, should_stop: Callable[[], bool] | None = None, start: np.ndarray | None = None,
               seed: int = 0) -> Found | None:
    """Minimise cost @ x over lo <= a x <= hi, 0 <= x <= 1 (integral where `integrality`): the optimal x, or the
    best x found when the time ran out, or None when a stop came first or nothing was found in time. `start`: a
    feasible x HiGHS begins from; `seed`: HiGHS's random seed (the run's)."""
    first = np.zeros(0) if start is None else np.asarray(start, dtype=float)
    if len(cost) <= IN_PROCESS_UP_TO:
        quick = _solve(cost, a, lo, hi, integrality, min(IN_PROCESS_S, max(0.0, deadline - time.perf_counter())),
                       first, seed)
        if quick is not None and quick.optimal:
            return quick
    try:
        return _in_child(cost, a, lo, hi, integrality, deadline, should_stop, first, seed)
    except OSError:  # no process or no temporary file to be had (fork refused, /tmp full): the level stays unproven
        return None


def _in_child(cost: np.ndarray, a: sp.csr_matrix, lo: np.ndarray, hi: np.ndarray, integrality: np.ndarray,
              deadline: float, should_stop: Callable[[], bool] | None, start: np.ndarray, seed: int
              ) -> Found | None:
    # The MILP in a child process, killed at the deadline or when the run stops.
    _sweep_stale(Path(tempfile.gettempdir()))
    with tempfile.TemporaryDirectory(prefix=f"{PREFIX}{os.getpid()}-") as folder:
        given, got = Path(folder) / "in.npz", Path(folder) / "out.npz"
        np.savez(given, cost=cost, data=a.data, indices=a.indices, indptr=a.indptr, shape=np.array(a.shape),
                 lo=lo, hi=hi, integrality=integrality, start=start, seed=np.array(seed),
                 limit=np.array(_own_limit(deadline - time.perf_counter())))
        child = subprocess.Popen([sys.executable, "-m", "solver.milp_process", str(given), str(got)],
                                 stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            while child.poll() is None:
                if time.perf_counter() > deadline or (should_stop is not None and should_stop()):
                    return None
                time.sleep(POLL_S)
        finally:
            if child.poll() is None:
                child.kill()
                child.wait()
        if child.returncode != 0 or not got.exists():
            return None
        with np.load(got) as out:
            return Found(out["x"], bool(out["optimal"]), float(out["bound"])) if bool(out["ok"]) else None


def _quiet_highs() -> highspy.Highs:
    # A HiGHS instance that printed nothing: its constructor writes a banner to file descriptor 1 before any option
    # can silence it, which would land in the service's log or the CLI's output.
    sys.stdout.flush()
    saved = os.dup(1)
    try:
        with open(os.devnull, "w") as null:
            os.dup2(null.fileno(), 1)
            return highspy.Highs()
    finally:
        os.dup2(saved, 1)
        os.close(saved)


def _own_limit(left: float) -> float:
    # HiGHS's own time limit in a child that is killed after `left` seconds.
    return max(0.0, left - max(HANDOVER_S[0], HANDOVER_S[1] * left))


def _solve(cost: np.ndarray, a: sp.csr_matrix, lo: np.ndarray, hi: np.ndarray, integrality: np.ndarray,
           limit: float, start: np.ndarray, seed: int = 0) -> Found | None:
    # The MILP itself, from `start` when one is given (empty: none): proven optimal (gap 0), or the best answer
    # when the time limit came first, or nothing. A proof whose bound its own answer does not meet is none: HiGHS
    # 1.16's presolve can carry a start into its reduced model as a better point than it is, take that as the
    # incumbent, prune the true optimum and hand back the start as "optimal" (a county of the demo: travel 11428.2 km
    # "proven", the optimum is 11383.6); the MILP is then solved again without the start.
    began = time.perf_counter()
    found = _run(cost, a, lo, hi, integrality, limit, start, seed)
    if found is not None and found.mismatch and len(start):
        again = _run(cost, a, lo, hi, integrality, limit - (time.perf_counter() - began), np.zeros(0), seed)
        if again is not None and (again.optimal or cost @ again.x <= cost @ found.x):  # else the better answer
            return again
    return found


@dataclass
class _Run(Found):
    mismatch: bool = False  # HiGHS said optimal, but its bound is below its answer's value


def _run(cost: np.ndarray, a: sp.csr_matrix, lo: np.ndarray, hi: np.ndarray, integrality: np.ndarray,
         limit: float, start: np.ndarray, seed: int) -> _Run | None:
    # One HiGHS solve; "optimal" only when the bound HiGHS proved reaches the value of the answer it returns
    # (integral costs: within half a unit), and the answer keeps every row.
    h = _quiet_highs()
    for option, value in (("output_flag", False), ("mip_rel_gap", 0.0), ("mip_abs_gap", 0.0),
                          ("time_limit", max(0.0, limit)), ("random_seed", int(seed) % 2_147_483_647),
                          *((name, False) for name in SUB_MIPS_OFF)):
        h.setOptionValue(option, value)
    h.passModel(model(cost, a, lo, hi, integrality))
    if len(start):
        given = highspy.HighsSolution()
        given.col_value = list(map(float, start))
        given.value_valid = True
        h.setSolution(given)
    h.run()
    status = h.getModelStatus()
    optimal = status == highspy.HighsModelStatus.kOptimal
    if not optimal and (status != highspy.HighsModelStatus.kTimeLimit or not h.getSolution().value_valid):
        return None
    x: np.ndarray = np.asarray(h.getSolution().col_value, dtype=float)
    whole = np.asarray(integrality) > 0
    x[whole] = np.rint(x[whole])
    ax, tol = a @ x, 1e-6 * (1.0 + abs(a) @ np.abs(x))  # HiGHS's feasibility tolerance, relative to the row's size
    if (ax < np.asarray(lo) - tol).any() or (ax > np.asarray(hi) + tol).any():
        return None
    bound, value = float(h.getInfo().mip_dual_bound), float(np.asarray(cost, dtype=float) @ x)
    mismatch = optimal and not bound >= value - 0.5
    trusted = np.isfinite(bound) and bound <= value + 0.5 and not mismatch  # a run whose proof did not hold, or a
    # bound above HiGHS's own answer, proves no bound
    return _Run(x, optimal and not mismatch, bound if trusted else -np.inf, mismatch)


def model(cost: np.ndarray, a: sp.csr_matrix, lo: np.ndarray, hi: np.ndarray, integrality: np.ndarray
          ) -> highspy.HighsLp:
    """The MILP min cost @ x over lo <= a x <= hi, 0 <= x <= 1 (integral where `integrality`) as HiGHS takes it."""
    csc = sp.csc_matrix(a)
    lp = highspy.HighsLp()
    lp.num_col_, lp.num_row_ = len(cost), a.shape[0]
    lp.col_cost_ = np.asarray(cost, dtype=float)
    lp.col_lower_, lp.col_upper_ = np.zeros(len(cost)), np.ones(len(cost))
    lp.row_lower_, lp.row_upper_ = np.asarray(lo, dtype=float), np.asarray(hi, dtype=float)
    lp.a_matrix_.format_ = highspy.MatrixFormat.kColwise
    lp.a_matrix_.start_, lp.a_matrix_.index_, lp.a_matrix_.value_ = csc.indptr, csc.indices, csc.data
    lp.integrality_ = [highspy.HighsVarType.kInteger if v else highspy.HighsVarType.kContinuous for v in integrality]
    return lp


def _die_with_parent() -> None:
    # Linux: the kernel kills this process when the thread that started it ends (a worker pool terminated, a
    # kill -9); a thread of ours could not, since HiGHS holds the interpreter lock while it solves.
    if sys.platform.startswith("linux"):
        import ctypes

        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    if os.getppid() == 1:  # the parent died before the signal was armed
        os._exit(1)


def _sweep_stale(root: Path) -> None:
    # Folders of MILPs whose solving process was killed (the child died with it, the folder stayed).
    for folder in root.glob(f"{PREFIX}*-*"):
        pid = folder.name[len(PREFIX):].split("-", 1)[0]
        if pid.isdigit() and not Path(f"/proc/{pid}").exists() and sys.platform.startswith("linux"):
            shutil.rmtree(folder, ignore_errors=True)


def main(given: str, got: str) -> None:
    """Child process: solve the model in `given`, write {ok, x} to `got`."""
    _die_with_parent()
    with np.load(given) as m:
        a = sp.csr_matrix((m["data"], m["indices"], m["indptr"]), shape=tuple(m["shape"]))
        found = _solve(m["cost"], a, m["lo"], m["hi"], m["integrality"], float(m["limit"]), m["start"], int(m["seed"]))
    np.savez(got, ok=np.array(found is not None), optimal=np.array(found is not None and found.optimal),
             x=found.x if found is not None else np.zeros(0), bound=np.array(found.bound if found is not None else -np.inf))


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
