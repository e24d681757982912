"""Spatial pre-filter for candidate building: grid cells, so only nearby blocks are compared.

The filter is conservative (reach = 1.25 x the largest radius, plus one cell); the exact haversine
test in candidates.py decides eligibility.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from solver.candidates import Prepared

EARTH_RADIUS_KM = 6371.0088
CELL_KM = 40.0


def _cells(lon: np.ndarray, lat: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    # Grid cell of each point on a local equirectangular projection (-1 when coordinates are missing).
    lat0 = np.radians(np.nanmean(lat)) if np.isfinite(lat).any() else 0.0
    x = np.radians(lon) * EARTH_RADIUS_KM * np.cos(lat0)
    y = np.radians(lat) * EARTH_RADIUS_KM
    ok = np.isfinite(x) & np.isfinite(y)
    cx = np.where(ok, np.floor(np.nan_to_num(x) / CELL_KM), -1).astype(np.int64)
    cy = np.where(ok, np.floor(np.nan_to_num(y) / CELL_KM), -1).astype(np.int64)
    return np.where(ok, cx, -(10**9)), np.where(ok, cy, -(10**9))


def spatial_blocks(
    prep: Prepared, s_grp: np.ndarray, v_grp: np.ndarray
) -> list[tuple[np.ndarray, np.ndarray]]:
    # Split a group into (specialists, villages) blocks that can possibly be within radius.
    if len(s_grp) == 0 or len(v_grp) == 0:
        return []
    s_cx, s_cy = _cells(prep.s_lon[s_grp], prep.s_lat[s_grp])
    v_cx, v_cy = _cells(prep.v_lon[v_grp], prep.v_lat[v_grp])
    est_km = max(
        prep.params.km_same_township,
        prep.params.km_same_county,
        prep.params.km_other_county,
    )
    radius = prep.s_radius[s_grp]
    if not np.isfinite(radius).all() or np.isnan(prep.v_lon[v_grp]).all():
        return [(s_grp, v_grp)]
    reach = (
        int(np.ceil(1.25 * radius.max() / CELL_KM)) + 1
    )  # conservative: projection error << 25%
    s_missing = s_cx < -(10**8)
    v_missing = v_cx < -(10**8)
    blocks = [(s_grp, v_grp[v_missing])] if v_missing.any() else []
    if s_missing.any():
        near = radius[s_missing] >= min(prep.params.km_same_township, est_km)
        blocks.append((s_grp[s_missing][near], v_grp[~v_missing]))
    vk = v_cx * 1_000_003 + v_cy
    order = np.argsort(vk[~v_missing], kind="stable")
    v_rest = v_grp[~v_missing][order]
    _, starts = np.unique(vk[~v_missing][order], return_index=True)
    ends = np.append(starts[1:], len(v_rest))
    for a, b in zip(starts, ends):
        cx, cy = v_cx[~v_missing][order][a], v_cy[~v_missing][order][a]
        near = ~s_missing & (np.abs(s_cx - cx) <= reach) & (np.abs(s_cy - cy) <= reach)
        if near.any():
            blocks.append((s_grp[near], v_rest[a:b]))
    return blocks
