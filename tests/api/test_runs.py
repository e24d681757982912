"""Matching runs over HTTP with the default in-process backend (solves in worker processes)."""

import io
from datetime import datetime, timedelta, timezone

from fastapi.testclient import TestClient
from openpyxl import load_workbook
from sqlalchemy import update

from app.db import session_scope
from models import RunSnapshot
from tests.catalogue import load_small_catalogue, specialist, wait_final


def test_submit_runs_to_optimal_with_explanations(client: TestClient) -> None:
    load_small_catalogue(client)
    r = client.post("/api/v1/runs", json={"season": "2026", "time_limit_s": 20})
    assert r.status_code == 202, r.text
    assert r.headers["Location"] == f"/api/v1/runs/{r.json()['id']}"
    run = wait_final(client, r.json()["id"])
    assert run["state"] == "optimal", run
    summary = client.get(f"/api/v1/runs/{run['id']}/summary").json()
    assert (summary["villages"], summary["covered"]) == (6, 5)
    assert summary["gap"] == 0
    pairs = client.get(f"/api/v1/runs/{run['id']}/assignments").json()["items"]
    assert "TP00005" not in {p["specialist"] for p in pairs}  # inactive
    assert all(p["reason"] for p in pairs)
    unc = client.get(f"/api/v1/runs/{run['id']}/uncovered").json()
    assert [u["village"] for u in unc["items"]] == ["341525101203"]
    assert unc["recruitment"][0]["industry"] == "aquaculture" and unc["recruitment"][0]["slots"] == 1


def test_export_xlsx_has_the_three_sheets(client: TestClient) -> None:
    load_small_catalogue(client)
    run = wait_final(client, client.post("/api/v1/runs", json={}).json()["id"])
    r = client.get(f"/api/v1/runs/{run['id']}/export", params={"format": "xlsx"})
    assert r.status_code == 200
    wb = load_workbook(io.BytesIO(r.content))
    assert wb.sheetnames == ["结对名单", "未覆盖村", "分县覆盖"]
    rows = list(wb["结对名单"].values)
    assert rows[0][:4] == ("县区", "乡镇", "行政村", "区划代码") and len(rows) - 1 == run["result"]["assignments"]
    assert list(wb["未覆盖村"].values)[1][2] == "己村"
    csv = client.get(f"/api/v1/runs/{run['id']}/export", params={"format": "csv"})
    assert csv.content.decode("utf-8-sig").splitlines()[0].startswith("县区,乡镇")


def test_idempotency_key_same_body_same_run_other_body_409(client: TestClient) -> None:
    load_small_catalogue(client)
    headers = {"Idempotency-Key": "abc-1"}
    first = client.post("/api/v1/runs", json={"season": "2026"}, headers=headers)
    again = client.post("/api/v1/runs", json={"season": "2026"}, headers=headers)
    assert first.status_code == 202 and again.status_code == 200
    assert first.json()["id"] == again.json()["id"]
    other = client.post("/api/v1/runs", json={"season": "2027"}, headers=headers)
    assert other.status_code == 409
    wait_final(client, first.json()["id"])
    assert len(client.get("/api/v1/runs").json()["items"]) == 1


def test_rerun_from_snapshot_gives_same_answer_after_catalogue_change(client: TestClient) -> None:
    load_small_catalogue(client)
    first = wait_final(client, client.post("/api/v1/runs", json={"seed": 3}).json()["id"])
    assert client.delete("/api/v1/specialists/TP00002").status_code == 204
    second = client.post(f"/api/v1/runs/{first['id']}/rerun")
    assert second.status_code == 202
    second_run = wait_final(client, second.json()["id"])
    assert second_run["snapshot_hash"] == first["snapshot_hash"] and second_run["rerun_of"] == first["id"]
    diff = client.get(f"/api/v1/runs/{first['id']}/diff/{second_run['id']}").json()
    assert diff["counts"]["changed"] == diff["counts"]["added"] == diff["counts"]["dropped"] == 0
    assert diff["counts"]["kept"] == first["result"]["assignments"]


def test_diff_shows_changed_pairings(client: TestClient) -> None:
    load_small_catalogue(client)
    first = wait_final(client, client.post("/api/v1/runs", json={}).json()["id"])
    pairs = client.get(f"/api/v1/runs/{first['id']}/assignments", params={"village": "341525100203"}).json()["items"]
    forbidden = [{"specialist": pairs[0]["specialist"], "village": "341525100203"}]
    second = wait_final(client, client.post("/api/v1/runs", json={"forbidden": forbidden}).json()["id"])
    diff = client.get(f"/api/v1/runs/{first['id']}/diff/{second['id']}").json()
    assert {"village": "341525100203", "specialists": [pairs[0]["specialist"]]} in diff["dropped"]


def test_bad_run_input_is_422_naming_field_and_nothing_written(client: TestClient) -> None:
    load_small_catalogue(client)
    r = client.post("/api/v1/runs", json={"locked": [{"specialist": "NOPE", "village": "341525100201"}]})
    assert r.status_code == 422
    assert r.json()["error"]["errors"][0]["field"] == "locked.specialist"
    r = client.post("/api/v1/runs", json={"levels": ["coverage", "speed"]})
    assert r.status_code == 422
    assert client.get("/api/v1/runs").json()["items"] == []


def test_list_runs_filters_by_state_and_season(client: TestClient) -> None:
    load_small_catalogue(client)
    a = wait_final(client, client.post("/api/v1/runs", json={"season": "2026"}).json()["id"])
    wait_final(client, client.post("/api/v1/runs", json={"season": "2027"}).json()["id"])
    got = client.get("/api/v1/runs", params={"season": "2026", "state": a["state"]}).json()["items"]
    assert [r["id"] for r in got] == [a["id"]]


def test_cancel_queued_run_while_no_worker_is_up(client: TestClient) -> None:
    load_small_catalogue(client)
    from app.workers.local import start_runner, stop_runner

    stop_runner()
    try:
        run_id = client.post("/api/v1/runs", json={}).json()["id"]
        assert client.get(f"/api/v1/runs/{run_id}").json()["state"] == "queued"
        cancelled = client.post(f"/api/v1/runs/{run_id}/cancel").json()
        assert cancelled["state"] == "cancelled" and cancelled["finished_at"]
        assert client.post(f"/api/v1/runs/{run_id}/cancel").status_code == 409
    finally:
        start_runner()


def test_queued_run_survives_restart(client: TestClient) -> None:
    load_small_catalogue(client)
    from app.workers.local import start_runner, stop_runner

    stop_runner()
    run_id = client.post("/api/v1/runs", json={}).json()["id"]
    assert client.get(f"/api/v1/runs/{run_id}").json()["state"] == "queued"
    start_runner()  # a new service process picks up what was left queued
    assert wait_final(client, run_id)["state"] == "optimal"


def test_export_keeps_the_names_the_run_was_made_with(client: TestClient) -> None:
    load_small_catalogue(client)
    run = wait_final(client, client.post("/api/v1/runs", json={"seed": 1}).json()["id"])
    pairs = client.get(f"/api/v1/runs/{run['id']}/assignments").json()["items"]
    specialist = pairs[0]["specialist"]
    before = client.get(f"/api/v1/specialists/{specialist}").json()["name"]
    assert client.patch("/api/v1/villages/341525100201", json={"name": "新甲村"}).status_code == 200
    assert client.delete(f"/api/v1/specialists/{specialist}").status_code == 204
    rerun = wait_final(client, client.post(f"/api/v1/runs/{run['id']}/rerun").json()["id"])
    for r in (run, rerun):  # a re-run keeps its snapshot's names too
        rows = client.get(f"/api/v1/runs/{r['id']}/export", params={"format": "json"}).json()["pairings"]
        assert "新甲村" not in {p["行政村"] for p in rows} and "甲村" in {p["行政村"] for p in rows}
        mine = [p for p in rows if p["特派员编号"] == specialist]
        assert mine and {p["特派员"] for p in mine} == {before} and mine[0]["专长"] and mine[0]["派出单位"]
    fresh = wait_final(client, client.post("/api/v1/runs", json={"seed": 1}).json()["id"])
    rows = client.get(f"/api/v1/runs/{fresh['id']}/export", params={"format": "json"}).json()["pairings"]
    assert "新甲村" in {p["行政村"] for p in rows} and specialist not in {p["特派员编号"] for p in rows}


def test_a_run_from_before_names_were_frozen_exports_todays_names(client: TestClient) -> None:
    load_small_catalogue(client)
    run = wait_final(client, client.post("/api/v1/runs", json={}).json()["id"])
    with session_scope() as session:
        session.execute(update(RunSnapshot).where(RunSnapshot.run_id == run["id"]).values(names=None))
    client.patch("/api/v1/villages/341525100201", json={"name": "新甲村"})
    rows = client.get(f"/api/v1/runs/{run['id']}/export", params={"format": "json"}).json()["pairings"]
    assert "新甲村" in {p["行政村"] for p in rows} and all(p["特派员"] != p["特派员编号"] for p in rows)


def test_a_specialist_code_that_looks_like_a_region_code_does_not_rename_the_region(client: TestClient) -> None:
    load_small_catalogue(client)
    for code, name in (("341525", "孙果"), ("341525100202", "周某")):
        r = client.post("/api/v1/specialists", json=specialist(code, name, {"tea": 3}))
        assert r.status_code == 201, r.text
    run = wait_final(client, client.post("/api/v1/runs", json={}).json()["id"])
    body = client.get(f"/api/v1/runs/{run['id']}/export", params={"format": "json"}).json()
    assert {p["县区"] for p in body["pairings"]} == {"霍山县"} and body["counties"][0]["县区"] == "霍山县"
    assert {p["行政村"] for p in body["pairings"] if p["区划代码"] == "341525100202"} == {"乙村"}
    assert {p["特派员"] for p in body["pairings"] if p["特派员编号"] in ("341525", "341525100202")} <= {"孙果", "周某"}


def test_bad_run_parameters_are_refused_naming_the_field_and_nothing_is_queued(client: TestClient) -> None:
    load_small_catalogue(client)
    pair = {"specialist": "TP00001", "village": "341525100201"}
    cases = [({"season": "2026/H1"}, "season"), ({"level_weights": {"travle": 2}}, "level_weights"),
             ({"level_weights": {"travel": -1}}, "level_weights.travel"),
             ({"level_weights": {"travel": 1e300}}, "level_weights.travel"),
             ({"locked": [pair], "forbidden": [pair]}, "forbidden")]
    for body, field in cases:
        r = client.post("/api/v1/runs", json=body)
        assert r.status_code == 422, (body, r.text)
        assert r.json()["error"]["errors"][0]["field"] == field, (body, r.json())
    assert client.get("/api/v1/runs").json()["items"] == []
    run = client.post("/api/v1/runs", json={"season": " 2026 "}).json()
    assert run["season"] == "2026"
    wait_final(client, run["id"])


def test_times_are_utc_and_filters_honour_an_offset(client: TestClient) -> None:
    load_small_catalogue(client)
    run = wait_final(client, client.post("/api/v1/runs", json={}).json()["id"])
    created = datetime.fromisoformat(client.get(f"/api/v1/runs/{run['id']}").json()["created_at"])
    assert created.utcoffset() == timedelta(0)
    just_before = (created - timedelta(seconds=1)).astimezone(timezone(timedelta(hours=8)))
    assert [r["id"] for r in client.get("/api/v1/runs", params={"created_after": just_before.isoformat()})
            .json()["items"]] == [run["id"]]
    after = (created + timedelta(seconds=1)).astimezone(timezone(timedelta(hours=8)))
    assert client.get("/api/v1/runs", params={"created_after": after.isoformat()}).json()["items"] == []
    county = client.get("/api/v1/counties/341525").json()
    assert datetime.fromisoformat(county["created_at"]).utcoffset() == timedelta(0)


def test_results_of_a_run_without_an_answer_are_409(client: TestClient) -> None:
    # An empty name list or a change report saying every pairing was dropped used to answer 200.
    load_small_catalogue(client)
    from app.workers.local import start_runner, stop_runner

    stop_runner()
    try:
        run_id = client.post("/api/v1/runs", json={}).json()["id"]
        for part in ("assignments", "uncovered", "export", "changes", f"diff/{run_id}"):
            r = client.get(f"/api/v1/runs/{run_id}/{part}")
            assert r.status_code == 409, part
            assert r.json()["error"]["message"] == f"run {run_id} is queued: it has no answer yet"
        client.post(f"/api/v1/runs/{run_id}/cancel")
        assert client.get(f"/api/v1/runs/{run_id}/export").json()["error"]["state"] == "cancelled"
        assert client.get(f"/api/v1/runs/{run_id}/summary").status_code == 200  # it says the state
    finally:
        start_runner()
    done = wait_final(client, client.post("/api/v1/runs", json={}).json()["id"])
    assert client.get(f"/api/v1/runs/{done['id']}/export").status_code == 200


def test_an_infeasible_run_covers_nothing(client: TestClient) -> None:
    # Locks beyond a capacity: no answer. Its summary used to say every village was covered.
    load_small_catalogue(client)
    locked = [{"specialist": "TP00004", "village": v} for v in ("341525100201", "341525100202")]  # capacity 1
    run = wait_final(client, client.post("/api/v1/runs", json={"locked": locked}).json()["id"])
    assert run["state"] == "infeasible"
    assert (run["result"]["covered"], run["result"]["coverage"]) == (0, 0.0)
    assert run["result"]["uncovered"] == run["result"]["villages"] > 0


def test_the_exact_finish_is_a_run_parameter(client: TestClient) -> None:
    load_small_catalogue(client)
    run = wait_final(client, client.post("/api/v1/runs", json={"exact_finish": False}).json()["id"])
    assert run["params"]["exact_finish"] is False and run["state"] in ("optimal", "feasible")
    assert "exact MILPs" not in run["result"]["method"]
    bad = client.post("/api/v1/runs", json={"exact_finish": "sometimes"})
    assert bad.status_code == 422 and bad.json()["error"]["errors"][0]["field"] == "exact_finish"
