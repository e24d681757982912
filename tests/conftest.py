"""Test database: a real, migrated database per run (SQLite by default, PostgreSQL with JIEDUI_TEST_DB=postgres).

Each test starts from the migrated state: after every test that touched the database all rows are
removed and the seeded industries restored.
"""

import os
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import settings
from sqlalchemy import Engine, delete, insert, select

from models import Base


def _redis_url() -> str:
    # Each pytest-xdist process its own Redis database (gw0: the given one, gw1 the one below, ...): they share one
    # queue name, and a Celery worker of one process would take the runs of another (whose database it cannot see).
    base = os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/15")
    n = int(os.environ.get("PYTEST_XDIST_WORKER", "gw0")[2:] or 0)
    root, _, db = base.rpartition("/")
    return f"{root}/{(int(db) - n) % 16}" if n and db.isdigit() else base


# Settings every process of the test run shares (worker processes inherit the environment).
os.environ["REDIS_URL"] = _redis_url()
os.environ["JIEDUI_WEBHOOK_SECRET"] = "test-secret"
os.environ["JIEDUI_WEBHOOK_BACKOFF_SECONDS"] = "0.2"
os.environ["JIEDUI_LEASE_SECONDS"] = "3"
os.environ["JIEDUI_HEARTBEAT_SECONDS"] = "0.5"
os.environ["JIEDUI_REAPER_INTERVAL_SECONDS"] = "0.5"

# Property tests explore new random examples on every local run; CI (HYPOTHESIS_PROFILE=ci) runs a fixed
# set, so a landing never depends on the draw. Stress them locally with more examples when the solver changes.
settings.register_profile("ci", derandomize=True, database=None)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "default"))


def _test_url(tmp: Path) -> str:
    if os.environ.get("JIEDUI_TEST_DB") == "postgres":
        url = os.environ.get("TEST_DATABASE_URL")
        if not url:
            raise RuntimeError("JIEDUI_TEST_DB=postgres needs TEST_DATABASE_URL")
        return url
    return f"sqlite:///{tmp / 'test.db'}"


@pytest.fixture(scope="session")
def database_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    url = _test_url(tmp_path_factory.mktemp("db"))
    os.environ["DATABASE_URL"] = url
    os.environ["JIEDUI_MIGRATE_ON_START"] = "false"
    from app import db as app_db
    from app.settings import get_settings

    get_settings.cache_clear()
    app_db.get_engine.cache_clear()
    app_db.get_sessionmaker.cache_clear()
    app_db.migrate_to_head(url)
    yield url
    app_db.get_engine().dispose()


@pytest.fixture(scope="session")
def engine(database_url: str) -> Engine:
    from app.db import get_engine

    return get_engine()


@pytest.fixture(scope="session")
def seed_rows(engine: Engine) -> dict[str, list[dict[str, object]]]:
    """Rows the migrations seed, restored after each test."""
    industries = Base.metadata.tables["industries"]
    with engine.connect() as conn:
        return {"industries": [dict(r._mapping) for r in conn.execute(select(industries))]}


@pytest.fixture
def db(engine: Engine, seed_rows: dict[str, list[dict[str, object]]]) -> Iterator[Engine]:
    """A clean migrated database for one test."""
    yield engine
    with engine.begin() as conn:
        for table in reversed(Base.metadata.sorted_tables):
            conn.execute(delete(table))
        for name, rows in seed_rows.items():
            conn.execute(insert(Base.metadata.tables[name]), rows)


@pytest.fixture
def client(db: Engine) -> Iterator["TestClient"]:  # noqa: F821
    from fastapi.testclient import TestClient

    from app.main import app

    with TestClient(app) as c:
        yield c


@pytest.fixture
def receiver(request: pytest.FixtureRequest) -> Iterator["Receiver"]:  # noqa: F821
    from tests.receiver import Receiver

    server = Receiver(failures=getattr(request, "param", 0))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
