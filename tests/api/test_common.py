"""What every catalogue endpoint shares: If-Match under concurrency, the error envelope in the docs, sort values."""

from fastapi.testclient import TestClient
from sqlalchemy import select, update

from app.api.common import etag_of, guard_version
from app.db import get_sessionmaker
from app.errors import PreconditionFailed
from models import Specialist
from tests.catalogue import load_small_catalogue


def test_if_match_loses_to_a_write_committed_after_the_read(client: TestClient) -> None:
    load_small_catalogue(client)
    sessions = get_sessionmaker()
    with sessions() as mine:
        specialist = mine.scalars(select(Specialist).where(Specialist.code == "TP00001")).one()
        seen = etag_of(specialist.code, specialist.version)
        with sessions() as theirs:  # another request writes between this one's read and its write
            theirs.execute(update(Specialist).where(Specialist.code == "TP00001").values(version=Specialist.version + 1))
            theirs.commit()
        try:
            guard_version(mine, specialist, seen)
        except PreconditionFailed as exc:
            assert "concurrent" in exc.message
        else:
            raise AssertionError("a stale If-Match passed")


def test_if_match_holds_for_the_current_version(client: TestClient) -> None:
    load_small_catalogue(client)
    etag = client.get("/api/v1/specialists/TP00001").headers["ETag"]
    r = client.patch("/api/v1/specialists/TP00001", json={"name": "新名"}, headers={"If-Match": etag})
    assert r.status_code == 200, r.text
    assert r.headers["ETag"] == etag.replace(".1", ".2")  # one write, one version
    again = client.patch("/api/v1/specialists/TP00001", json={"name": "又一名"}, headers={"If-Match": etag})
    assert again.status_code == 412


def test_docs_describe_the_error_envelope_and_sort_values(client: TestClient) -> None:
    doc = client.get("/openapi.json").json()
    patch = doc["paths"]["/api/v1/villages/{code}"]["patch"]
    for status in ("404", "409", "412", "422"):
        assert patch["responses"][status]["content"]["application/json"]["schema"]["$ref"].endswith("ErrorEnvelope")
    assert "HTTPValidationError" not in doc["components"]["schemas"]
    assert "412" not in doc["paths"]["/api/v1/runs/{run_id}/uncovered"]["get"]["responses"]  # no If-Match there
    assert "412" in doc["paths"]["/api/v1/specialists/{code}"]["delete"]["responses"]
    body = patch["requestBody"]["content"]["application/merge-patch+json"]["schema"]
    assert "needs" in body["description"]
    sort = [p for p in doc["paths"]["/api/v1/townships"]["get"]["parameters"] if p["name"] == "sort"][0]
    assert sort["schema"]["enum"] == ["code", "-code", "name", "-name", "updated_at", "-updated_at"]


def test_malformed_json_names_a_character_not_a_row(client: TestClient) -> None:
    r = client.post("/api/v1/counties/bulk", content=b'[{"code": "341502", "name": "a"},,{}]',
                    headers={"Content-Type": "application/json"})
    assert r.status_code == 422
    error = r.json()["error"]
    assert error["errors"][0]["row"] is None
    assert "character 34 of the body" in error["message"]


def test_a_write_that_changes_nothing_keeps_its_stamps_under_if_match(client: TestClient) -> None:
    # The If-Match claim (a no-op UPDATE) used to fire updated_at's onupdate.
    load_small_catalogue(client)
    before = client.get("/api/v1/villages/341525100201")
    r = client.patch("/api/v1/villages/341525100201", json={}, headers={"If-Match": before.headers["ETag"]})
    assert r.status_code == 200
    after = client.get("/api/v1/villages/341525100201").json()
    assert (after["version"], after["updated_at"]) == (before.json()["version"], before.json()["updated_at"])


def test_a_412_names_the_current_version_in_its_etag_header(client: TestClient) -> None:
    load_small_catalogue(client)
    current = client.get("/api/v1/specialists/TP00001").headers["ETag"]
    r = client.patch("/api/v1/specialists/TP00001", json={"name": "某"}, headers={"If-Match": '"TP00001.99"'})
    assert r.status_code == 412 and r.headers["ETag"] == current == r.json()["error"]["current_etag"]


def test_an_identical_row_written_after_a_stale_read_keeps_its_version(client: TestClient) -> None:
    # Two identical bulk requests at once: both read "new", the second's write must not bump the version.
    from typing import Any, cast

    from sqlalchemy import Table

    from app.services.bulk import _write
    from models import County

    client.post("/api/v1/counties/bulk", json=[{"code": "341502", "name": "金安区"}])
    row: dict[str, Any] = {"code": "341502", "name": "金安区", "lon": None, "lat": None, "datum": None}
    with get_sessionmaker()() as session:
        _write(session, cast(Table, County.__table__), [dict(row)], only_if_different=True)
        session.commit()
    assert client.get("/api/v1/counties/341502").json()["version"] == 1
