"""The CP-SAT polish: after the network re-solves, re-optimise the restricted specialists' neighbourhood exactly."""

from __future__ import annotations

import time
from collections.abc import Callable

import numpy as np

from solver import restrict as restrictions
from solver.build import Setup
from solver.levels import pair_level_values
from solver.repair import find_violations, neighbourhood, repair

MAX_POLISH_VARS = 6000  # larger neighbourhoods rarely improve within the polish budget


def polish(
    setup: Setup,
    assigned: np.ndarray,
    spec: list[list[str]],
    r: restrictions.Restrictions,
    deadline: float,
    report: Callable[[str, str | None, float | None, float | None], None],
    should_stop: Callable[[], bool] | None,
    size: dict[str, object],
    bounds: list[int],
) -> tuple[np.ndarray, str]:
    """CP-SAT on the neighbourhood of the restricted specialists; the result is kept only if it keeps every rule and
    is lexicographically better; returns (answer, note for the method)."""
    prep = setup.prep
    budget = (
        prep.params.polish_time_s
        if deadline - time.perf_counter() > 2 * prep.params.polish_time_s
        else deadline - time.perf_counter()
    )
    if budget <= 0.1:
        return assigned, ""
    bad = set(r.violators)
    free = neighbourhood(
        setup, assigned, bad, with_previous=prep.params.max_changes is not None
    )
    size["cpsat_vars"] = len(free)
    if len(free) > MAX_POLISH_VARS:
        return (
            assigned,
            f"; CP-SAT polish skipped ({len(free)} pairs > {MAX_POLISH_VARS})",
        )
    tight = 0
    for v, b in zip(pair_level_values(prep, assigned, spec), bounds):
        if v != b:
            break
        tight += 1
    if tight == len(spec):
        return assigned, ""
    better, text = repair(
        setup,
        assigned,
        free,
        spec,
        budget,
        deadline,
        lambda lv, v, b: report("repair", lv, v, b),
        should_stop,
        keep_levels=tight,
    )
    note = f"; CP-SAT polish on {len(free)} pairs [{text}]"
    if better is None or find_violations(setup, better).any():
        return assigned, note + " not used"
    if pair_level_values(prep, better, spec) < pair_level_values(prep, assigned, spec):
        return better, note + " improved"
    return assigned, note + " no improvement"
