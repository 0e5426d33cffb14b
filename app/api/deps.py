"""Shared dependencies: the request's transaction, paging and (later) auth."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Annotated, Literal

from fastapi import Depends, Header, Query
from sqlalchemy.orm import Session

from app.db import get_sessionmaker


def get_session() -> Iterator[Session]:
    """One request, one transaction: committed when the handler returns, else rolled back."""
    session = get_sessionmaker()()
    try:
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()


SessionDep = Annotated[Session, Depends(get_session)]
IfMatch = Annotated[
    str | None,
    Header(alias="If-Match", description="ETag (resource_version) the change is based on"),
]
Limit = Annotated[int, Query(ge=1, le=500, description="Page size")]
Cursor = Annotated[
    str | None, Query(max_length=512, description="next_cursor from the previous page")
]


@dataclass(frozen=True)
class Principal:
    name: str
    scopes: frozenset[str]


Scope = Literal["read", "deploy", "admin"]


def require(scope: Scope):
    """The one place authorization is decided. Tokens arrive with the auth issue; until
    then every caller is an anonymous admin (bind the API to a trusted network)."""

    def dependency() -> Principal:
        return Principal("anonymous", frozenset({"read", "deploy", "admin"}))

    return Depends(dependency)
