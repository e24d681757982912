"""`jiedui demo ...`: the 六安市 demo catalogue."""

import typer

from app.cli.output import table
from app.demo.generate import DEFAULT_SEED

app = typer.Typer(help="Demo data: real 六安市 divisions with synthetic needs and specialists.", no_args_is_help=True)


@app.command()
def load(seed: int = typer.Option(DEFAULT_SEED, "--seed", help="seed of the synthetic part")) -> None:
    """Migrate, then upsert the demo catalogue in one transaction and print the row counts."""
    from app.db import migrate_to_head, session_scope
    from app.demo.load import load_demo

    migrate_to_head()
    with session_scope() as session:
        counts = load_demo(session, seed=seed)
    table(f"demo catalogue loaded (seed {seed})", counts)
