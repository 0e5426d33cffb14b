"""Shared dependencies: the request's transaction, paging and auth."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Iterator
from contextlib import suppress
from typing import Annotated, Any, Literal

from fastapi import Depends, Header, Query, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool

from app.db import get_sessionmaker, session_scope
from app.errors import CommitFailed, Unauthorized
from app.schemas.common import Problem
from app.services import tokens as token_service
from app.services.tokens import Principal

log = logging.getLogger(__name__)


def get_session() -> Iterator[Session]:
    """One request, one transaction: committed when the handler returns, else rolled back.

    Used with ``scope="function"``, so the commit happens before the response is sent: a
    2xx means the change is durable, and a commit that fails is a 503 (nothing changed,
    safe to retry) instead of a success already on the wire."""
    session = get_sessionmaker()()
    try:
        yield session
    except BaseException:
        with suppress(SQLAlchemyError):  # a dead connection cannot roll back; it is dropped
            session.rollback()
        raise
    else:
        try:
            session.commit()
        except SQLAlchemyError as exc:
            with suppress(SQLAlchemyError):
                session.rollback()
            log.warning("commit failed, answering 503: %s", exc.__class__.__name__, exc_info=True)
            raise CommitFailed() from exc
    finally:
        session.close()


SessionDep = Annotated[Session, Depends(get_session, scope="function")]


IfMatch = Annotated[
    str | None,
    Header(alias="If-Match", description="ETag (resource_version) the change is based on"),
]
Limit = Annotated[int, Query(ge=1, le=500, description="Page size")]
Cursor = Annotated[
    str | None, Query(max_length=512, description="next_cursor from the previous page")
]


bearer = HTTPBearer(
    auto_error=False, scheme_name="bearer", bearerFormat="mrg_…",
    description="An API token: `Authorization: Bearer mrg_…` (`moorage token create`).",
)


def _look_up(token: str) -> Principal:
    with session_scope() as session:
        return token_service.authenticate(session, token)


async def authenticate(
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)],
) -> Principal:
    """Who is calling: 401 without a valid token. Its own short transaction, not the
    request's, so a long poll or stream holds no database connection for it; none at all
    for a token checked less than ``token_service.CACHE_TTL_S`` ago. Async, so a kept
    check costs no trip through the thread pool (the lookup goes there)."""
    if credentials is None:
        raise Unauthorized("this needs a bearer token (Authorization: Bearer <token>)", error=None)
    if (principal := token_service.cached(credentials.credentials)) is not None:
        return principal
    return await run_in_threadpool(_look_up, credentials.credentials)


CurrentPrincipal = Annotated[Principal, Depends(authenticate)]
Scope = Literal["read", "deploy", "admin"]


def still_allowed(request: Request, scope: Scope) -> Callable[[], Awaitable[bool]]:
    """For a response that goes on after its handler returned (an event or log stream):
    whether the token that opened it may still read it. A check kept less than
    ``token_service.CACHE_TTL_S`` ago costs nothing; an older one is looked up again, so
    a token revoked or expired meanwhile ends the stream as soon as it would be refused a
    request."""
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    credentials = (HTTPAuthorizationCredentials(scheme=scheme, credentials=token)
                   if scheme.lower() == "bearer" else None)

    async def allowed() -> bool:
        try:
            return (await authenticate(credentials)).allows(scope)  # as a request's check
        except Unauthorized:
            return False

    return allowed


def require(scope: Scope):
    """The one place authorization is decided: 401 without a valid token, 403 when the
    token lacks ``scope`` (read < deploy < admin)."""

    async def dependency(principal: CurrentPrincipal) -> Principal:  # no I/O: no thread
        token_service.authorize(principal, scope)
        return principal

    dependency.__name__ = f"require_{scope}"
    return Depends(dependency)


AUTH_ERRORS: dict[int | str, dict[str, Any]] = {
    401: {"model": Problem, "description": "No bearer token, or one that is unknown, expired "
          "or revoked (with a `WWW-Authenticate: Bearer` challenge)"},
    403: {"model": Problem, "description": "The token lacks the scope this needs"},
}
