"""The change report of a renewal run over HTTP: why each previous pairing did not continue."""

import io
from typing import Any

from fastapi.testclient import TestClient
from openpyxl import load_workbook

from tests.catalogue import load_small_catalogue, village, wait_final

WU = "341525101202"  # 戊村 (tea), about 8 km from the specialists' home
JIA, YI = "341525100201", "341525100202"  # 甲村 and 乙村 (tea), within 3 km


def finished(client: TestClient, body: dict[str, Any]) -> str:
    run = wait_final(client, client.post("/api/v1/runs", json=body).json()["id"])
    assert run["state"] in ("optimal", "feasible"), run
    return str(run["id"])


def first_season(client: TestClient, *pairs: tuple[str, str]) -> str:
    """Season 2026 with the given pairings locked, so the renewal starts from them."""
    load_small_catalogue(client)
    return finished(client, {"season": "2026", "locked": [{"specialist": s, "village": v} for s, v in pairs]})


def renewal(client: TestClient, base: str) -> list[dict[str, Any]]:
    """Renew season 2026 into 2027 and return the report's rows that are not kept."""
    run = finished(client, {"season": "2027", "renews": base, "previous_run": base})
    r = client.get(f"/api/v1/runs/{run}/changes")
    assert r.status_code == 200, r.text
    return [c for c in r.json()["changes"] if c["kind"] != "kept"]


def row_of(rows: list[dict[str, Any]], specialist: str, village_code: str) -> dict[str, Any]:
    return next(r for r in rows if (r["from"], r["village"]) == (specialist, village_code))


def test_a_pairing_beyond_the_shrunk_radius_is_no_longer_eligible(client: TestClient) -> None:
    base = first_season(client, ("TP00004", WU))
    assert client.patch("/api/v1/specialists/TP00004", json={"max_distance_km": 5}).status_code == 200
    row = row_of(renewal(client, base), "TP00004", WU)
    assert row["reason"] == "ineligible" and row["reason_detail"]["rule"] == "radius"
    assert row["reason_detail"]["radius_km"] == 5 and 7.5 < row["reason_detail"]["distance_km"] < 9
    assert row["reason_zh"] == f"不再符合结对条件：距离{row['reason_detail']['distance_km']:g}公里，超出服务半径5公里"


def test_a_pairing_whose_primary_need_the_specialist_lost_names_the_expertise_rule(client: TestClient) -> None:
    base = first_season(client, ("TP00003", WU))
    patch = {"expertise": [{"industry": "edible_fungi", "proficiency": 2}]}
    assert client.patch("/api/v1/specialists/TP00003", json=patch).status_code == 200
    row = row_of(renewal(client, base), "TP00003", WU)
    assert (row["reason"], row["reason_detail"]["rule"]) == ("ineligible", "expertise")
    assert row["reason_zh"] == "不再符合结对条件：专长不含该村主导产业茶叶"


def test_a_full_specialist_moved_to_another_village_is_reassigned_not_capacity(client: TestClient) -> None:
    base = first_season(client, ("TP00004", WU))  # 赵茶, capacity 1, in both seasons
    assert client.patch("/api/v1/specialists/TP00004", json={"expertise": [
        {"industry": "tea", "proficiency": 2}, {"industry": "sericulture", "proficiency": 2}]}).status_code == 200
    silk = village("341525100209", "蚕村", "sericulture", lon=116.33, lat=31.41, poverty_alleviated=True)
    assert client.post("/api/v1/villages", json=silk).status_code == 201  # only 赵茶 can serve it
    rows = renewal(client, base)
    row = row_of(rows, "TP00004", WU)
    assert (row["reason"], row["reason_detail"]) == ("reassigned", {"villages": ["341525100209"]})
    assert row["reason_zh"] == "特派员改派服务蚕村（341525100209）"


def test_capacity_is_the_reason_only_for_the_pairings_beyond_the_lowered_capacity(client: TestClient) -> None:
    base = first_season(client, ("TP00001", JIA), ("TP00001", YI))  # 张茶, capacity 2
    assert client.patch("/api/v1/specialists/TP00001", json={"capacity": 1}).status_code == 200
    rows = [r for r in renewal(client, base) if r["from"] == "TP00001"]
    assert len(rows) == 1, rows
    assert (rows[0]["reason"], rows[0]["reason_detail"]) == ("capacity", {"capacity": 1, "keepable": 2})
    assert rows[0]["reason_zh"] == "特派员名额不足：名额1个，少于上期仍符合条件的2个结对村"


def test_the_xlsx_and_html_reports_give_the_chinese_reason_and_its_category(client: TestClient) -> None:
    base = first_season(client, ("TP00004", WU))
    assert client.patch("/api/v1/specialists/TP00004", json={"active": False}).status_code == 200
    run = finished(client, {"season": "2027", "renews": base})
    xlsx = client.get(f"/api/v1/runs/{run}/changes", params={"format": "xlsx"})
    sheet = list(load_workbook(io.BytesIO(xlsx.content))["变动明细"].values)
    assert sheet[0][6:] == ("原因", "原因类别")
    row = next(r for r in sheet if r[3] == WU and r[4] == "赵茶")
    assert row[6:] == ("特派员已停用", "特派员离任或停用")
    assert "<td>特派员已停用</td>" in client.get(f"/api/v1/runs/{run}/changes", params={"format": "html"}).text
