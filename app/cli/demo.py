"""`jiedui demo ...`: the 六安市 demo catalogue."""

import typer

from app.cli.output import message, stderr, table
from app.demo.generate import DEFAULT_SEED

app = typer.Typer(help="Demo data: real 六安市 divisions with synthetic needs and specialists.", no_args_is_help=True)


@app.command()
def load(
    seed: int = typer.Option(DEFAULT_SEED, "--seed", help="seed of the synthetic part"),
    force: bool = typer.Option(False, "--force", help="load even into a catalogue that holds villages or specialists: "
                                                      "every entry with a demo code gets the demo's values again "
                                                      "(edits to them are lost)"),
) -> None:
    """Migrate, then upsert the demo catalogue in one transaction and print the row counts.

    Only into a catalogue without villages and specialists: one that holds any is left as it is (the command says
    so and exits 0), so `make run` keeps a planner's edits across restarts. --force upserts the demo over it.
    """
    from app.db import migrate_to_head, session_scope
    from app.demo.load import catalogue_in_use, load_demo
    from app.errors import JieduiError

    migrate_to_head()
    try:
        with session_scope() as session:
            held = catalogue_in_use(session)
            if any(held.values()) and not force:
                message(f"demo not loaded: the catalogue already holds {held['villages']} villages and "
                        f"{held['specialists']} specialists, kept as they are (--force loads the demo over them)")
                return
            counts = load_demo(session, seed=seed)
    except JieduiError as exc:  # --force over entries that contradict the demo (a member of another team)
        stderr(f"error: demo not loaded: {exc.message}; nothing was written")
        for err in exc.errors[:20]:
            stderr(f"  {err.get('field')}: {err.get('message')}")
        raise typer.Exit(1) from None
    table(f"demo catalogue loaded (seed {seed})", counts)
