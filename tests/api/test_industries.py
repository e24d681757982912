"""The industry taxonomy over HTTP, and industry code resolution."""

import base64
import json

from fastapi.testclient import TestClient
from sqlalchemy import Engine, insert, select

from app.db import get_sessionmaker
from app.errors import InvalidInput
from app.services.industries import resolve_industries
from models import Base, Industry

NEW = {"code": "bamboo", "name_zh": "竹产业", "name_en": "Bamboo"}
VILLAGE = {"code": "341502001201", "name": "双河村", "kind": "村委会"}


def _region(client: TestClient) -> None:
    assert client.post("/api/v1/counties", json={"code": "341502", "name": "金安区"}).status_code == 201
    assert client.post("/api/v1/townships", json={"code": "341502001", "name": "中市街道"}).status_code == 201


def test_seeded_taxonomy_lists_with_cursor(client: TestClient) -> None:
    seen, cursor = [], None
    while True:
        page = client.get("/api/v1/industries", params={"limit": 10, **({"cursor": cursor} if cursor else {})}).json()
        seen += [i["code"] for i in page["items"]]
        cursor = page["next_cursor"]
        if not cursor:
            break
    assert len(seen) == 26 and seen == sorted(seen) and "tea" in seen
    by_name = client.get("/api/v1/industries", params={"sort": "-name_zh", "limit": 2}).json()["items"]
    assert len(by_name) == 2 and by_name[0]["name_zh"] >= by_name[1]["name_zh"]


def test_create_read_and_conflict(client: TestClient) -> None:
    r = client.post("/api/v1/industries", json=NEW)
    assert r.status_code == 201, r.text
    assert r.headers["ETag"] == '"bamboo.1"'
    got = client.get("/api/v1/industries/bamboo")
    assert got.json()["name_zh"] == "竹产业" and got.headers["ETag"] == '"bamboo.1"'
    assert client.post("/api/v1/industries", json=NEW).status_code == 409
    assert client.get("/api/v1/industries/nope").status_code == 404


def test_malformed_code_rejected(client: TestClient) -> None:
    r = client.post("/api/v1/industries", json={**NEW, "code": "Bamboo-1"})
    assert r.status_code == 422
    assert r.json()["error"]["errors"][0]["field"] == "code"


def test_patch_and_stale_if_match(client: TestClient) -> None:
    client.post("/api/v1/industries", json=NEW)
    ok = client.patch("/api/v1/industries/bamboo", json={"name_en": "Bamboo industry"},
                      headers={"If-Match": '"bamboo.1"'})
    assert ok.status_code == 200 and ok.headers["ETag"] == '"bamboo.2"'
    assert ok.json()["name_zh"] == "竹产业"
    stale = client.put("/api/v1/industries/bamboo", json={**NEW, "name_en": "X"}, headers={"If-Match": '"bamboo.1"'})
    assert stale.status_code == 412
    assert client.delete("/api/v1/industries/bamboo", headers={"If-Match": '"bamboo.1"'}).status_code == 412
    assert client.get("/api/v1/industries/bamboo").json()["name_en"] == "Bamboo industry"


def test_bulk_upsert_creates_and_updates(client: TestClient) -> None:
    rows = [NEW, {"code": "tea", "name_zh": "茶产业", "name_en": "Tea"}]
    assert client.post("/api/v1/industries/bulk", json=rows).json() == {"created": 1, "updated": 1, "total": 2, "unchanged": 0}
    tea = client.get("/api/v1/industries/tea").json()
    assert tea["name_zh"] == "茶产业" and tea["version"] == 2


def test_bulk_of_the_seeded_names_changes_nothing(client: TestClient) -> None:
    tea = client.get("/api/v1/industries/tea").json()
    row = {k: tea[k] for k in ("code", "name_zh", "name_en")}
    answer = client.post("/api/v1/industries/bulk", json=[row, NEW]).json()
    assert answer == {"created": 1, "updated": 0, "unchanged": 1, "total": 2}
    assert client.get("/api/v1/industries/tea").json() == tea


def test_bulk_duplicate_code_rejected(client: TestClient) -> None:
    r = client.post("/api/v1/industries/bulk", json=[NEW, NEW])
    assert r.status_code == 422
    assert (r.json()["error"]["errors"][0]["row"], r.json()["error"]["errors"][0]["field"]) == (1, "code")
    assert client.get("/api/v1/industries/bamboo").status_code == 404


def test_delete_unused_industry(client: TestClient) -> None:
    client.post("/api/v1/industries", json=NEW)
    assert client.delete("/api/v1/industries/bamboo", headers={"If-Match": '"bamboo.1"'}).status_code == 204
    assert client.get("/api/v1/industries/bamboo").status_code == 404


def test_delete_industry_needed_by_village_conflicts(client: TestClient) -> None:
    _region(client)
    client.post("/api/v1/villages", json={**VILLAGE, "needs": [{"industry": "tea"}]})
    r = client.delete("/api/v1/industries/tea")
    assert r.status_code == 409 and "village needs" in r.json()["error"]["message"]
    assert client.get("/api/v1/industries/tea").status_code == 200


def test_delete_industry_in_specialist_expertise_conflicts(client: TestClient, db: Engine) -> None:
    with db.begin() as conn:
        tea_id = conn.scalar(select(Industry.id).where(Industry.code == "tea"))
        specialists, expertise = Base.metadata.tables["specialists"], Base.metadata.tables["specialist_expertise"]
        sid = conn.execute(insert(specialists).values(
            code="S001", name="张三", kind="individual", capacity=2, service_days=120.0,
            three_areas_programme=False, active=True, version=1,
        ).returning(specialists.c.id)).scalar_one()
        conn.execute(insert(expertise).values(specialist_id=sid, industry_id=tea_id, proficiency=3))
    r = client.delete("/api/v1/industries/tea")
    assert r.status_code == 409 and "specialist expertise" in r.json()["error"]["message"]


def test_new_industry_can_be_used_in_a_need(client: TestClient) -> None:
    _region(client)
    rejected = client.post("/api/v1/villages", json={**VILLAGE, "needs": [{"industry": "bamboo"}]})
    assert rejected.status_code == 422
    assert client.post("/api/v1/industries", json=NEW).status_code == 201
    r = client.post("/api/v1/villages", json={**VILLAGE, "needs": [{"industry": "bamboo"}]})
    assert r.status_code == 201, r.text
    assert r.json()["needs"] == [{"industry": "bamboo", "weight": 1.0, "primary": True, "rank": 1}]


def test_resolve_industries_reports_every_unknown_code(client: TestClient) -> None:
    with get_sessionmaker()() as session:
        found = resolve_industries(session, refs=[(0, "expertise.0.industry", "tea"), (None, "x", "grain")])
        assert set(found) == {"tea", "grain"}
        try:
            resolve_industries(session, refs=[(0, "needs.0.industry", "tea"), (0, "needs.1.industry", "rice"),
                                              (3, "needs.2.industry", "cotton")])
        except InvalidInput as exc:
            assert [(e["row"], e["field"]) for e in exc.errors] == [(0, "needs.1.industry"), (3, "needs.2.industry")]
            assert "cotton" in exc.message and "rice" in exc.message and "vegetables" in exc.message
            assert "vegetables" in exc.errors[0]["message"]
        else:
            raise AssertionError("unknown codes were accepted")


def test_a_cursor_made_for_another_sort_or_tampered_with_is_422(client: TestClient) -> None:
    cursor = client.get("/api/v1/industries", params={"limit": 2, "sort": "code"}).json()["next_cursor"]
    assert client.get("/api/v1/industries", params={"limit": 2, "sort": "code", "cursor": cursor}).status_code == 200
    forged = base64.urlsafe_b64encode(json.dumps([{"a": 1}, 1, "code"]).encode()).decode()
    for sort, c in (("-code", cursor), ("code", forged), ("code", "not-base64!")):
        r = client.get("/api/v1/industries", params={"limit": 2, "sort": sort, "cursor": c})
        assert r.status_code == 422 and r.json()["error"]["errors"][0]["field"] == "cursor", r.text
