"""A run's end: the stored answer and the last progress entry agree."""

from fastapi.testclient import TestClient

from tests.catalogue import load_small_catalogue, wait_final


def test_last_progress_is_the_answers_level_bound_and_time(client: TestClient) -> None:
    # It used to keep the solver's last live report (a bound phase, elapsed well short of the solve time).
    load_small_catalogue(client)
    run = wait_final(client, client.post("/api/v1/runs", json={"time_limit_s": 20}).json()["id"])
    progress, result = run["progress"], run["result"]
    assert progress["phase"] == "done"
    assert (progress["bound"], progress["gap"]) == (result["bound"], result["gap"])
    first = next(lv for lv in result["levels"] if lv["name"] == progress["level"])
    assert progress["value"] == first["value"]
    assert progress["elapsed_s"] == round(run["solve_seconds"], 3)
