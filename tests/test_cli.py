"""The `jiedui` command line on a temporary SQLite database (settings come from the environment)."""

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, func, select
from typer.testing import CliRunner

from app.cli import main
from app.cli.output import reset_caches
from app.db import head_revision
from models import Specialist, Village


@pytest.fixture
def cli_env(tmp_path: Path) -> Iterator[dict[str, str]]:
    """Environment for one CLI database; the cached settings and engine are rebuilt afterwards."""
    yield {"DATABASE_URL": f"sqlite:///{tmp_path / 'cli.db'}"}
    reset_caches()  # the CLI cached an engine on the temporary file; later tests get theirs back


def test_db_upgrade_then_current(cli_env: dict[str, str]) -> None:
    runner = CliRunner()
    before = runner.invoke(main, ["db", "current"], env=cli_env)
    assert before.exit_code == 1 and "(none)" in before.output
    up = runner.invoke(main, ["db", "upgrade"], env=cli_env)
    assert up.exit_code == 0, up.output
    assert f"revision: {head_revision()}" in up.output
    after = runner.invoke(main, ["db", "current"], env=cli_env)
    assert after.exit_code == 0 and f"revision: {head_revision()}" in after.output


def test_demo_load_migrates_and_loads(cli_env: dict[str, str]) -> None:
    runner = CliRunner()
    result = runner.invoke(main, ["demo", "load", "--seed", "2026"], env=cli_env)
    assert result.exit_code == 0, result.output
    assert "villages: 1970" in result.output and "specialists: 1500" in result.output
    again = runner.invoke(main, ["demo", "load"], env=cli_env)
    assert again.exit_code == 0, again.output
    engine = create_engine(cli_env["DATABASE_URL"])
    with engine.connect() as conn:
        assert conn.scalar(select(func.count()).select_from(Village)) == 1970
        assert conn.scalar(select(func.count()).select_from(Specialist)) == 1500
    engine.dispose()


def test_help_lists_the_command_groups() -> None:
    result = CliRunner().invoke(main, ["--help"])
    assert result.exit_code == 0
    for name in ("db", "demo", "serve"):
        assert name in result.output
