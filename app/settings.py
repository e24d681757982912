"""Service settings, read from environment variables (and an optional .env file)."""

from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import AliasChoices, Field
from pydantic_settings import BaseSettings, SettingsConfigDict

PROJECT_ROOT = Path(__file__).resolve().parent.parent


class Settings(BaseSettings):
    """All knobs of the service; `DATABASE_URL` picks the database, everything else is `JIEDUI_*`."""

    model_config = SettingsConfigDict(env_prefix="JIEDUI_", env_file=".env", extra="ignore")

    database_url: str = Field(
        default="",
        validation_alias=AliasChoices("DATABASE_URL", "JIEDUI_DATABASE_URL"),
        description="SQLAlchemy URL; empty means the embedded SQLite file at sqlite_path.",
    )
    sqlite_path: Path = PROJECT_ROOT / "var" / "jiedui.db"
    migrate_on_start: bool = True
    max_bulk_rows: int = 100_000
    max_body_bytes: int = 200 * 1024 * 1024
    page_size_default: int = 100
    page_size_max: int = 1000

    # matching runs
    run_backend: Literal["local", "celery"] = Field(default="local",
                                                   description="local (in-process worker pool) or celery")
    redis_url: str = Field(default="redis://127.0.0.1:6379/0", validation_alias=AliasChoices("REDIS_URL", "JIEDUI_REDIS_URL"))
    max_concurrent_runs: int = 2
    lease_seconds: float = 15.0
    heartbeat_seconds: float = 1.0
    max_attempts: int = 3
    reaper_interval_seconds: float = 2.0
    requeue_after_seconds: float = 300.0  # a queued run nobody claimed for this long is sent to the queue again
    max_override_pairs: int = 1_000_000
    webhook_url: str | None = None
    webhook_secret: str = "change-me"
    webhook_max_attempts: int = 5
    webhook_backoff_seconds: float = 1.0

    @property
    def effective_database_url(self) -> str:
        """The URL actually used: DATABASE_URL, or the embedded SQLite file."""
        if self.database_url:
            return self.database_url
        return f"sqlite:///{self.sqlite_path}"


@lru_cache
def get_settings() -> Settings:
    """The process-wide settings (cached; tests clear the cache to change them)."""
    return Settings()
