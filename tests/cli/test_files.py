"""File handling shared by the import commands: a file that cannot be read is an operational error."""

from pathlib import Path

from sqlalchemy import Engine
from typer.testing import CliRunner

from app.cli import main


def test_an_unreadable_file_is_one_error_line_and_exit_1(db: Engine, database_url: str, tmp_path: Path) -> None:
    # It used to be reported as bad input (exit 2) with a "problems" header and "nothing was written" twice.
    for args in (["catalogue", "import", "villages"], ["records", "import"]):
        result = CliRunner().invoke(main, [*args, str(tmp_path / "missing.csv")], env={"DATABASE_URL": database_url})
        assert result.exit_code == 1, result.output
        assert result.stdout == ""
        assert result.stderr == f"error: cannot read {tmp_path / 'missing.csv'}: No such file or directory; nothing was written\n"
