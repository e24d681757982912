"""Objective levels: parsing the level list, per-arc integer costs and the level values of an answer.

Internal units are integers, minimised (maximised criteria are negated): match in hundredths of a
point, travel in tenths of a km, coverage in weighted units, continuity in pairs, balance as sum(load^2).
"""

from __future__ import annotations

import numpy as np

from solver.candidates import Prepared
from solver.model import LEVEL_NAMES
from solver.network import Network

UNIT_SCALE: dict[str, int] = {
    "coverage": 1,
    "match": 100,
    "continuity": 1,
    "travel": 10,
    "balance": 1,
}


def level_spec(levels: tuple[str, ...]) -> list[list[str]]:
    """Parse level entries ("match+continuity") and put coverage alone first."""
    out: list[list[str]] = [["coverage"]]
    for entry in levels:
        names = [
            n.strip() for n in entry.split("+") if n.strip() and n.strip() != "coverage"
        ]
        for n in names:
            if n not in LEVEL_NAMES:
                raise ValueError(f"unknown level {n!r}")
        if names:
            out.append(names)
    return out


def criterion_costs(net: Network, prep: Prepared, name: str) -> np.ndarray:
    """Per-arc integer cost (minimised) of one criterion; maximised criteria are negated."""
    c = np.zeros(len(net.cap), dtype=np.int64)
    pi = net.pair_index
    if name == "coverage":
        c[net.village_arcs] = -prep.v_weight
    elif name == "match":
        c[net.pair_arcs] = -np.rint(prep.score[pi] * UNIT_SCALE["match"]).astype(
            np.int64
        )
    elif name == "continuity":
        c[net.pair_arcs] = -prep.cont[pi].astype(np.int64)
    elif name == "travel":
        c[net.pair_arcs] = np.rint(prep.dist[pi] * UNIT_SCALE["travel"]).astype(
            np.int64
        )
    elif name == "balance":
        c[net.unit_arcs] = 2 * net.unit_step - 1
    return c


def level_costs(
    net: Network, prep: Prepared, spec: list[list[str]]
) -> list[np.ndarray]:
    """Integer cost per level: weighted sum of its criteria (weights from params.level_weights)."""
    weights = prep.params.level_weights
    out = []
    for names in spec:
        total = np.zeros(len(net.cap), dtype=np.int64)
        for n in names:
            w = float(weights.get(n, 1.0)) if len(names) > 1 else 1.0
            total += np.rint(w * criterion_costs(net, prep, n)).astype(np.int64)
        out.append(total)
    return out


def pair_level_values(
    prep: Prepared, assigned: np.ndarray, spec: list[list[str]]
) -> list[int]:
    """Level values (internal minimised integers) of a set of assigned pair indices, locks included."""
    weights = prep.params.level_weights
    n_s, n_v = len(prep.spec_ids), len(prep.vil_ids)
    load = np.bincount(prep.ps[assigned], minlength=n_s)
    per_v = np.bincount(prep.pv[assigned], minlength=n_v)
    raw = {
        "coverage": -int(np.sum(prep.v_weight * np.minimum(per_v, prep.v_req))),
        "match": -int(
            np.rint(prep.score[assigned] * UNIT_SCALE["match"]).astype(np.int64).sum()
        ),
        "continuity": -int(prep.cont[assigned].sum()),
        "travel": int(
            np.rint(prep.dist[assigned] * UNIT_SCALE["travel"]).astype(np.int64).sum()
        ),
        "balance": int(np.sum(load.astype(np.int64) ** 2)),
    }
    out = []
    for names in spec:
        if len(names) == 1:
            out.append(raw[names[0]])
        else:
            out.append(
                int(
                    sum(
                        _weighted(prep, assigned, n, float(weights.get(n, 1.0)), load)
                        for n in names
                    )
                )
            )
    return out


def _weighted(
    prep: Prepared, assigned: np.ndarray, name: str, w: float, load: np.ndarray
) -> int:
    # Weighted criterion total with the same per-arc rounding as level_costs.
    if name == "match":
        return int(np.rint(w * -np.rint(prep.score[assigned] * 100)).sum())
    if name == "continuity":
        return int(np.rint(w * -prep.cont[assigned].astype(np.float64)).sum())
    if name == "travel":
        return int(np.rint(w * np.rint(prep.dist[assigned] * 10)).sum())
    if name == "balance":
        steps = (
            np.concatenate([np.arange(1, k + 1) for k in load])
            if load.sum()
            else np.zeros(0)
        )
        return int(np.rint(w * (2 * steps - 1)).sum())
    per_v = np.bincount(prep.pv[assigned], minlength=len(prep.vil_ids))
    return int(
        np.rint(w * -prep.v_weight.astype(np.float64)).dot(
            np.minimum(per_v, prep.v_req)
        )
    )
