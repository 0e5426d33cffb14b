"""Shared dependencies: the request's transaction, paging and auth."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated, Any, Literal

from fastapi import Depends, Header, Query
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy.orm import Session

from app.db import session_scope
from app.errors import Unauthorized
from app.schemas.common import Problem
from app.services import tokens as token_service
from app.services.tokens import Principal


def get_session() -> Iterator[Session]:
    """One request, one transaction: committed when the handler returns, else rolled back."""
    with session_scope() as session:
        yield session


# scope="function": the transaction ends when the handler returns, before the answer is
# sent. (The default ends it after sending: a client could be told 201 about a row not
# yet committed, read elsewhere at once and find nothing, or be told of a success whose
# commit then failed.)
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


def authenticate(
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)],
) -> Principal:
    """Who is calling: 401 without a valid token. Its own short transaction, not the
    request's, so a long poll or stream holds no database connection for it."""
    if credentials is None:
        raise Unauthorized("this needs a bearer token (Authorization: Bearer <token>)", error=None)
    with session_scope() as session:
        return token_service.authenticate(session, credentials.credentials)


CurrentPrincipal = Annotated[Principal, Depends(authenticate)]
Scope = Literal["read", "deploy", "admin"]


def require(scope: Scope):
    """The one place authorization is decided: 401 without a valid token, 403 when the
    token lacks ``scope`` (read < deploy < admin)."""

    def dependency(principal: CurrentPrincipal) -> Principal:
        token_service.authorize(principal, scope)
        return principal

    dependency.__name__ = f"require_{scope}"
    return Depends(dependency)


AUTH_ERRORS: dict[int | str, dict[str, Any]] = {
    401: {"model": Problem, "description": "No bearer token, or one that is unknown, expired "
          "or revoked (with a `WWW-Authenticate: Bearer` challenge)"},
    403: {"model": Problem, "description": "The token lacks the scope this needs"},
}
