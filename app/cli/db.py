"""`jiedui db ...`: migrations."""

import typer

from app.cli.output import message, redact, table

app = typer.Typer(help="Database migrations.", no_args_is_help=True)


@app.command()
def upgrade() -> None:
    """Migrate the configured database to the newest revision and print it."""
    from app.db import current_revision, get_engine, migrate_to_head
    from app.settings import get_settings

    migrate_to_head()
    table("database upgraded", {"database": redact(get_settings().effective_database_url),
                                "revision": current_revision(get_engine())})


@app.command()
def current() -> None:
    """Print the database's revision and the newest one; exit 1 if the database is behind."""
    from app.db import current_revision, get_engine, head_revision
    from app.settings import get_settings

    rev, head = current_revision(get_engine()), head_revision()
    table("database revision", {"database": redact(get_settings().effective_database_url),
                                "revision": rev or "(none)", "head": head})
    if rev != head:
        message("the database is not at head: run `jiedui db upgrade`")
        raise typer.Exit(1)
