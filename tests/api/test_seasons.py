"""Seasons over HTTP: adopting a finished run as a season's pairings, replacing and withdrawing it."""

import threading

from fastapi.testclient import TestClient

from tests.catalogue import load_small_catalogue, wait_final


def finished_run(client: TestClient, season: str, seed: int = 0) -> str:
    run = wait_final(client, client.post("/api/v1/runs", json={"season": season, "seed": seed}).json()["id"])
    assert run["state"] in ("optimal", "feasible"), run
    return str(run["id"])


def test_adopt_an_older_run_and_it_holds_the_season(client: TestClient) -> None:
    load_small_catalogue(client)
    older, newer = finished_run(client, "2026", 1), finished_run(client, "2026", 2)
    season = client.get("/api/v1/seasons/2026").json()
    assert (season["runs"], season["finished"], season["adoption"]) == (2, 2, None)
    assert season["pairing_run"] == season["newest_run"] == newer
    r = client.put("/api/v1/seasons/2026/adoption", json={"run_id": older, "note": "县局 3 月会议通过"})
    assert r.status_code == 200, r.text
    assert (r.json()["run_id"], r.json()["note"], r.json()["replaced"]) == (older, "县局 3 月会议通过", None)
    season = client.get("/api/v1/seasons/2026").json()
    assert season["pairing_run"] == older and season["newest_run"] == newer
    assert season["adoption"]["run_id"] == older and season["coverage"] == 0.8333  # 5 of 6 villages


def test_adopting_another_run_replaces_and_withdrawing_restores_the_newest(client: TestClient) -> None:
    load_small_catalogue(client)
    first, second = finished_run(client, "2026", 1), finished_run(client, "2026", 2)
    client.put("/api/v1/seasons/2026/adoption", json={"run_id": second})
    r = client.put("/api/v1/seasons/2026/adoption", json={"run_id": first})
    assert r.json()["replaced"] == second
    assert client.get("/api/v1/seasons/2026/adoption").json()["run_id"] == first
    assert client.delete("/api/v1/seasons/2026/adoption").status_code == 204
    assert client.get("/api/v1/seasons/2026/adoption").status_code == 404
    assert client.get("/api/v1/seasons/2026").json()["pairing_run"] == second
    assert client.delete("/api/v1/seasons/2026/adoption").status_code == 404


def test_a_run_of_another_season_is_refused_and_nothing_is_written(client: TestClient) -> None:
    load_small_catalogue(client)
    run = finished_run(client, "2025")
    r = client.put("/api/v1/seasons/2026/adoption", json={"run_id": run})
    assert r.status_code == 422 and r.json()["error"]["errors"][0]["field"] == "run_id"
    assert "season '2025'" in r.json()["error"]["message"]
    assert client.get("/api/v1/seasons/2026/adoption").status_code == 404
    assert client.put("/api/v1/seasons/2026/adoption", json={"run_id": "nope"}).status_code == 404


def test_an_infeasible_run_cannot_be_adopted(client: TestClient) -> None:
    load_small_catalogue(client)
    body = {"season": "2026", "max_changes": 0,  # last season's pair of an inactive specialist must change
            "previous": [{"specialist": "TP00005", "village": "341525100201", "grade": "优秀"}]}
    run = wait_final(client, client.post("/api/v1/runs", json=body).json()["id"])
    assert run["state"] == "infeasible", run
    r = client.put("/api/v1/seasons/2026/adoption", json={"run_id": run["id"]})
    assert r.status_code == 422 and "infeasible" in r.json()["error"]["message"]
    assert client.get("/api/v1/seasons").json()[0]["adoption"] is None


def test_seasons_list_newest_first_and_unknown_season_is_404(client: TestClient) -> None:
    load_small_catalogue(client)
    finished_run(client, "2025")
    finished_run(client, "2026")
    assert [s["season"] for s in client.get("/api/v1/seasons").json()] == ["2026", "2025"]
    assert client.get("/api/v1/seasons/1999").status_code == 404
    bad = client.put("/api/v1/seasons/2026/adoption", json={"run_id": "x", "extra": 1})
    assert bad.status_code == 422


def adopt(client: TestClient, run_id: str, start: threading.Barrier, out: list[int]) -> None:
    start.wait()
    out.append(client.put("/api/v1/seasons/2026/adoption", json={"run_id": run_id}).status_code)


def test_two_first_adoptions_at_once_both_succeed_and_one_holds(client: TestClient) -> None:
    load_small_catalogue(client)
    runs = [finished_run(client, "2026", 1), finished_run(client, "2026", 2)]
    for _ in range(6):
        client.delete("/api/v1/seasons/2026/adoption")
        codes: list[int] = []
        start = threading.Barrier(2)
        threads = [threading.Thread(target=adopt, args=(client, r, start, codes)) for r in runs]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert codes == [200, 200]
        assert client.get("/api/v1/seasons/2026/adoption").json()["run_id"] in runs


def test_framework_errors_use_the_error_envelope(client: TestClient) -> None:
    r = client.post("/api/v1/seasons")
    assert r.status_code == 405 and r.json()["error"]["code"] == "method_not_allowed"
    r = client.get("/api/v1/no-such-thing")
    assert r.status_code == 404 and r.json()["error"]["code"] == "not_found"
