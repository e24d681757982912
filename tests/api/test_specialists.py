"""Specialists over HTTP: CRUD, lists, filters and all-or-nothing bulk validation."""

from typing import Any

import pytest
from fastapi.testclient import TestClient

from app.settings import get_settings

URL = "/api/v1/specialists"
ALICE: dict[str, Any] = {
    "code": "S001", "name": "王建国", "org_name": "安徽农业大学", "org_type": "university", "title_level": "senior",
    "home_region_code": "341502001", "lon": 116.5, "lat": 31.7,
    "expertise": [{"industry": "tea", "proficiency": 3}, {"industry": "fruit", "proficiency": 1}],
    "capacity": 3, "service_days": 90, "grade": "优秀",
}


def person(code: str, **fields: Any) -> dict[str, Any]:
    return {"code": code, "name": f"专家{code}", **fields}


def codes(client: TestClient, **params: Any) -> list[str]:
    r = client.get(URL, params=params)
    assert r.status_code == 200, r.text
    return [s["code"] for s in r.json()["items"]]


def bulk_error(client: TestClient, rows: list[dict[str, Any]]) -> dict[str, Any]:
    """POST a batch that must be rejected as a whole; returns its first error and checks nothing was written."""
    r = client.post(f"{URL}/bulk", json=rows)
    assert r.status_code == 422, r.text
    assert codes(client) == []
    return dict(r.json()["error"]["errors"][0])


def test_create_and_read_with_etag(client: TestClient) -> None:
    r = client.post(URL, json=ALICE)
    assert r.status_code == 201, r.text
    assert r.headers["ETag"] == '"S001.1"'
    body = r.json()
    assert body["home_county_code"] == "341502" and body["kind"] == "individual" and body["datum"] == "GCJ-02"
    assert body["expertise"] == ALICE["expertise"] and body["members"] == [] and body["leader"] is None
    assert body["max_distance_km"] == 100 and body["active"] is True
    got = client.get(f"{URL}/S001")
    assert got.headers["ETag"] == '"S001.1"' and got.json() == body


def test_create_existing_code_conflicts(client: TestClient) -> None:
    assert client.post(URL, json=ALICE).status_code == 201
    assert client.post(URL, json=ALICE).status_code == 409


def test_unknown_specialist_is_404(client: TestClient) -> None:
    assert client.get(f"{URL}/NOPE").status_code == 404
    assert client.get(f"{URL}/NOPE/team").status_code == 404


def test_list_filters(client: TestClient) -> None:
    rows = [
        ALICE,
        person("S002", home_region_code="341503", expertise=[{"industry": "tea", "proficiency": 1}], active=False),
        person("S003", kind="legal_person", org_type="enterprise", three_areas_programme=True,
               programme_level="provincial", grade="良好"),
        person("S004", name="李茶农", home_region_code="341502100200"),
    ]
    assert client.post(f"{URL}/bulk", json=rows).json() == {"created": 4, "updated": 0, "total": 4, "unchanged": 0}
    assert codes(client, county="341502") == ["S001", "S004"]
    assert codes(client, kind="legal_person") == ["S003"]
    assert codes(client, industry="tea") == ["S001", "S002"]
    assert codes(client, industry="tea", min_proficiency=2) == ["S001"]
    assert codes(client, min_proficiency=3) == ["S001"]
    assert codes(client, active=False) == ["S002"]
    assert codes(client, grade="良好") == ["S003"]
    assert codes(client, org_type="university") == ["S001"]
    assert codes(client, three_areas_programme=True) == ["S003"]
    assert codes(client, name_contains="茶") == ["S004"]
    r = client.get(URL, params={"industry": "durian"})
    assert r.status_code == 422 and r.json()["error"]["errors"][0]["field"] == "industry"
    assert client.get(URL, params={"kind": "robot"}).status_code == 422


def test_list_sorts_and_paginates(client: TestClient) -> None:
    rows = [person(f"S{i:03d}", capacity=i % 4) for i in range(1, 11)]
    assert client.post(f"{URL}/bulk", json=rows).status_code == 200
    seen, cursor = [], None
    while True:
        page = client.get(URL, params={"limit": 3, "sort": "-code", **({"cursor": cursor} if cursor else {})}).json()
        seen += [s["code"] for s in page["items"]]
        cursor = page["next_cursor"]
        if not cursor:
            break
    assert seen == [f"S{i:03d}" for i in range(10, 0, -1)]
    by_capacity = codes(client, sort="capacity", limit=4)
    assert by_capacity == ["S004", "S008", "S001", "S005"]
    assert codes(client, sort="name", limit=1) == ["S001"]
    assert client.get(URL, params={"sort": "salary"}).status_code == 422


def test_bulk_upsert_updates_and_replaces_expertise(client: TestClient) -> None:
    assert client.post(f"{URL}/bulk", json=[ALICE]).json() == {"created": 1, "updated": 0, "total": 1, "unchanged": 0}
    again = {**ALICE, "expertise": [{"industry": "grain", "proficiency": 2}]}
    answer = client.post(f"{URL}/bulk", json=[again, person("S002")]).json()
    assert answer == {"created": 1, "updated": 1, "total": 2, "unchanged": 0}
    got = client.get(f"{URL}/S001").json()
    assert got["expertise"] == [{"industry": "grain", "proficiency": 2}] and got["version"] == 2
    assert codes(client, industry="tea") == []


TEAM: dict[str, Any] = {"code": "T01", "name": "茶叶服务团", "kind": "team", "members": ["S002", "S003"], "leader": "S003"}
ROSTER = [ALICE, person("S002"), person("S003"), TEAM]


def test_bulk_of_identical_rows_keeps_versions_and_counts_them_unchanged(client: TestClient) -> None:
    client.post(f"{URL}/bulk", json=ROSTER)
    before = {s["code"]: s for s in client.get(URL).json()["items"]}
    answer = client.post(f"{URL}/bulk", json=ROSTER).json()
    assert answer == {"created": 0, "updated": 0, "unchanged": 4, "total": 4}
    assert {s["code"]: s for s in client.get(URL).json()["items"]} == before
    assert client.get(f"{URL}/T01").headers["ETag"] == '"T01.1"'


@pytest.mark.parametrize("changed", [
    {**ALICE, "expertise": [{"industry": "tea", "proficiency": 2}, {"industry": "fruit", "proficiency": 1}]},
    {**ALICE, "expertise": list(reversed(ALICE["expertise"]))},
    {**TEAM, "leader": "S002"},
    {**TEAM, "members": ["S003", "S002"]},
])
def test_bulk_where_only_expertise_or_members_change_gives_a_new_version(client: TestClient,
                                                                         changed: dict[str, Any]) -> None:
    client.post(f"{URL}/bulk", json=ROSTER)
    rows = [changed if r["code"] == changed["code"] else r for r in ROSTER]
    answer = client.post(f"{URL}/bulk", json=rows).json()
    assert answer == {"created": 0, "updated": 1, "unchanged": 3, "total": 4}
    got = client.get(f"{URL}/{changed['code']}").json()
    assert got["version"] == 2
    assert (got["expertise"], got["members"], got["leader"]) == \
        (changed.get("expertise", []), changed.get("members", []), changed.get("leader"))


def test_patch_to_the_stored_value_keeps_the_etag(client: TestClient) -> None:
    client.post(URL, json=ALICE)
    r = client.patch(f"{URL}/S001", json={"capacity": 3}, headers={"If-Match": '"S001.1"'})
    assert r.status_code == 200, r.text
    assert r.headers["ETag"] == '"S001.1"' and r.json()["expertise"] == ALICE["expertise"]


def test_stale_if_match_gets_412(client: TestClient) -> None:
    client.post(URL, json=ALICE)
    ok = client.patch(f"{URL}/S001", json={"capacity": 5}, headers={"If-Match": '"S001.1"'})
    assert ok.status_code == 200, ok.text
    assert ok.headers["ETag"] == '"S001.2"' and ok.json()["capacity"] == 5
    assert ok.json()["expertise"] == ALICE["expertise"]
    stale = client.put(f"{URL}/S001", json={**ALICE, "capacity": 1}, headers={"If-Match": '"S001.1"'})
    assert stale.status_code == 412
    assert client.delete(f"{URL}/S001", headers={"If-Match": '"S001.1"'}).status_code == 412
    assert client.get(f"{URL}/S001").json()["capacity"] == 5


def test_put_replaces_whole_body(client: TestClient) -> None:
    client.post(URL, json=ALICE)
    r = client.put(f"{URL}/S001", json=person("S001", home_region_code="341503"), headers={"If-Match": '"S001.1"'})
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["expertise"] == [] and body["home_county_code"] == "341503" and body["capacity"] == 2
    assert client.put(f"{URL}/S001", json=person("S999")).status_code == 422


def test_patch_invalid_value_names_field(client: TestClient) -> None:
    client.post(URL, json=ALICE)
    r = client.patch(f"{URL}/S001", json={"capacity": -1})
    assert r.status_code == 422 and r.json()["error"]["errors"][0]["field"] == "capacity"
    assert client.get(f"{URL}/S001").json()["version"] == 1


def test_delete(client: TestClient) -> None:
    client.post(URL, json=ALICE)
    assert client.delete(f"{URL}/S001", headers={"If-Match": '"S001.1"'}).status_code == 204
    assert client.get(f"{URL}/S001").status_code == 404
    assert codes(client) == []


@pytest.mark.parametrize(("bad", "field"), [
    ({"capacity": -1}, "capacity"),
    ({"capacity": 51}, "capacity"),
    ({"service_days": -5}, "service_days"),
    ({"max_distance_km": 0}, "max_distance_km"),
    ({"expertise": [{"industry": "tea", "proficiency": 4}]}, "expertise.0.proficiency"),
    ({"expertise": [{"industry": "tea", "proficiency": 1}, {"industry": "tea", "proficiency": 2}]},
     "expertise.1.industry"),
    ({"home_region_code": "34150"}, "home_region_code"),
    ({"lat": 95, "lon": 116}, "lat"),
    ({"kind": "wizard"}, "kind"),
    ({"members": ["S001"]}, "members"),
    ({"leader": "S001"}, "leader"),
    ({"salary": 3}, "salary"),
])
def test_bulk_rejects_bad_row(client: TestClient, bad: dict[str, Any], field: str) -> None:
    err = bulk_error(client, [ALICE, person("S002", **bad)])
    assert (err["row"], err["field"]) == (1, field)


def test_unknown_industry_lists_valid_codes(client: TestClient) -> None:
    err = bulk_error(client, [ALICE, person("S002", expertise=[{"industry": "durian", "proficiency": 2}])])
    assert (err["row"], err["field"]) == (1, "expertise.0.industry")
    assert "durian" in err["message"] and "tea" in err["message"] and "grain" in err["message"]


def test_nan_coordinate_rejected(client: TestClient) -> None:
    body = '[{"code": "S001", "name": "a", "lon": NaN, "lat": 31.0}]'
    r = client.post(f"{URL}/bulk", content=body, headers={"Content-Type": "application/json"})
    assert r.status_code == 422
    assert (r.json()["error"]["errors"][0]["row"], r.json()["error"]["errors"][0]["field"]) == (0, "lon")
    assert codes(client) == []


def test_duplicate_codes_in_one_batch(client: TestClient) -> None:
    err = bulk_error(client, [ALICE, person("S002"), ALICE])
    assert (err["row"], err["field"]) == (2, "code")


def test_errors_of_every_row_reported_together(client: TestClient) -> None:
    rows = [person("S001", expertise=[{"industry": "durian", "proficiency": 1}]), person("S002"),
            person("S003", kind="team", members=["S404"]), person("S002")]
    r = client.post(f"{URL}/bulk", json=rows)
    assert r.status_code == 422
    assert [(e["row"], e["field"]) for e in r.json()["error"]["errors"]] == [
        (0, "expertise.0.industry"), (2, "members"), (3, "code")]
    assert codes(client) == []


def test_oversized_batch_gets_413(client: TestClient, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(get_settings(), "max_bulk_rows", 3)
    r = client.post(f"{URL}/bulk", json=[person(f"S{i}") for i in range(4)])
    assert r.status_code == 413
    assert codes(client) == []
