"""`jiedui worker`: a Celery worker that solves matching runs (multi-machine backend)."""

import typer


def worker(
    concurrency: int = typer.Option(0, help="runs solved at once (default: JIEDUI_MAX_CONCURRENT_RUNS)"),
    name: str = typer.Option("jiedui@%h", help="worker node name"),
    loglevel: str = typer.Option("INFO", help="log level"),
) -> None:
    """Start a Celery worker on Redis (REDIS_URL) that runs queued matching runs from the database (DATABASE_URL)."""
    from app.settings import get_settings
    from app.workers.celery_app import celery_app

    n = concurrency or get_settings().max_concurrent_runs
    celery_app.worker_main(argv=["worker", "-Q", "jiedui-runs", "-c", str(n), "--pool", "prefork", "-n", name,
                                 "--loglevel", loglevel, "--without-gossip", "--without-mingle"])
