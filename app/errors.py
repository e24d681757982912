"""One error base class with a status code, and the handlers that render every error the same way."""

import logging
from collections.abc import Iterable, Mapping
from http import HTTPStatus
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.orm.exc import StaleDataError
from starlette.exceptions import HTTPException as StarletteHTTPException

log = logging.getLogger("jiedui.errors")


class JieduiError(Exception):
    """Base of every error the service reports; subclasses set the HTTP status and a short code."""

    status_code = 400
    code = "bad_request"

    def __init__(self, message: str, *, errors: list[dict[str, Any]] | None = None, **extra: Any) -> None:
        super().__init__(message)
        self.message = message
        self.errors = errors or []
        self.extra = extra

    def to_dict(self) -> dict[str, Any]:
        body: dict[str, Any] = {"code": self.code, "message": self.message, **self.extra}
        if self.errors:
            body["errors"] = self.errors
        return {"error": body}


class NotFound(JieduiError):
    status_code = 404
    code = "not_found"


class Conflict(JieduiError):
    status_code = 409
    code = "conflict"


class PreconditionFailed(JieduiError):
    status_code = 412
    code = "precondition_failed"


class PayloadTooLarge(JieduiError):
    status_code = 413
    code = "payload_too_large"


class InvalidInput(JieduiError):
    """Bad input; `errors` lists each problem as {row, field, message} so the caller can fix it."""

    status_code = 422
    code = "invalid_input"


def row_error(row: int | None, field: str, message: str, **extra: Any) -> dict[str, Any]:
    """One entry of an error list, naming the row (index in the submitted array) and the field."""
    out: dict[str, Any] = {"row": row, "field": field, "message": message}
    out.update(extra)
    return out


def errors_from_pydantic(raw: Iterable[Mapping[str, Any]], *, skip: int = 1) -> list[dict[str, Any]]:
    """Turn pydantic error locations like ("body", 3, "needs", 0, "industry") into row/field entries."""
    out = []
    for err in raw:
        loc = list(err.get("loc", ()))[skip:]
        if err.get("type") == "json_invalid":  # its location is a character offset into the body, not a row
            where = f"character {loc[0] + 1} of the body: " if loc and isinstance(loc[0], int) else ""
            out.append(row_error(None, "(body)", f"{where}{err.get('msg', 'invalid JSON')}"))
            continue
        row = loc.pop(0) if loc and isinstance(loc[0], int) else None
        field = ".".join(str(p) for p in loc) or "(body)"
        out.append(row_error(row, field, err.get("msg", "invalid")))
    return out


async def _handle_jiedui(_: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, JieduiError)
    etag = exc.extra.get("current_etag")  # a 412 names the current version in its header too
    return JSONResponse(exc.to_dict(), status_code=exc.status_code, headers={"ETag": etag} if etag else None)


async def _handle_validation(_: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    errors = errors_from_pydantic(list(exc.errors()))
    first = errors[0] if errors else {"row": None, "field": "(body)", "message": "invalid"}
    where = f"row {first['row']}, " if first["row"] is not None else ""
    err = InvalidInput(f"invalid input ({where}field {first['field']}): {first['message']}", errors=errors[:1000])
    return JSONResponse(err.to_dict(), status_code=err.status_code)


async def _handle_http(_: Request, exc: Exception) -> JSONResponse:
    # The framework's own errors (unknown path, wrong method, multipart limits) in the same envelope.
    assert isinstance(exc, StarletteHTTPException)
    err = JieduiError(str(exc.detail))
    err.status_code, err.code = exc.status_code, HTTPStatus(exc.status_code).phrase.lower().replace(" ", "_")
    return JSONResponse(err.to_dict(), status_code=exc.status_code, headers=exc.headers)


async def _handle_integrity(_: Request, exc: Exception) -> JSONResponse:
    # Two requests raced to create the same key (or a row vanished under a write): nothing was written.
    err = Conflict("the request conflicts with a concurrent change to the same record; nothing was written, retry it")
    return JSONResponse(err.to_dict(), status_code=err.status_code)


async def _handle_stale(_: Request, exc: Exception) -> JSONResponse:
    # A concurrent request changed the row between this one's read and its write (optimistic lock).
    err = PreconditionFailed("the record was changed by a concurrent request; nothing was written, fetch it again and retry")
    return JSONResponse(err.to_dict(), status_code=err.status_code)


async def _handle_operational(request: Request, exc: Exception) -> JSONResponse:
    # PostgreSQL gave up on a transaction that raced another (deadlock, serialisation): nothing was written.
    if getattr(getattr(exc, "orig", None), "sqlstate", None) in ("40P01", "40001"):
        err = Conflict("the request raced a concurrent change to the same records; nothing was written, retry it")
        return JSONResponse(err.to_dict(), status_code=err.status_code)
    log.error("database error", exc_info=exc)
    return await _handle_unexpected(request, exc)


async def _handle_unexpected(_: Request, exc: Exception) -> JSONResponse:
    # Anything else is a bug: the same envelope for the caller; the server log keeps the traceback.
    err = JieduiError("internal error: the request did not complete; the server log has the details")
    err.status_code, err.code = 500, "internal_error"
    return JSONResponse(err.to_dict(), status_code=500)


def install_error_handlers(app: FastAPI) -> None:
    """Register the handlers on the app."""
    app.add_exception_handler(JieduiError, _handle_jiedui)
    app.add_exception_handler(RequestValidationError, _handle_validation)
    app.add_exception_handler(StarletteHTTPException, _handle_http)
    app.add_exception_handler(IntegrityError, _handle_integrity)
    app.add_exception_handler(StaleDataError, _handle_stale)
    app.add_exception_handler(OperationalError, _handle_operational)
    app.add_exception_handler(Exception, _handle_unexpected)
