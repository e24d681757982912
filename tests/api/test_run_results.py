"""A run's uncovered villages, recruitment and name list over HTTP, as the planners read them (Chinese, names)."""

import csv
import io
from typing import Any

from fastapi.testclient import TestClient
from openpyxl import load_workbook

from tests.catalogue import load_small_catalogue, village, wait_final

TEA_VILLAGES = [village(f"34152510020{i}", f"茶{i}村", "tea", lon=116.34, lat=31.40) for i in range(4, 8)]
SHUCHENG = {"code": "341523", "name": "舒城县", "lon": 116.95, "lat": 31.46}


def finished(client: TestClient, body: dict[str, Any] | None = None) -> str:
    run = wait_final(client, client.post("/api/v1/runs", json=body or {}).json()["id"])
    assert run["state"] in ("optimal", "feasible"), run
    return str(run["id"])


def add_shucheng_fish_village(client: TestClient) -> None:
    """A second county with a village nobody can serve (aquaculture)."""
    assert client.post("/api/v1/counties", json=SHUCHENG).status_code == 201
    town = {"code": "341523100", "name": "城关镇", "lon": 116.95, "lat": 31.46}
    assert client.post("/api/v1/townships", json=town).status_code == 201
    fish = village("341523100201", "鱼村", "aquaculture", lon=116.95, lat=31.46)
    assert client.post("/api/v1/villages", json=fish).status_code == 201


def test_uncovered_village_reason_is_in_chinese_with_names_and_keeps_the_codes(client: TestClient) -> None:
    load_small_catalogue(client)
    run = finished(client)
    item = client.get(f"/api/v1/runs/{run}/uncovered").json()["items"][0]
    assert (item["village"], item["village_name"], item["township_name"], item["county_name"]) == (
        "341525101203", "己村", "佛子岭镇", "霍山县")
    reason = item["reasons"][0]
    assert reason["code"] == "no_expert_in_range" and reason["detail"]["industry"] == "aquaculture"
    assert "aquaculture" in reason["message"]  # the solver's text is still there
    assert reason["message_zh"] == item["reason_zh"] == "没有具备水产养殖专长的在岗特派员"
    assert (reason["industry_name"], item["industry_name"]) == ("水产养殖", "水产养殖")


def test_villages_beyond_the_experts_capacity_name_the_full_specialists(client: TestClient) -> None:
    load_small_catalogue(client)
    assert client.post("/api/v1/villages/bulk", json=TEA_VILLAGES).status_code == 200
    run = finished(client)
    items = client.get(f"/api/v1/runs/{run}/uncovered").json()["items"]
    full = [r for i in items for r in i["reasons"] if r["code"] == "experts_full"]
    assert full, items
    assert full[0]["message_zh"] == "范围内具备茶叶专长的3名特派员名额已满：张茶、王菌、赵茶"
    assert full[0]["specialist_names"] == ["张茶", "王菌", "赵茶"]
    assert full[0]["detail"]["specialists"] == ["TP00001", "TP00003", "TP00004"]


def test_recruitment_has_names_and_comes_by_county_code(client: TestClient) -> None:
    load_small_catalogue(client)
    add_shucheng_fish_village(client)
    run = finished(client)
    recruitment = client.get(f"/api/v1/runs/{run}/uncovered").json()["recruitment"]
    assert [(r["county"], r["county_name"], r["industry"], r["industry_name"], r["slots"]) for r in recruitment] == [
        ("341523", "舒城县", "aquaculture", "水产养殖", 1), ("341525", "霍山县", "aquaculture", "水产养殖", 1)]
    assert recruitment[0]["village_names"] == ["鱼村"]
    summary = client.get(f"/api/v1/runs/{run}/summary").json()  # the same there (it used to be raw, unsorted)
    assert summary["recruitment"] == recruitment
    assert {(c["county"], c["county_name"]) for c in summary["by_county"]} == {("341523", "舒城县"), ("341525", "霍山县")}


def test_uncovered_filtered_by_county_filters_the_recruitment_too(client: TestClient) -> None:
    load_small_catalogue(client)
    add_shucheng_fish_village(client)
    run = finished(client)
    body = client.get(f"/api/v1/runs/{run}/uncovered", params={"county": "341523"}).json()
    assert [i["village"] for i in body["items"]] == ["341523100201"]
    assert [r["county"] for r in body["recruitment"]] == ["341523"]


def test_xlsx_uncovered_reasons_in_chinese_and_county_sheet_names_priority_villages(client: TestClient) -> None:
    load_small_catalogue(client)
    run = finished(client)
    wb = load_workbook(io.BytesIO(client.get(f"/api/v1/runs/{run}/export", params={"format": "xlsx"}).content))
    assert list(wb["未覆盖村"].values)[1][5] == "没有具备水产养殖专长的在岗特派员"
    header, county = wb["分县覆盖"].iter_rows(max_row=2)
    assert [c.value for c in header][4:] == ["覆盖率", "优先村数（脱贫/定点帮扶/三区）", "优先村已覆盖"]
    assert (county[4].value, county[4].number_format) == (0.8333, "0.0%")
    assert (county[5].value, county[6].value) == (2, 2)  # 甲村 (脱贫村) and 丁村 (三区); the 重点村 flag is unset


def csv_rows(client: TestClient, run: str, **params: str) -> list[list[str]]:
    r = client.get(f"/api/v1/runs/{run}/export", params={"format": "csv", **params})
    assert r.status_code == 200, r.text
    return list(csv.reader(io.StringIO(r.content.decode("utf-8-sig"))))


def test_csv_export_gives_each_sheet_by_key_or_title(client: TestClient) -> None:
    load_small_catalogue(client)
    run = finished(client)
    assert csv_rows(client, run)[0][:2] == ["县区", "乡镇"]  # the pairings by default
    uncovered = csv_rows(client, run, sheet="uncovered")
    assert uncovered[0] == ["县区", "乡镇", "行政村", "区划代码", "缺口人数", "原因"]
    assert uncovered[1] == ["霍山县", "佛子岭镇", "己村", "341525101203", "1", "没有具备水产养殖专长的在岗特派员"]
    assert csv_rows(client, run, sheet="分县覆盖")[1][:4] == ["霍山县", "341525", "6", "5"]
    r = client.get(f"/api/v1/runs/{run}/export", params={"format": "csv", "sheet": "uncovered"})
    assert r.headers["Content-Disposition"] == f'attachment; filename="jiedui-run-{run[:8]}-uncovered.csv"'


def test_unknown_csv_sheet_or_sheet_with_xlsx_is_422_naming_sheet(client: TestClient) -> None:
    load_small_catalogue(client)
    run = finished(client)
    for params in ({"format": "csv", "sheet": "recruits"}, {"format": "xlsx", "sheet": "uncovered"}):
        r = client.get(f"/api/v1/runs/{run}/export", params=params)
        assert r.status_code == 422 and r.json()["error"]["errors"][0]["field"] == "sheet", r.text


def test_reason_texts_count_the_eligible_and_the_names_left_out() -> None:
    from app.services.results import Explainer

    ex = Explainer(names={"specialists": {f"S{i}": f"特派员{i}" for i in range(30)}, "places": {},
                          "industries": {"tea": "茶叶"}}, expertise_rule="primary", primaries={"V1": "tea"})
    full = {"code": "experts_full", "detail": {"specialists": ["S1"], "count": 1, "eligible": 2}}
    assert ex.reason_zh(full, village="V1", missing=1) == "范围内具备茶叶专长的2名特派员中有1名名额已满：特派员1"
    days = {"code": "days_budget", "detail": {"specialists": [f"S{i}" for i in range(20)], "count": 25}}
    text = ex.reason_zh(days, village="V1", missing=1)
    assert "…等25人" in text and text.endswith("的可用服务天数不足以承担该村")
