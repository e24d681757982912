"""`jiedui serve`: run the API with uvicorn."""

import typer


def serve(
    host: str = typer.Option("127.0.0.1", help="interface to bind"),
    port: int = typer.Option(8000, help="TCP port"),
    workers: int = typer.Option(1, min=1, help="worker processes"),
) -> None:
    """Serve `app.main:app` (it migrates on start unless JIEDUI_MIGRATE_ON_START=false)."""
    import uvicorn

    uvicorn.run("app.main:app", host=host, port=port, workers=workers)
