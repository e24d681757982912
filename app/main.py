"""The ASGI application: `app.main:app`."""

from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI, Request, Response
from fastapi.openapi.utils import get_openapi
from fastapi.responses import JSONResponse

from app.api import api_router
from app.api.health import router as health_router
from app.api.runs import add_run_schemas
from app.db import migrate_to_head
from app.errors import PayloadTooLarge, install_error_handlers
from app.schemas.common import ERROR_RESPONSES
from app.settings import get_settings
from app.workers.local import start_runner, stop_runner


@asynccontextmanager
async def lifespan(_: FastAPI) -> AsyncIterator[None]:
    """Bring the database to the newest migration, then start the in-process run workers (local backend)."""
    settings = get_settings()
    if settings.migrate_on_start:
        migrate_to_head()
    if settings.run_backend == "local":
        start_runner()
    try:
        yield
    finally:
        stop_runner()


def create_app() -> FastAPI:
    """Build the application with its routers, error handlers and body-size guard."""
    application = FastAPI(
        title="Jiedui (结对)",
        version="0.1.0",
        description="Pairs science-and-technology specialists (科技特派员) with administrative villages (行政村).",
        lifespan=lifespan,
    )
    install_error_handlers(application)

    @application.middleware("http")
    async def limit_body(request: Request, call_next: Callable[[Request], Awaitable[Response]]) -> Response:
        length = request.headers.get("content-length")
        limit = get_settings().max_body_bytes
        if length is not None and length.isdigit() and int(length) > limit:
            err = PayloadTooLarge(f"request body of {length} bytes exceeds the limit of {limit}")
            return JSONResponse(err.to_dict(), status_code=err.status_code)
        return await call_next(request)

    application.include_router(health_router)
    application.include_router(api_router, prefix="/api/v1", responses=ERROR_RESPONSES)

    def openapi() -> dict[str, Any]:
        if application.openapi_schema is None:
            application.openapi_schema = add_run_schemas(get_openapi(
                title=application.title, version=application.version, description=application.description,
                routes=application.routes))
        return application.openapi_schema

    application.openapi = openapi  # type: ignore[method-assign]
    return application


app = create_app()
