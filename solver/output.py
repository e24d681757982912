"""Turning internal pair indices and level integers into the public result rows."""

from __future__ import annotations

import numpy as np

from solver.build import Setup
from solver.candidates import Prepared
from solver.levels import UNIT_SCALE
from solver.model import MAXIMISED, Assignment, LevelResult


def level_results(
    spec: list[list[str]], values: list[int], bounds: list[int], proven: list[bool]
) -> list[LevelResult]:
    # Natural units per level; a level's bound is a proof only if every higher level met its bound.
    out: list[LevelResult] = []
    tight = True
    for names, v, b, pr in zip(spec, values, bounds, proven):
        single = names[0] if len(names) == 1 else None
        sign = -1 if single in MAXIMISED else 1
        scale = UNIT_SCALE[single] if single else 1
        value, bound = sign * v / scale, sign * b / scale
        ok = tight and pr
        gap = abs(bound - value) / max(1.0, abs(bound)) if ok else None
        out.append(
            LevelResult(
                "+".join(names),
                value,
                bound if pr else None,
                gap,
                "max" if sign < 0 else "min",
                ok,
            )
        )
        tight = ok and v == b
    return out


def assignments(prep: Prepared, setup: Setup, assigned: np.ndarray) -> list[Assignment]:
    # Output rows with the matched needs and a plain-words reason.
    instance_needs = prep.need_w
    prev_grade = {
        (q.specialist_id, q.village_id): q.grade for q in prep.params.previous
    }
    out = []
    for i in assigned:
        s, v = int(prep.ps[i]), int(prep.pv[i])
        matched = [
            (prep.industries[k], int(prep.prof[s, k]), float(instance_needs[v, k]))
            for k in np.flatnonzero((instance_needs[v] > 0) & (prep.prof[s] > 0))
        ]
        sid, vid = prep.spec_ids[s], prep.vil_ids[v]
        parts = [
            f"covers {', '.join(f'{ind} (proficiency {lv})' for ind, lv, _ in matched)}"
            if matched
            else "no registered expertise match (override)"
        ]
        parts.append(
            f"{prep.dist[i]:.1f} km{' (estimated from divisions)' if prep.est[i] else ''}, "
            f"{prep.days[i]:g} days incl. {prep.travel_days[i]:g} travel"
        )
        if prep.cont[i]:
            parts.append(
                f"continues last season's pairing graded {prev_grade.get((sid, vid))}"
            )
        if prep.locked[i]:  # a renewal locks the pairings it keeps: they are last season's
            parts.append("kept: locked as last season's pairing" if (sid, vid) in prev_grade else "locked by the user")
        out.append(
            Assignment(
                sid,
                vid,
                float(prep.score[i]),
                matched,
                round(float(prep.dist[i]), 2),
                bool(prep.est[i]),
                float(prep.travel_days[i]),
                bool(prep.cont[i]),
                bool(prep.locked[i]),
                "; ".join(parts),
            )
        )
    return out
