"""Per-pair overrides from other systems as columns, so millions of pairs never become one object each.

A table holds the distinct specialist and village ids once and, per pair, their int32 positions plus a
score and an effort-days column (NaN = not given). `merged_overrides` joins it with the small
`MatchParams.overrides` tuple (the table wins on duplicates; within the table the last row wins).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np


class PairTable:
    """Columns of per-pair overrides: ids by position, score and effort days with NaN for "not given"."""

    def __init__(self, specialists: tuple[str, ...], villages: tuple[str, ...], s: np.ndarray, v: np.ndarray,
                 score: np.ndarray, effort_days: np.ndarray) -> None:
        self.specialists, self.villages = tuple(specialists), tuple(villages)
        self.s = np.asarray(s, dtype=np.int32)
        self.v = np.asarray(v, dtype=np.int32)
        self.score = np.asarray(score, dtype=np.float64)
        self.effort_days = np.asarray(effort_days, dtype=np.float64)

    def __len__(self) -> int:
        return len(self.s)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, PairTable):
            return NotImplemented
        return (self.specialists == other.specialists and self.villages == other.villages
                and np.array_equal(self.s, other.s) and np.array_equal(self.v, other.v)
                and np.array_equal(self.score, other.score, equal_nan=True)
                and np.array_equal(self.effort_days, other.effort_days, equal_nan=True))

    def __hash__(self) -> int:
        return hash((self.specialists, self.villages, len(self)))

    def to_dict(self) -> dict[str, Any]:
        def col(a: np.ndarray) -> list[float | None]:
            return [None if math.isnan(x) else x for x in a.tolist()]

        return {"specialists": list(self.specialists), "villages": list(self.villages), "s": self.s.tolist(),
                "v": self.v.tolist(), "score": col(self.score), "effort_days": col(self.effort_days)}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> PairTable:
        def col(values: list[float | None]) -> np.ndarray:
            return np.array([np.nan if x is None else x for x in values], dtype=np.float64)

        return cls(tuple(data["specialists"]), tuple(data["villages"]), np.array(data["s"], np.int32),
                   np.array(data["v"], np.int32), col(data["score"]), col(data["effort_days"]))


def merged_overrides(params: Any, spec_index: dict[str, int], vil_index: dict[str, int]
                     ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """All overrides as (specialist index, village index, score, effort days) arrays, unknown ids dropped."""
    parts_s, parts_v, parts_score, parts_days = [], [], [], []
    small = [o for o in params.overrides if o.specialist_id in spec_index and o.village_id in vil_index]
    if small:
        parts_s.append(np.array([spec_index[o.specialist_id] for o in small], np.int64))
        parts_v.append(np.array([vil_index[o.village_id] for o in small], np.int64))
        parts_score.append(np.array([np.nan if o.score is None else o.score for o in small], np.float64))
        parts_days.append(np.array([np.nan if o.effort_days is None else o.effort_days for o in small], np.float64))
    table = params.override_table
    if table is not None and len(table):
        s_map = np.array([spec_index.get(x, -1) for x in table.specialists], np.int64)
        v_map = np.array([vil_index.get(x, -1) for x in table.villages], np.int64)
        s, v = s_map[table.s], v_map[table.v]
        ok = (s >= 0) & (v >= 0)
        parts_s.append(s[ok])
        parts_v.append(v[ok])
        parts_score.append(table.score[ok])
        parts_days.append(table.effort_days[ok])
    if not parts_s:
        empty_i, empty_f = np.zeros(0, np.int64), np.zeros(0, np.float64)
        return empty_i, empty_i, empty_f, empty_f
    return (np.concatenate(parts_s), np.concatenate(parts_v), np.concatenate(parts_score),
            np.concatenate(parts_days))


def keyed(keys: np.ndarray, *columns: np.ndarray) -> tuple[np.ndarray, ...]:
    """Sort by key and keep the last row of each key: (unique keys, columns...)."""
    order = np.argsort(keys, kind="stable")
    k = keys[order]
    last = np.r_[k[1:] != k[:-1], True] if len(k) else np.zeros(0, bool)
    return (k[last], *(c[order][last] for c in columns))


def lookup(sorted_keys: np.ndarray, keys: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Positions of `keys` in `sorted_keys` and whether each is present."""
    if len(sorted_keys) == 0:
        return np.zeros(len(keys), np.int64), np.zeros(len(keys), bool)
    pos = np.minimum(np.searchsorted(sorted_keys, keys), len(sorted_keys) - 1)
    return pos, sorted_keys[pos] == keys


def all_overrides(params: Any) -> list[Any]:
    """Every override as a PairOverride (small tuple and table); for checking answers, not for solving."""
    from solver.model import PairOverride

    out = list(params.overrides)
    table = params.override_table
    if table is not None:
        for s, v, score, days in zip(table.s.tolist(), table.v.tolist(), table.score.tolist(),
                                     table.effort_days.tolist()):
            out.append(PairOverride(table.specialists[s], table.villages[v], None if math.isnan(score) else score,
                                    None if math.isnan(days) else days))
    return out
