"""A small hand-made catalogue for run tests: one county, two townships, six villages, five specialists."""

import time
from collections.abc import Callable
from typing import Any

from fastapi.testclient import TestClient

COUNTY = {"code": "341525", "name": "霍山县", "lon": 116.333, "lat": 31.393}
TOWNSHIPS = [
    {"code": "341525100", "name": "衡山镇", "lon": 116.33, "lat": 31.40},
    {"code": "341525101", "name": "佛子岭镇", "lon": 116.27, "lat": 31.33},
]


def village(code: str, name: str, primary: str, *, lon: float, lat: float, **flags: bool) -> dict[str, object]:
    return {"code": code, "name": name, "kind": "村委会", "lon": lon, "lat": lat,
            "needs": [{"industry": primary, "weight": 2.0, "primary": True}, {"industry": "rural_tourism", "weight": 1.0}],
            **flags}


VILLAGES = [
    village("341525100201", "甲村", "tea", lon=116.34, lat=31.41, poverty_alleviated=True),
    village("341525100202", "乙村", "tea", lon=116.35, lat=31.42),
    village("341525100203", "丙村", "medicinal_herbs", lon=116.31, lat=31.39),
    village("341525101201", "丁村", "edible_fungi", lon=116.26, lat=31.32, three_areas=True),
    village("341525101202", "戊村", "tea", lon=116.28, lat=31.34),
    village("341525101203", "己村", "aquaculture", lon=116.29, lat=31.30),
]


def specialist(code: str, name: str, expertise: dict[str, int], **extra: object) -> dict[str, object]:
    return {"code": code, "name": name, "kind": "individual", "org_name": "安徽农业大学", "org_type": "university",
            "home_region_code": "341525100", "lon": 116.33, "lat": 31.40,
            "expertise": [{"industry": i, "proficiency": p} for i, p in expertise.items()],
            "capacity": 2, "service_days": 120, "max_distance_km": 100, "grade": "良好", **extra}


SPECIALISTS = [
    specialist("TP00001", "张茶", {"tea": 3, "rural_tourism": 2}),
    specialist("TP00002", "李药", {"medicinal_herbs": 3}),
    specialist("TP00003", "王菌", {"edible_fungi": 2, "tea": 1}),
    specialist("TP00004", "赵茶", {"tea": 2}, capacity=1),
    specialist("TP00005", "钱离", {"tea": 3}, active=False),
]


def load_small_catalogue(client: TestClient) -> None:
    """Post the catalogue through the bulk endpoints."""
    for path, rows in (("counties", [COUNTY]), ("townships", TOWNSHIPS), ("villages", VILLAGES),
                       ("specialists", SPECIALISTS)):
        r = client.post(f"/api/v1/{path}/bulk", json=rows)
        assert r.status_code == 200, r.text


FINAL = {"optimal", "feasible", "infeasible", "failed", "cancelled"}


def wait_run(client: TestClient, run_id: str, until: Callable[[dict[str, Any]], bool], *, timeout: float = 60,
             poll: float = 0.02) -> dict[str, Any]:
    """Poll a run over HTTP until `until(run)` holds."""
    deadline = time.monotonic() + timeout
    run: dict[str, Any] = {}
    while time.monotonic() < deadline:
        run = client.get(f"/api/v1/runs/{run_id}").json()
        if until(run):
            return run
        time.sleep(poll)
    raise AssertionError(f"run {run_id} never reached the expected state: {run}")


def wait_final(client: TestClient, run_id: str, timeout: float = 60) -> dict[str, Any]:
    """Poll until the run has ended."""
    return wait_run(client, run_id, lambda r: r["state"] in FINAL, timeout=timeout)
