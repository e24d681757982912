"""Service records over HTTP: bulk upsert keyed by (season, specialist, village), filters, validation, delete."""

from typing import Any

import pytest
from fastapi.testclient import TestClient

from app.db import get_sessionmaker
from app.services.records import grades_for_season
from tests.catalogue import load_small_catalogue

URL = "/api/v1/service-records"


def rec(season: str, specialist: str, village: str, **extra: Any) -> dict[str, Any]:
    return {"season": season, "specialist": specialist, "village": village, **extra}


R1 = rec("2026", "TP00001", "341525100201", grade="优秀", service_days=30.5, visits=12, note="茶园管护")
R2 = rec("2026", "TP00002", "341525100203", grade="合格", service_days=10, visits=3)
R3 = rec("2026", "TP00003", "341525101201")
R4 = rec("2025", "TP00001", "341525100201", grade="良好", service_days=20, visits=8)


@pytest.fixture
def catalogue(client: TestClient) -> TestClient:
    load_small_catalogue(client)
    return client


def _list(client: TestClient, **params: Any) -> list[dict[str, Any]]:
    r = client.get(URL, params=params)
    assert r.status_code == 200, r.text
    return list(r.json()["items"])


def _keys(client: TestClient, **params: Any) -> list[tuple[str, str, str]]:
    return [(r["season"], r["specialist"], r["village"]) for r in _list(client, **params)]


def _bad(client: TestClient, rows: list[dict[str, Any]]) -> list[tuple[Any, str]]:
    """Post a bad batch: 422, nothing written; the (row, field) of each reported error."""
    r = client.post(f"{URL}/bulk", json=rows)
    assert r.status_code == 422, r.text
    assert _list(client) == []
    return [(e["row"], e["field"]) for e in r.json()["error"]["errors"]]


def test_bulk_upsert_then_update_bumps_version(catalogue: TestClient) -> None:
    r = catalogue.post(f"{URL}/bulk", json=[R1, R2, R3])
    assert r.status_code == 200, r.text
    assert r.json() == {"created": 3, "updated": 0, "total": 3, "unchanged": 0}
    items = {x["specialist"]: x for x in _list(catalogue)}
    first = items["TP00001"]
    assert (first["grade"], first["service_days"], first["visits"], first["note"]) == ("优秀", 30.5, 12, "茶园管护")
    assert (first["county"], first["version"]) == ("341525", 1)
    assert (items["TP00003"]["grade"], items["TP00003"]["service_days"], items["TP00003"]["visits"]) == (None, 0, 0)

    changed = {**R1, "grade": "不合格", "visits": 13, "note": None}
    r = catalogue.post(f"{URL}/bulk", json=[changed, R4])
    assert r.json() == {"created": 1, "updated": 1, "total": 2, "unchanged": 0}
    items = {(x["season"], x["specialist"]): x for x in _list(catalogue)}
    again = items[("2026", "TP00001")]
    assert (again["grade"], again["visits"], again["note"], again["version"]) == ("不合格", 13, None, 2)
    assert again["created_at"] == first["created_at"] and again["updated_at"] >= first["updated_at"]
    assert items[("2026", "TP00002")]["version"] == 1
    assert len(items) == 4


def test_inactive_specialist_is_accepted(catalogue: TestClient) -> None:
    r = catalogue.post(f"{URL}/bulk", json=[rec("2026", "TP00005", "341525100202", grade="合格")])
    assert r.status_code == 200, r.text


def test_filters_sort_and_pages(catalogue: TestClient) -> None:
    extra = rec("2026", "TP00004", "341525101202", grade="优秀")
    assert catalogue.post(f"{URL}/bulk", json=[R1, R2, R3, R4, extra]).status_code == 200
    assert _keys(catalogue, season="2025") == [("2025", "TP00001", "341525100201")]
    assert {k[0] for k in _keys(catalogue, specialist="TP00001")} == {"2025", "2026"}
    assert [k[1] for k in _keys(catalogue, village="341525100203")] == ["TP00002"]
    assert sorted(k[1] for k in _keys(catalogue, county="341525", season="2026")) == [
        "TP00001", "TP00002", "TP00003", "TP00004"]
    assert _keys(catalogue, county="341526") == []
    assert sorted(k[1] for k in _keys(catalogue, grade="优秀", season="2026")) == ["TP00001", "TP00004"]
    assert [k[0] for k in _keys(catalogue, sort="-season")][0] == "2026"
    assert [k[0] for k in _keys(catalogue, sort="season")][0] == "2025"
    seen, cursor = [], None
    while True:
        params: dict[str, Any] = {"limit": 2, "sort": "season", **({"cursor": cursor} if cursor else {})}
        body = catalogue.get(URL, params=params).json()
        seen += [(x["season"], x["specialist"]) for x in body["items"]]
        cursor = body["next_cursor"]
        if cursor is None:
            break
    assert len(seen) == 5 and len(set(seen)) == 5
    assert catalogue.get(URL, params={"sort": "grade"}).status_code == 422
    assert catalogue.get(URL, params={"grade": "很好"}).status_code == 422
    assert catalogue.get(URL, params={"county": "34"}).status_code == 422


def test_unknown_specialist_and_village_name_row_and_field(catalogue: TestClient) -> None:
    rows = [R1, rec("2026", "TP09999", "341525100202"), rec("2026", "TP00002", "341525100299"),
            rec("2026", "TP08888", "341525100298")]
    assert _bad(catalogue, rows) == [(1, "specialist"), (2, "village"), (3, "specialist"), (3, "village")]
    r = catalogue.post(f"{URL}/bulk", json=rows)
    error = r.json()["error"]
    assert error["code"] == "invalid_input" and "TP09999" in error["errors"][0]["message"]
    assert "row 1" in error["message"] and "field specialist" in error["message"]


def test_duplicate_key_in_batch(catalogue: TestClient) -> None:
    rows = [R1, R2, {**R1, "grade": "合格"}]
    errors = _bad(catalogue, rows)
    assert errors == [(2, "season/specialist/village")]
    r = catalogue.post(f"{URL}/bulk", json=rows)
    assert "first at row 0" in r.json()["error"]["errors"][0]["message"]
    # the same pairing in another season is a different record
    assert catalogue.post(f"{URL}/bulk", json=[R1, {**R1, "season": "2025"}]).status_code == 200


@pytest.mark.parametrize("bad, field", [
    ({"grade": "很好"}, "grade"),
    ({"service_days": 400}, "service_days"),
    ({"service_days": -1}, "service_days"),
    ({"visits": 1001}, "visits"),
    ({"season": ""}, "season"),
    ({"season": "x" * 33}, "season"),
    ({"village": "34152510020"}, "village"),
    ({"note": "长" * 2001}, "note"),
    ({"visit": 3}, "visit"),
])
def test_bad_fields(catalogue: TestClient, bad: dict[str, Any], field: str) -> None:
    assert _bad(catalogue, [R2, {**R1, **bad}]) == [(1, field)]


def test_bulk_size_limit(catalogue: TestClient, monkeypatch: pytest.MonkeyPatch) -> None:
    from app.settings import get_settings

    monkeypatch.setattr(get_settings(), "max_bulk_rows", 2)
    assert catalogue.post(f"{URL}/bulk", json=[R1, R2, R3]).status_code == 413


def test_delete(catalogue: TestClient) -> None:
    assert catalogue.post(f"{URL}/bulk", json=[R1, R4]).status_code == 200
    assert catalogue.delete(f"{URL}/2026/TP00001/341525100201").status_code == 204
    assert _keys(catalogue) == [("2025", "TP00001", "341525100201")]
    r = catalogue.delete(f"{URL}/2026/TP00001/341525100201")
    assert r.status_code == 404 and r.json()["error"]["code"] == "not_found"


def test_grades_for_season(catalogue: TestClient) -> None:
    assert catalogue.post(f"{URL}/bulk", json=[R1, R2, R3, R4]).status_code == 200
    with get_sessionmaker()() as session:
        assert grades_for_season(session, season="2026") == {
            ("TP00001", "341525100201"): "优秀", ("TP00002", "341525100203"): "合格", ("TP00003", "341525101201"): None}
        assert grades_for_season(session, season="2024") == {}


def test_records_of_deleted_entries_can_be_written_again(catalogue: TestClient) -> None:
    # Records outlive the villages and specialists they name; updating them (a re-import) must still work.
    assert catalogue.post(f"{URL}/bulk", json=[R1]).status_code == 200
    assert catalogue.delete("/api/v1/villages/341525100201").status_code == 204
    assert catalogue.delete("/api/v1/specialists/TP00001").status_code == 204
    r = catalogue.post(f"{URL}/bulk", json=[{**R1, "grade": "良好"}])
    assert r.status_code == 200, r.text
    assert _list(catalogue)[0]["grade"] == "良好"
    r = catalogue.post(f"{URL}/bulk", json=[rec("2027", "TP09999", "341525100201")])  # never known: still an error
    assert r.status_code == 422
    assert [(e["row"], e["field"]) for e in r.json()["error"]["errors"]] == [(0, "specialist")]
