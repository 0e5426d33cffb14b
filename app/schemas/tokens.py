from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Annotated, Literal

from pydantic import AwareDatetime, BaseModel, Field, field_validator

from app.schemas.common import Strict

Scope = Literal["read", "deploy", "admin"]
# Printable, no control characters (a NUL would not even fit in a Postgres text column).
NAME = r"^[^\x00-\x1f\x7f]+$"
# The last instant a token may expire at: what a time stored in UTC can be (a later one,
# 9999-12-31T23:59:59-14:00 say, is past year 9999 once in UTC and fits no datetime).
LATEST = datetime(9999, 12, 31, 23, 59, 59, 999999, tzinfo=UTC)


class TokenCreate(Strict):
    name: Annotated[str, Field(min_length=1, max_length=128, pattern=NAME, examples=["ci-deployer"])]
    scopes: Annotated[
        list[Scope],
        Field(min_length=1, max_length=3, examples=[["deploy"]], description=(
            "`read` can GET; `deploy` can also change deployments and webhooks; `admin` "
            "can also manage hosts and tokens. Each scope includes the ones before it.")),
    ]
    expires_at: Annotated[
        AwareDatetime | None,
        Field(le=LATEST, description=(
            "RFC 3339 with an offset; must be in the future, and at most "
            "9999-12-31T23:59:59.999999Z. None: never expires")),
    ] = None

    @field_validator("scopes")
    @classmethod
    def _unique(cls, v: list[str]) -> list[str]:
        order = ("read", "deploy", "admin")
        return sorted(set(v), key=order.index)


class TokenRead(BaseModel):
    id: uuid.UUID
    name: str
    scopes: list[Scope]
    created_at: datetime
    expires_at: datetime | None
    revoked_at: datetime | None
    last_used_at: datetime | None = Field(None, description="Updated at most once a minute")


class TokenCreated(TokenRead):
    token: str | None = Field(
        description=(
            "The bearer token. Shown only in this answer: Moorage keeps only its SHA-256. "
            "null when this answer is an Idempotency-Key replay (the token was never stored)."
        ),
        examples=["mrg_3q0GzV8xWm0Yb8Hn7yE2c9J8vL5kQ1tR4uS6wX0zA2b"],
    )


class Identity(BaseModel):
    """Who a token is (`GET /v1/whoami`)."""

    id: uuid.UUID
    name: str
    scopes: list[Scope] = Field(description="The scopes the token was made with")
    allows: list[Scope] = Field(
        description="Every scope the token's calls pass: its own and those they include "
                    "(read < deploy < admin)", examples=[["read", "deploy"]])
