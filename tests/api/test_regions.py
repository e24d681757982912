"""Counties and townships over HTTP."""

from fastapi.testclient import TestClient

COUNTY = {"code": "341502", "name": "金安区", "lon": 116.539, "lat": 31.750}


def test_create_read_county_with_etag(client: TestClient) -> None:
    r = client.post("/api/v1/counties", json=COUNTY)
    assert r.status_code == 201, r.text
    assert r.json()["datum"] == "GCJ-02"
    got = client.get("/api/v1/counties/341502")
    assert got.json()["name"] == "金安区"
    assert got.headers["ETag"] == '"341502.1"'


def test_stale_if_match_gets_412_and_writes_nothing(client: TestClient) -> None:
    client.post("/api/v1/counties", json=COUNTY)
    ok = client.patch("/api/v1/counties/341502", json={"name": "金安"}, headers={"If-Match": '"341502.1"'})
    assert ok.status_code == 200 and ok.headers["ETag"] == '"341502.2"'
    stale = client.put("/api/v1/counties/341502", json={**COUNTY, "name": "X"}, headers={"If-Match": '"341502.1"'})
    assert stale.status_code == 412
    assert client.get("/api/v1/counties/341502").json()["name"] == "金安"


def test_malformed_county_code_is_rejected(client: TestClient) -> None:
    r = client.post("/api/v1/counties", json={**COUNTY, "code": "34150"})
    assert r.status_code == 422
    assert r.json()["error"]["errors"][0]["field"] == "code"


def test_coordinates_out_of_range_rejected(client: TestClient) -> None:
    r = client.post("/api/v1/counties/bulk", json=[COUNTY, {**COUNTY, "code": "341503", "lat": 95}])
    assert r.status_code == 422
    err = r.json()["error"]["errors"][0]
    assert (err["row"], err["field"]) == (1, "lat")
    assert client.get("/api/v1/counties").json()["items"] == []


def test_nan_coordinate_rejected(client: TestClient) -> None:
    body = '[{"code": "341502", "name": "a", "lon": NaN, "lat": 31.0}]'
    r = client.post("/api/v1/counties/bulk", content=body, headers={"Content-Type": "application/json"})
    assert r.status_code == 422
    assert r.json()["error"]["errors"][0]["field"] == "lon"


def test_duplicate_codes_in_one_batch_rejected(client: TestClient) -> None:
    r = client.post("/api/v1/counties/bulk", json=[COUNTY, COUNTY])
    assert r.status_code == 422
    assert r.json()["error"]["errors"][0] == {"row": 1, "field": "code", "message": r.json()["error"]["errors"][0]["message"]}
    assert client.get("/api/v1/counties").json()["items"] == []


def test_bulk_upsert_then_update_bumps_version(client: TestClient) -> None:
    assert client.post("/api/v1/counties/bulk", json=[COUNTY]).json() == {"created": 1, "updated": 0, "total": 1, "unchanged": 0}
    again = client.post("/api/v1/counties/bulk", json=[{**COUNTY, "name": "新"}]).json()
    assert again == {"created": 0, "updated": 1, "total": 1, "unchanged": 0}
    got = client.get("/api/v1/counties/341502")
    assert got.json()["name"] == "新" and got.json()["version"] == 2


def test_bulk_of_identical_counties_and_townships_keeps_versions(client: TestClient) -> None:
    towns = [{"code": "341502001", "name": "中市街道"}, {"code": "341502002", "name": "东河口镇", "lon": 116.6, "lat": 31.8}]
    client.post("/api/v1/counties/bulk", json=[COUNTY])
    client.post("/api/v1/townships/bulk", json=towns)
    before = client.get("/api/v1/townships/341502002").json()
    assert client.post("/api/v1/counties/bulk", json=[COUNTY]).json() == \
        {"created": 0, "updated": 0, "unchanged": 1, "total": 1}
    assert client.post("/api/v1/townships/bulk", json=towns).json() == \
        {"created": 0, "updated": 0, "unchanged": 2, "total": 2}
    assert client.get("/api/v1/townships/341502002").json() == before
    assert client.get("/api/v1/counties/341502").headers["ETag"] == '"341502.1"'


def test_township_must_sit_under_existing_county(client: TestClient) -> None:
    r = client.post("/api/v1/townships/bulk", json=[{"code": "341502001", "name": "中市街道"}])
    assert r.status_code == 422
    assert r.json()["error"]["errors"][0]["row"] == 0


def test_township_list_paginates_with_cursor(client: TestClient) -> None:
    client.post("/api/v1/counties", json=COUNTY)
    rows = [{"code": f"341502{i:03d}", "name": f"镇{i}"} for i in range(1, 8)]
    assert client.post("/api/v1/townships/bulk", json=rows).status_code == 200
    seen, cursor = [], None
    while True:
        params = {"limit": 3, **({"cursor": cursor} if cursor else {})}
        page = client.get("/api/v1/townships", params=params).json()
        seen += [t["code"] for t in page["items"]]
        cursor = page["next_cursor"]
        if not cursor:
            break
    assert seen == [r["code"] for r in rows]
    desc = client.get("/api/v1/townships", params={"sort": "-code", "limit": 2}).json()
    assert [t["code"] for t in desc["items"]] == ["341502007", "341502006"]


def test_delete_county_with_townships_conflicts(client: TestClient) -> None:
    client.post("/api/v1/counties", json=COUNTY)
    client.post("/api/v1/townships", json={"code": "341502001", "name": "中市街道"})
    assert client.delete("/api/v1/counties/341502").status_code == 409
    assert client.delete("/api/v1/townships/341502001").status_code == 204
    assert client.delete("/api/v1/counties/341502").status_code == 204


def test_full_width_digits_are_not_a_code(client: TestClient) -> None:
    # Unicode digits (全角, Arabic-Indic) matched \d and were stored, then broke the ETag header with a 500.
    for code in ("３４１５９９", "٣٤١٥٩٨"):
        r = client.post("/api/v1/counties/bulk", json=[{"code": code, "name": "全角县"}])
        assert r.status_code == 422, r.text
        assert r.json()["error"]["errors"][0]["field"] == "code"
    r = client.post("/api/v1/specialists", json={"code": "TPX", "name": "某", "home_region_code": "３４１５２４"})
    assert r.status_code == 422
    assert client.get("/api/v1/counties").json()["items"] == []


def test_township_county_filter_is_a_county_code(client: TestClient) -> None:
    client.post("/api/v1/counties/bulk", json=[{"code": "341502", "name": "金安区"}, {"code": "341504", "name": "叶集区"}])
    client.post("/api/v1/townships/bulk", json=[{"code": "341502001", "name": "甲"}, {"code": "341504001", "name": "乙"}])
    codes = [t["code"] for t in client.get("/api/v1/townships", params={"county": "341504"}).json()["items"]]
    assert codes == ["341504001"]
    for bad in ("%", "3415_4", "abc"):  # used to act as LIKE patterns, or return an empty list
        r = client.get("/api/v1/townships", params={"county": bad})
        assert r.status_code == 422, bad
        assert r.json()["error"]["errors"][0]["field"] == "county"
