"""The `jiedui` command line: `main` is the root Typer app; each command group lives in its own module.

Add a group by writing `app/cli/<name>.py` with an `app = typer.Typer(...)` and registering it below.
"""

import typer

from app.cli import catalogue, db, demo, records, season, serve, worker
from app.cli.output import reset_caches

main = typer.Typer(name="jiedui", help="Jiedui (结对): pair 科技特派员 with 行政村.", no_args_is_help=True,
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
