"""The `jiedui` command line: `main` is the root Typer app; each command group lives in its own module.

Add a group by writing `app/cli/<name>.py` with an `app = typer.Typer(...)` and registering it below.
An operational error (the database unreachable or refusing, a file that cannot be read or written) ends any
command with one line `error: ...` on stderr and exit code 1.
"""

import sys
from typing import Any, NoReturn

import typer
from sqlalchemy.exc import DBAPIError

from app.cli import catalogue, db, demo, records, season, serve, worker
from app.cli.output import redact, reset_caches


class _Jiedui(typer.Typer):
    """The root app; calling it (the `jiedui` console script) turns operational errors into one line."""

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        try:
            return super().__call__(*args, **kwargs)
        except DBAPIError as exc:
            from app.settings import get_settings

            _fail(f"database {redact(get_settings().effective_database_url)}: {exc.orig or exc}")
        except OSError as exc:  # click itself reports a closed pipe (EPIPE)
            _fail(str(exc))


def _fail(text: str) -> NoReturn:
    print("error: " + " ".join(text.split()), file=sys.stderr, flush=True)
    sys.exit(1)


main = _Jiedui(name="jiedui", help="Jiedui (结对): pair 科技特派员 with 行政村.", no_args_is_help=True,
               add_completion=False, pretty_exceptions_enable=False)


@main.callback()
def _root() -> None:
    """Read settings (DATABASE_URL, JIEDUI_*) afresh for every invocation."""
    reset_caches()


main.add_typer(db.app, name="db")
main.add_typer(demo.app, name="demo")
main.add_typer(catalogue.app, name="catalogue")
main.add_typer(records.app, name="records")
main.add_typer(season.app, name="season")
main.command("serve")(serve.serve)
main.command("worker")(worker.worker)

__all__ = ["main"]
