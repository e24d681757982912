"""Per-pair overrides streamed as a CSV file in a multipart submission."""

import json

import pytest
from fastapi.testclient import TestClient

from tests.catalogue import load_small_catalogue, wait_final

CSV = "specialist,village,score,effort_days\nTP00003,341525100201,9,\nTP00002,341525100202,5,20\n"


def submit(client: TestClient, params: dict[str, object], csv: str, **headers: str):  # type: ignore[no-untyped-def]
    return client.post("/api/v1/runs", data={"params": json.dumps(params)},
                       files={"overrides": ("pairs.csv", csv.encode(), "text/csv")}, headers=headers)


def test_csv_overrides_restrict_candidates_and_replace_scores(client: TestClient) -> None:
    load_small_catalogue(client)
    r = submit(client, {"restrict_to_overrides": True}, CSV)
    assert r.status_code == 202, r.text
    run = wait_final(client, r.json()["id"])
    assert run["params"]["override_pairs"] == 2
    got = {(a["specialist"], a["village"]): a["score"]
           for a in client.get(f"/api/v1/runs/{run['id']}/assignments").json()["items"]}
    assert got == {("TP00003", "341525100201"): 9.0, ("TP00002", "341525100202"): 5.0}


def test_bad_csv_line_names_line_and_field_and_writes_nothing(client: TestClient) -> None:
    load_small_catalogue(client)
    r = submit(client, {}, CSV + "TP00001,341525100203,lots,\n")
    assert r.status_code == 422
    err = r.json()["error"]["errors"][0]
    assert (err["line"], err["field"]) == (4, "overrides.score")
    assert client.get("/api/v1/runs").json()["items"] == []


def test_unknown_specialist_in_csv_is_named_with_its_line(client: TestClient) -> None:
    load_small_catalogue(client)
    r = submit(client, {}, CSV + "TP09999,341525100203,1,\n")
    assert r.status_code == 422
    err = r.json()["error"]["errors"][0]
    assert err["line"] == 4 and err["field"] == "overrides.specialist" and "TP09999" in err["message"]


def test_too_many_pairs_is_413(client: TestClient, monkeypatch: pytest.MonkeyPatch) -> None:
    from app.settings import get_settings

    load_small_catalogue(client)
    monkeypatch.setattr(get_settings(), "max_override_pairs", 1)
    assert submit(client, {}, CSV).status_code == 413


def test_idempotency_covers_the_csv(client: TestClient) -> None:
    load_small_catalogue(client)
    first = submit(client, {}, CSV, **{"Idempotency-Key": "k-csv"})
    again = submit(client, {}, CSV, **{"Idempotency-Key": "k-csv"})
    other = submit(client, {}, CSV.replace(",9,", ",8,"), **{"Idempotency-Key": "k-csv"})
    assert first.status_code == 202 and again.json()["id"] == first.json()["id"]
    assert other.status_code == 409
    wait_final(client, first.json()["id"])


def test_unreadable_submissions_are_422_naming_the_part_and_write_nothing(client: TestClient) -> None:
    load_small_catalogue(client)
    bad = [
        client.post("/api/v1/runs", content=b"\xff\xfe{", headers={"content-type": "application/json"}),
        client.post("/api/v1/runs", files={"params": ("p.json", b"\xff{", "application/json")}),
        client.post("/api/v1/runs", files={"parmas": (None, json.dumps({"season": "2026"}))}),
        client.post("/api/v1/runs", files={"params": (None, "{}"), "overrides": (None, CSV)}),
        submit(client, {}, CSV + "TP00001," + "9" * 200_000 + ",1,\n"),
    ]
    fields = ["(body)", "params", "parmas", "overrides", "overrides"]
    for r, field in zip(bad, fields, strict=True):
        assert r.status_code == 422, r.text
        assert r.json()["error"]["errors"][0]["field"] == field
    assert client.get("/api/v1/runs").json()["items"] == []
