"""Output for the CLI: rich tables on a terminal, plain `key: value` lines otherwise (pipes, logs, tests)."""

import sys
from collections.abc import Mapping

from rich.console import Console
from rich.table import Table


def reset_caches() -> None:
    """Forget cached settings, engine and session factory so the environment is read again."""
    from app import db
    from app.settings import get_settings

    get_settings.cache_clear()
    db.get_engine.cache_clear()
    db.get_sessionmaker.cache_clear()


def rich_enabled() -> bool:
    return sys.stdout.isatty()


def message(text: str) -> None:
    """One line of status."""
    if rich_enabled():
        Console().print(text)
    else:
        print(text, flush=True)


def stderr(text: str) -> None:
    """Errors and warnings: to stderr, so cron and systemd mail them and pipes of the output stay clean."""
    if rich_enabled():
        Console(stderr=True, highlight=False).print(text, markup=False)
    else:
        print(text, file=sys.stderr, flush=True)


def table(title: str, rows: Mapping[str, object]) -> None:
    """A two-column table of names and values."""
    if rich_enabled():
        t = Table(title=title, min_width=len(title) * 2 + 4)
        t.add_column("what")
        t.add_column("value", justify="right")
        for key, value in rows.items():
            t.add_row(key, str(value))
        Console().print(t)
    else:
        print(title, flush=True)
        for key, value in rows.items():
            print(f"{key}: {value}", flush=True)


def redact(url: str) -> str:
    """A database URL without its password."""
    from sqlalchemy.engine import make_url

    try:
        return make_url(url).render_as_string(hide_password=True)
    except Exception:
        return url
