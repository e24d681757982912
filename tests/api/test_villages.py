"""Villages with their needs over HTTP."""

from typing import Any

import pytest
from fastapi.testclient import TestClient

from app.settings import get_settings

V1: dict[str, Any] = {"code": "341502001201", "name": "双河村", "kind": "村委会", "lon": 116.5, "lat": 31.7,
      "needs": [{"industry": "tea"}, {"industry": "grain", "weight": 2.5}]}
V2: dict[str, Any] = {"code": "341502001202", "name": "东桥社区", "kind": "社区", "township_code": "341502001",
      "needs": [{"industry": "vegetables"}, {"industry": "tea", "primary": True}]}
V3: dict[str, Any] = {"code": "341502002203", "name": "河口村", "kind": "村委会", "three_areas": True, "key_village": True,
      "needs": [{"industry": "grain"}]}
V4: dict[str, Any] = {"code": "341503001204", "name": "新河村", "kind": "村委会", "poverty_alleviated": True}


@pytest.fixture
def regions(client: TestClient) -> TestClient:
    counties = [{"code": "341502", "name": "金安区"}, {"code": "341503", "name": "裕安区"}]
    assert client.post("/api/v1/counties/bulk", json=counties).status_code == 200
    towns = [{"code": "341502001", "name": "中市街道"}, {"code": "341502002", "name": "东河口镇"},
             {"code": "341503001", "name": "小华山街道"}]
    assert client.post("/api/v1/townships/bulk", json=towns).status_code == 200
    return client


def _codes(client: TestClient, **params: Any) -> list[str]:
    r = client.get("/api/v1/villages", params=params)
    assert r.status_code == 200, r.text
    return [v["code"] for v in r.json()["items"]]


def _bad(client: TestClient, rows: list[dict[str, Any]]) -> list[tuple[Any, str]]:
    """Post a bad batch: 422, nothing written; the (row, field) of each reported error."""
    r = client.post("/api/v1/villages/bulk", json=rows)
    assert r.status_code == 422, r.text
    assert _codes(client) == []
    return [(e["row"], e["field"]) for e in r.json()["error"]["errors"]]


def test_create_read_with_needs_and_etag(regions: TestClient) -> None:
    r = regions.post("/api/v1/villages", json=V1)
    assert r.status_code == 201, r.text
    assert r.headers["ETag"] == '"341502001201.1"'
    got = regions.get("/api/v1/villages/341502001201")
    body = got.json()
    assert got.headers["ETag"] == '"341502001201.1"'
    assert (body["township_code"], body["county_code"], body["datum"]) == ("341502001", "341502", "GCJ-02")
    assert body["needs"] == [{"industry": "tea", "weight": 1.0, "primary": True, "rank": 1},
                             {"industry": "grain", "weight": 2.5, "primary": False, "rank": 2}]
    assert body["excluded"] is False and body["poverty_alleviated"] is False
    assert regions.get("/api/v1/villages/341502001299").status_code == 404


def test_create_existing_code_conflicts(regions: TestClient) -> None:
    assert regions.post("/api/v1/villages", json=V1).status_code == 201
    assert regions.post("/api/v1/villages", json=V1).status_code == 409


def test_excluded_defaults_by_kind(regions: TestClient) -> None:
    community = regions.post("/api/v1/villages", json=V2).json()
    committee = regions.post("/api/v1/villages", json=V1).json()
    kept = regions.post("/api/v1/villages", json={**V2, "code": "341502001209", "excluded": False}).json()
    assert (community["excluded"], committee["excluded"], kept["excluded"]) == (True, False, False)
    assert community["needs"][1] == {"industry": "tea", "weight": 1.0, "primary": True, "rank": 2}
    assert community["needs"][0]["primary"] is False


def test_list_filters(regions: TestClient) -> None:
    assert regions.post("/api/v1/villages/bulk", json=[V1, V2, V3, V4]).status_code == 200
    assert _codes(regions, county="341502") == [V1["code"], V2["code"], V3["code"]]
    assert _codes(regions, township="341502002") == [V3["code"]]
    assert _codes(regions, industry="tea") == [V1["code"], V2["code"]]
    assert _codes(regions, primary_industry="tea") == [V1["code"], V2["code"]]
    assert _codes(regions, primary_industry="grain") == [V3["code"]]
    assert _codes(regions, kind="社区") == [V2["code"]]
    assert _codes(regions, three_areas=True) == [V3["code"]]
    assert _codes(regions, key_village=True, county="341502") == [V3["code"]]
    assert _codes(regions, poverty_alleviated=True) == [V4["code"]]
    assert _codes(regions, designated_support=True) == []
    assert _codes(regions, priority=True) == [V3["code"], V4["code"]]
    assert _codes(regions, priority=False) == [V1["code"], V2["code"]]
    assert _codes(regions, excluded=True) == [V2["code"]]
    assert _codes(regions, name_contains="河") == [V1["code"], V3["code"], V4["code"]]
    assert _codes(regions, name_contains="%") == []
    bad = regions.get("/api/v1/villages", params={"county": "34150"})
    assert bad.status_code == 422 and bad.json()["error"]["errors"][0]["field"] == "county"


def test_list_sorts_and_paginates(regions: TestClient) -> None:
    rows = [{"code": f"341502001{i:03d}", "name": f"村{9 - i}", "kind": "村委会", "needs": [{"industry": "tea"}]}
            for i in range(1, 8)]
    assert regions.post("/api/v1/villages/bulk", json=rows).status_code == 200
    seen, cursor = [], None
    while True:
        page = regions.get("/api/v1/villages", params={"limit": 3, **({"cursor": cursor} if cursor else {})}).json()
        seen += [v["code"] for v in page["items"]]
        cursor = page["next_cursor"]
        if not cursor:
            break
    assert seen == [r["code"] for r in rows]
    assert _codes(regions, sort="-code", limit=2) == ["341502001007", "341502001006"]
    assert _codes(regions, sort="name", limit=2) == ["341502001007", "341502001006"]
    by_time, cursor = [], None
    while True:
        params = {"sort": "-updated_at", "limit": 3, **({"cursor": cursor} if cursor else {})}
        page = regions.get("/api/v1/villages", params=params).json()
        by_time += [v["code"] for v in page["items"]]
        cursor = page["next_cursor"]
        if not cursor:
            break
    assert sorted(by_time) == [r["code"] for r in rows]
    assert regions.get("/api/v1/villages", params={"sort": "nope"}).status_code == 422


def test_put_replaces_needs_and_bumps_version(regions: TestClient) -> None:
    regions.post("/api/v1/villages", json=V1)
    body = {**V1, "needs": [{"industry": "grain", "weight": 3}, {"industry": "tea", "primary": True}]}
    r = regions.put("/api/v1/villages/341502001201", json=body, headers={"If-Match": '"341502001201.1"'})
    assert r.status_code == 200, r.text
    assert r.headers["ETag"] == '"341502001201.2"'
    needs = regions.get("/api/v1/villages/341502001201").json()["needs"]
    assert needs == [{"industry": "grain", "weight": 3.0, "primary": False, "rank": 1},
                     {"industry": "tea", "weight": 1.0, "primary": True, "rank": 2}]


def test_patch_merges_and_keeps_needs_unless_given(regions: TestClient) -> None:
    regions.post("/api/v1/villages", json=V1)
    r = regions.patch("/api/v1/villages/341502001201", json={"designated_support": True})
    assert r.status_code == 200, r.text
    assert r.json()["designated_support"] is True and r.json()["name"] == "双河村"
    assert [n["industry"] for n in r.json()["needs"]] == ["tea", "grain"]
    r = regions.patch("/api/v1/villages/341502001201", json={"needs": [{"industry": "fruit"}]})
    assert r.json()["needs"] == [{"industry": "fruit", "weight": 1.0, "primary": True, "rank": 1}]
    assert r.json()["version"] == 3
    bad = regions.patch("/api/v1/villages/341502001201", json={"needs": [{"industry": "fruit", "weight": 0}]})
    assert bad.status_code == 422 and bad.json()["error"]["errors"][0]["field"] == "needs.0.weight"


def test_stale_if_match_gets_412_and_writes_nothing(regions: TestClient) -> None:
    regions.post("/api/v1/villages", json=V1)
    regions.patch("/api/v1/villages/341502001201", json={"name": "双河"}, headers={"If-Match": '"341502001201.1"'})
    stale = regions.put("/api/v1/villages/341502001201", json={**V1, "name": "X"},
                        headers={"If-Match": '"341502001201.1"'})
    assert stale.status_code == 412
    assert regions.delete("/api/v1/villages/341502001201", headers={"If-Match": '"341502001201.1"'}).status_code == 412
    assert regions.get("/api/v1/villages/341502001201").json()["name"] == "双河"


def test_delete_village_and_then_its_township(regions: TestClient) -> None:
    regions.post("/api/v1/villages", json=V3)
    assert regions.delete("/api/v1/townships/341502002").status_code == 409
    assert regions.delete("/api/v1/villages/341502002203", headers={"If-Match": '"341502002203.1"'}).status_code == 204
    assert regions.get("/api/v1/villages/341502002203").status_code == 404
    assert regions.delete("/api/v1/industries/grain").status_code == 204
    assert regions.delete("/api/v1/townships/341502002").status_code == 204


def test_bulk_upsert_creates_updates_and_replaces_needs(regions: TestClient) -> None:
    assert regions.post("/api/v1/villages/bulk", json=[V1, V2]).json() == {"created": 2, "updated": 0, "total": 2, "unchanged": 0}
    again = [{**V1, "name": "新双河", "needs": [{"industry": "pigs", "weight": 4}]}, V3]
    assert regions.post("/api/v1/villages/bulk", json=again).json() == {"created": 1, "updated": 1, "total": 2, "unchanged": 0}
    v1 = regions.get("/api/v1/villages/341502001201").json()
    assert v1["name"] == "新双河" and v1["version"] == 2
    assert v1["needs"] == [{"industry": "pigs", "weight": 4.0, "primary": True, "rank": 1}]
    assert [n["industry"] for n in regions.get("/api/v1/villages/341502001202").json()["needs"]] == ["vegetables", "tea"]


def test_bulk_of_identical_rows_keeps_versions_and_counts_them_unchanged(regions: TestClient) -> None:
    regions.post("/api/v1/villages/bulk", json=[V1, V2])
    before = regions.get("/api/v1/villages/341502001201")
    answer = regions.post("/api/v1/villages/bulk", json=[V1, V2]).json()
    assert answer == {"created": 0, "updated": 0, "unchanged": 2, "total": 2}
    after = regions.get("/api/v1/villages/341502001201")
    assert after.headers["ETag"] == before.headers["ETag"] == '"341502001201.1"'
    assert after.json()["updated_at"] == before.json()["updated_at"]


def test_bulk_where_only_the_needs_change_gives_a_new_version(regions: TestClient) -> None:
    regions.post("/api/v1/villages/bulk", json=[V1, V2])
    reweighted = {**V1, "needs": [{"industry": "tea"}, {"industry": "grain", "weight": 3}]}
    answer = regions.post("/api/v1/villages/bulk", json=[reweighted, V2]).json()
    assert answer == {"created": 0, "updated": 1, "unchanged": 1, "total": 2}
    got = regions.get("/api/v1/villages/341502001201").json()
    assert got["version"] == 2 and got["needs"][1]["weight"] == 3.0
    assert regions.get("/api/v1/villages/341502001202").json()["version"] == 1


def test_put_of_the_same_body_keeps_the_etag(regions: TestClient) -> None:
    regions.post("/api/v1/villages", json=V1)
    r = regions.put("/api/v1/villages/341502001201", json=V1, headers={"If-Match": '"341502001201.1"'})
    assert r.status_code == 200, r.text
    assert r.headers["ETag"] == '"341502001201.1"' and len(r.json()["needs"]) == 2


def test_wrong_length_code_rejected(regions: TestClient) -> None:
    assert _bad(regions, [V1, {**V3, "code": "34150200220"}]) == [(1, "code")]


def test_code_not_under_township_code_rejected(regions: TestClient) -> None:
    r = regions.post("/api/v1/villages/bulk", json=[V1, {**V3, "township_code": "341502001"}])
    assert r.status_code == 422
    err = r.json()["error"]["errors"][0]
    assert (err["row"], err["field"]) == (1, "township_code")
    assert "does not sit under township 341502001" in err["message"]
    assert _codes(regions) == []


def test_unknown_township_rejected(regions: TestClient) -> None:
    assert _bad(regions, [V1, {**V3, "code": "341502009203"}]) == [(1, "code")]


def test_unknown_industry_rejected_listing_valid_codes(regions: TestClient) -> None:
    rows = [V1, {**V2, "needs": [{"industry": "tea"}, {"industry": "rice"}, {"industry": "cotton"}]}]
    r = regions.post("/api/v1/villages/bulk", json=rows)
    assert r.status_code == 422
    errors = r.json()["error"]["errors"]
    assert [(e["row"], e["field"]) for e in errors] == [(1, "needs.1.industry"), (1, "needs.2.industry")]
    assert "rice" in errors[0]["message"] and "vegetables" in errors[0]["message"]
    assert "aquaculture" in r.json()["error"]["message"]
    assert _codes(regions) == []


def test_duplicate_code_in_batch_rejected(regions: TestClient) -> None:
    assert _bad(regions, [V1, V2, {**V1, "name": "又一个"}]) == [(2, "code")]


def test_duplicate_industry_in_village_rejected(regions: TestClient) -> None:
    rows = [V1, {**V3, "needs": [{"industry": "grain"}, {"industry": "tea"}, {"industry": "grain"}]}]
    assert _bad(regions, rows) == [(1, "needs.2.industry")]


def test_two_primaries_rejected(regions: TestClient) -> None:
    rows = [{**V1, "needs": [{"industry": "tea", "primary": True}, {"industry": "grain", "primary": True}]}]
    assert _bad(regions, rows) == [(0, "needs.1.primary")]


def test_nan_coordinate_rejected(regions: TestClient) -> None:
    body = '[{"code": "341502001201", "name": "a", "kind": "村委会", "lon": NaN, "lat": 31.0}]'
    r = regions.post("/api/v1/villages/bulk", content=body, headers={"Content-Type": "application/json"})
    assert r.status_code == 422
    assert (r.json()["error"]["errors"][0]["row"], r.json()["error"]["errors"][0]["field"]) == (0, "lon")
    assert _codes(regions) == []


def test_out_of_range_coordinate_rejected(regions: TestClient) -> None:
    assert _bad(regions, [V1, {**V2, "lon": 190.0, "lat": 31.0}]) == [(1, "lon")]


def test_non_positive_weight_rejected(regions: TestClient) -> None:
    rows = [{**V1, "needs": [{"industry": "tea", "weight": 0}]}, {**V2, "needs": [{"industry": "tea", "weight": -1}]}]
    assert _bad(regions, rows) == [(0, "needs.0.weight"), (1, "needs.0.weight")]


def test_every_bad_row_reported_in_one_response(regions: TestClient) -> None:
    rows = [
        {**V1, "code": "341502009201"},
        {**V2, "needs": [{"industry": "tea"}, {"industry": "tea"}]},
        {**V3, "needs": [{"industry": "rice"}]},
        V4,
        {**V4, "name": "重复"},
    ]
    assert _bad(regions, rows) == [(0, "code"), (1, "needs.1.industry"), (2, "needs.0.industry"), (4, "code")]


def test_oversized_batch_gets_413(regions: TestClient, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(get_settings(), "max_bulk_rows", 3)
    r = regions.post("/api/v1/villages/bulk", json=[V1, V2, V3, V4])
    assert r.status_code == 413
    assert _codes(regions) == []
    assert regions.post("/api/v1/villages/bulk", json=[V1, V2, V3]).status_code == 200


def test_patching_the_kind_rederives_excluded_unless_given(regions: TestClient) -> None:
    assert regions.post("/api/v1/villages", json=V1).json()["excluded"] is False
    assert regions.patch("/api/v1/villages/341502001201", json={"kind": "社区"}).json()["excluded"] is True
    r = regions.patch("/api/v1/villages/341502001201", json={"kind": "村委会", "excluded": True})
    assert r.json()["excluded"] is True
    # the same kind sent again (a client sending the whole form) keeps the excluded it was given
    assert regions.patch("/api/v1/villages/341502001201", json={"kind": "村委会"}).json()["excluded"] is True
    assert regions.patch("/api/v1/villages/341502001201", json={"name": "双河"}).json()["excluded"] is True


def test_unknown_industry_filter_is_422(regions: TestClient) -> None:
    r = regions.get("/api/v1/villages", params={"industry": "bogus"})
    assert r.status_code == 422 and r.json()["error"]["errors"][0]["field"] == "industry"
