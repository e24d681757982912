"""Submitting runs at once with one Idempotency-Key, and filtering runs by state."""

from concurrent.futures import ThreadPoolExecutor

from fastapi.testclient import TestClient

from tests.catalogue import load_small_catalogue, wait_final


def test_concurrent_submissions_with_one_key_get_one_run(client: TestClient) -> None:
    # Check-then-insert: the requests that lost the race used to get 409 "conflicts with a concurrent change".
    load_small_catalogue(client)
    body = {"season": "2026", "time_limit_s": 10}

    def submit(_: int) -> tuple[int, str]:
        r = client.post("/api/v1/runs", json=body, headers={"Idempotency-Key": "race-1"})
        return r.status_code, r.json().get("id", r.text)

    with ThreadPoolExecutor(4) as pool:
        answers = list(pool.map(submit, range(4)))
    assert sorted(code for code, _ in answers) == [200, 200, 200, 202], answers
    assert len({run_id for _, run_id in answers}) == 1
    wait_final(client, answers[0][1])
    other = client.post("/api/v1/runs", json={**body, "season": "2027"}, headers={"Idempotency-Key": "race-1"})
    assert other.status_code == 409


def test_an_unknown_state_filter_is_refused(client: TestClient) -> None:
    r = client.get("/api/v1/runs", params={"state": "optimal,bogus"})
    assert r.status_code == 422
    assert r.json()["error"]["errors"][0]["field"] == "state" and "bogus" in r.json()["error"]["message"]
    assert client.get("/api/v1/runs", params={"state": "optimal, feasible"}).status_code == 200
