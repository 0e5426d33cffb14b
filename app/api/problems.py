"""Every error leaves as RFC 9457 application/problem+json."""

from __future__ import annotations

import json
import logging
from http import HTTPStatus
from typing import Any

from fastapi import FastAPI, Request
from fastapi.encoders import jsonable_encoder
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy.exc import (
    DBAPIError,
    DisconnectionError,
    IntegrityError,
    InterfaceError,
    OperationalError,
)
from sqlalchemy.exc import TimeoutError as PoolTimeout
from starlette.exceptions import HTTPException as StarletteHTTPException

from app.errors import AppError, DatabaseUnavailable

log = logging.getLogger(__name__)
PROBLEM = "application/problem+json"
TYPE_BASE = "https://moorage.dev/problems/"


def problem(
    status: int, title: str, detail: str = "", slug: str = "",
    headers: dict[str, str] | None = None, **extra: Any,
) -> JSONResponse:
    body = {
        "type": TYPE_BASE + slug if slug and slug != "about:blank" else "about:blank",
        "title": title,
        "status": status,
        "detail": detail,
        **extra,
    }
    return JSONResponse(jsonable_encoder(body), status_code=status, media_type=PROBLEM,
                        headers=headers)


def from_error(exc: AppError) -> JSONResponse:
    """The problem+json answer for ``exc``, for a handler that must answer with an error
    yet keep its transaction (the one handler below renders raised errors the same way)."""
    return problem(exc.status, exc.title, exc.detail, exc.type_slug, exc.headers, **exc.extra)


def _field_errors(exc: RequestValidationError) -> list[dict[str, Any]]:
    return [
        {"loc": list(e.get("loc", ())), "msg": e.get("msg", ""), "type": e.get("type", "")}
        for e in exc.errors()
    ]


BODY_PARSE_ERROR = "There was an error parsing the body"  # FastAPI's 400 for undecodable bodies
PROBLEM_REF = "#/components/schemas/Problem"
_FASTAPI_422 = "#/components/schemas/HTTPValidationError"


def _example(status: int) -> dict[str, Any]:
    if status == 422:
        return {"type": TYPE_BASE + "validation-error", "title": "Unprocessable Content",
                "status": 422, "detail": "invalid fields: body.replicas",
                "errors": [{"loc": ["body", "replicas"], "msg": "Input should be less than or "
                            "equal to 1000", "type": "less_than_equal"}]}
    phrase = HTTPStatus(status).phrase
    return {"type": "about:blank", "title": phrase, "status": status, "detail": phrase.lower()}


def document(app: FastAPI) -> None:
    """Say in the schema what the handlers below do: every error response is
    application/problem+json with the Problem schema (FastAPI would claim application/json,
    and its own HTTPValidationError for 422), with an example."""
    make_schema = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is not None:
            return app.openapi_schema
        schema = make_schema()
        for operations in schema.get("paths", {}).values():
            for operation in operations.values():
                for code, response in operation.get("responses", {}).items():
                    if not code.isdigit() or int(code) < 400:
                        continue
                    media = response.get("content") or {"application/json": {}}
                    ref = (media.get("application/json") or {}).get("schema", {}).get("$ref")
                    if ref is not None and ref.endswith("Problem") and ref != PROBLEM_REF:
                        # A Problem with extension members of its own (see ops.readyz).
                        response["content"] = {PROBLEM: {"schema": {"$ref": ref}}}
                        continue
                    if ref not in (None, PROBLEM_REF, _FASTAPI_422):
                        continue
                    response["content"] = {PROBLEM: {"schema": {"$ref": PROBLEM_REF},
                                                     "example": _example(int(code))}}
        components = schema.get("components", {}).get("schemas", {})
        if _FASTAPI_422 not in json.dumps(schema.get("paths", {})):
            components.pop("HTTPValidationError", None)
            components.pop("ValidationError", None)
        return schema

    app.openapi = openapi  # type: ignore[method-assign]


def _lost_connection(exc: BaseException) -> bool:
    """Whether a database connection lost underneath is what this error came from."""
    seen: set[int] = set()
    cause: BaseException | None = exc
    while cause is not None and id(cause) not in seen:
        seen.add(id(cause))
        if isinstance(cause, OperationalError | InterfaceError | DisconnectionError) or (
                type(cause).__name__ in ("OperationalError", "InterfaceError")
                and type(cause).__module__.startswith("psycopg")):
            return True
        cause = cause.__cause__ or cause.__context__
    return False


def install(app: FastAPI) -> None:
    @app.exception_handler(AppError)
    async def _app_error(_: Request, exc: AppError) -> JSONResponse:
        return from_error(exc)

    @app.exception_handler(RequestValidationError)
    async def _invalid(_: Request, exc: RequestValidationError) -> JSONResponse:
        errors = _field_errors(exc)
        fields = ", ".join(".".join(str(p) for p in e["loc"]) for e in errors[:5])
        return problem(422, "Unprocessable Content", f"invalid fields: {fields}",
                       "validation-error", errors=errors)

    @app.exception_handler(IntegrityError)
    async def _integrity(_: Request, exc: IntegrityError) -> JSONResponse:
        log.info("integrity error: %s", exc.orig)
        return problem(409, "Conflict", "the change conflicts with the current state",
                       "conflict")

    async def _database_unavailable(_: Request, exc: Exception) -> JSONResponse:
        # Connection refused or dropped, a failover, a full pool: the caller can retry, and
        # the pool reconnects by itself (pre-ping) once the database is back.
        log.warning("database unavailable: %s", getattr(exc, "orig", exc).__class__.__name__)
        return from_error(DatabaseUnavailable())

    for unavailable in (OperationalError, InterfaceError, DisconnectionError, PoolTimeout):
        app.add_exception_handler(unavailable, _database_unavailable)

    @app.exception_handler(DBAPIError)
    async def _database_error(request: Request, exc: DBAPIError) -> JSONResponse:
        if _lost_connection(exc):
            # A connection that died mid-statement can surface as another error (psycopg:
            # "can't change 'autocommit' now" while the pool resets it); the cause is the
            # database going away all the same.
            return await _database_unavailable(request, exc)
        log.error("database error", exc_info=exc)
        return problem(500, "Internal Server Error", "an unexpected error occurred")

    @app.exception_handler(StarletteHTTPException)
    async def _http(_: Request, exc: StarletteHTTPException) -> JSONResponse:
        if exc.status_code == 400 and exc.detail == BODY_PARSE_ERROR:
            # A body that is not UTF-8 JSON is invalid input like any malformed JSON: 422.
            errors = [{"loc": ["body"], "msg": "the body is not valid UTF-8 JSON",
                       "type": "json_invalid"}]
            return problem(422, "Unprocessable Content", "invalid fields: body",
                           "validation-error", errors=errors)
        return problem(exc.status_code, str(exc.detail), "", "", )

    @app.exception_handler(Exception)
    async def _unexpected(_: Request, exc: Exception) -> JSONResponse:
        log.exception("unhandled error")
        return problem(500, "Internal Server Error", "an unexpected error occurred")
