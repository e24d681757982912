"""Loading the demo catalogue into the test database; the list endpoints then show it."""

from fastapi.testclient import TestClient
from sqlalchemy import Engine, func, select, update

from app.db import get_sessionmaker
from app.demo.load import load_demo
from models import Specialist, TeamMember, Village, VillageNeed
from tests.cli.clihelp import run


def _load(seed: int = 2026) -> dict[str, int]:
    with get_sessionmaker()() as session:
        counts = load_demo(session, seed=seed)
        session.commit()
    return counts


def _snapshot(engine: Engine) -> dict[str, object]:
    with engine.connect() as conn:
        return {
            "villages": conn.execute(select(Village.code, Village.name, Village.kind, Village.lon, Village.lat,
                                            Village.excluded).order_by(Village.code)).all(),
            "needs": conn.execute(select(func.count()).select_from(VillageNeed)).scalar(),
            "specialists": conn.execute(select(Specialist.code, Specialist.name, Specialist.kind, Specialist.capacity)
                                        .order_by(Specialist.code)).all(),
            "members": conn.execute(select(func.count()).select_from(TeamMember)).scalar(),
        }


def test_load_twice_gives_the_same_catalogue(db: Engine) -> None:
    counts = _load()
    assert counts["counties"] == 7 and counts["townships"] == 146
    assert counts["villages"] == 1970 and counts["specialists"] == 1500
    first = _snapshot(db)
    assert _load() == counts
    assert _snapshot(db) == first
    _load(seed=7)  # a different seed rewrites the synthetic part in place (teams change members)
    assert _snapshot(db)["villages"] != first["villages"]
    _load()
    assert _snapshot(db) == first


def test_list_endpoints_show_the_demo(client: TestClient) -> None:
    _load()
    counties = client.get("/api/v1/counties").json()["items"]
    assert {c["name"] for c in counties} >= {"金寨县", "霍山县", "霍邱县"}
    r = client.get("/api/v1/townships", params={"county": "341525", "limit": 1000})
    assert len(r.json()["items"]) == 17
    page = client.get("/api/v1/villages", params={"county": "341525", "excluded": False, "limit": 1000}).json()
    assert len(page["items"]) == 125  # the 村委会 of 霍山县; urban communities are excluded by default
    assert all(v["kind"] == "村委会" and v["needs"] for v in page["items"])
    tea = client.get("/api/v1/villages", params={"county": "341525", "industry": "tea", "limit": 1000}).json()
    assert tea["items"]
    teams = client.get("/api/v1/specialists", params={"kind": "team", "limit": 1000}).json()["items"]
    assert len(teams) == 40 and all(t["leader"] in t["members"] for t in teams)
    one = client.get(f"/api/v1/specialists/{teams[0]['members'][0]}/team")
    assert one.status_code == 200 and one.json()["code"] == teams[0]["code"]


def _versions(engine: Engine) -> dict[str, int]:
    with engine.connect() as conn:
        rows = conn.execute(select(Village.code, Village.version).union_all(select(Specialist.code, Specialist.version)))
        return dict(rows.all())


def _edit_radius(engine: Engine, code: str, km: float) -> None:
    """A planner's edit, as PATCH makes it: a new value and a new version."""
    with engine.begin() as conn:
        conn.execute(update(Specialist).where(Specialist.code == code)
                     .values(max_distance_km=km, version=Specialist.version + 1))


def _radius(engine: Engine, code: str) -> float | None:
    with engine.connect() as conn:
        return conn.scalar(select(Specialist.max_distance_km).where(Specialist.code == code))


def test_reloading_the_demo_changes_no_version(db: Engine) -> None:
    _load()
    _load()
    assert set(_versions(db).values()) == {1}


def test_demo_load_leaves_a_catalogue_in_use_as_it_is(db: Engine, database_url: str) -> None:
    _load()
    _edit_radius(db, "TP00003", 8)
    result = run("demo", "load", env={"DATABASE_URL": database_url})  # what every `make run` does
    assert result.exit_code == 0, result.output
    assert "demo not loaded: the catalogue already holds 1970 villages and 1500 specialists" in result.output
    assert _radius(db, "TP00003") == 8


def test_demo_load_force_overwrites_only_the_entries_that_differ(db: Engine, database_url: str) -> None:
    _load()
    demo_radius = _radius(db, "TP00003")
    _edit_radius(db, "TP00003", 8)
    result = run("demo", "load", "--force", env={"DATABASE_URL": database_url})
    assert result.exit_code == 0, result.output
    assert "villages: 1970" in result.output
    assert _radius(db, "TP00003") == demo_radius != 8
    versions = _versions(db)
    assert versions.pop("TP00003") == 3 and set(versions.values()) == {1}
