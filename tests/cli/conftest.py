"""Fixtures of the CLI tests."""

from collections.abc import Iterator

import pytest
from sqlalchemy import Engine

from app.cli.output import reset_caches
from app.db import session_scope
from app.demo.load import load_demo


@pytest.fixture
def env(db: Engine, database_url: str) -> Iterator[dict[str, str]]:
    """The 六安 demo loaded; the environment to run the CLI on it."""
    with session_scope() as session:
        load_demo(session)
    yield {"DATABASE_URL": database_url}
    reset_caches()
