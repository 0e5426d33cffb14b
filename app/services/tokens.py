"""API tokens: make, check, list and revoke them.

A token is ``mrg_`` + 32 random bytes (urlsafe base64). Only its SHA-256 is stored. A
fast, unsalted hash is right here, unlike for passwords: with 256 bits of entropy there
is nothing to brute-force, so bcrypt/argon2 would only add latency to every request.
The check is one unique-index lookup by that hash.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy.orm import Session

from app.db import utcnow
from app.errors import Forbidden, Invalid, Unauthorized
from app.logs import register_secret_values
from app.models import ApiToken
from app.repositories import tokens as token_repo

PREFIX = "mrg_"
SCOPES = ("read", "deploy", "admin")  # each includes the ones before it
TOUCH_EVERY = timedelta(seconds=60)


@dataclass(frozen=True)
class Principal:
    token_id: uuid.UUID
    name: str
    scopes: frozenset[str]

    @property
    def level(self) -> int:
        return max((SCOPES.index(s) for s in self.scopes if s in SCOPES), default=-1)

    def allows(self, scope: str) -> bool:
        return self.level >= SCOPES.index(scope)


def generate() -> str:
    return PREFIX + secrets.token_urlsafe(32)


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def create(
    session: Session, name: str, scopes: list[str], expires_at: datetime | None = None,
    *, token: str | None = None,
) -> tuple[ApiToken, str]:
    """A new token and its one-time plaintext."""
    now = utcnow()
    if expires_at is not None and expires_at <= now:
        raise Invalid("expires_at must be in the future", loc=["body", "expires_at"])
    unknown = set(scopes) - set(SCOPES)
    if unknown or not scopes:
        raise Invalid(f"scopes must be some of {', '.join(SCOPES)}", loc=["body", "scopes"])
    token = token or generate()
    register_secret_values([token])
    row = token_repo.add(session, ApiToken(
        name=name, scopes=sorted(set(scopes), key=SCOPES.index), token_hash=hash_token(token),
        created_at=now, expires_at=expires_at,
    ))
    return row, token


def authenticate(session: Session, token: str) -> Principal:
    """Who holds ``token``: 401 unless it is known, unexpired and not revoked."""
    if not token or len(token) > 512:
        raise Unauthorized("the bearer token is not valid")
    digest = hash_token(token)
    row = token_repo.find_by_hash(session, digest)
    # The lookup is by hash, so timing says nothing about the token; compare anyway.
    if row is None or not hmac.compare_digest(row.token_hash, digest):
        raise Unauthorized("the bearer token is not valid")
    now = utcnow()
    if row.revoked_at is not None:
        raise Unauthorized("the bearer token was revoked")
    if row.expires_at is not None and row.expires_at <= now:
        raise Unauthorized("the bearer token has expired")
    if row.last_used_at is None or row.last_used_at < now - TOUCH_EVERY:
        token_repo.touch(session, row.id, now, now - TOUCH_EVERY)
    return Principal(row.id, row.name, frozenset(row.scopes))


def authorize(principal: Principal, scope: str) -> None:
    if not principal.allows(scope):
        raise Forbidden(f"this needs the {scope!r} scope; the token has "
                        f"{', '.join(sorted(principal.scopes)) or 'none'}", scope=scope)


def revoke(session: Session, token_id: uuid.UUID) -> ApiToken:
    row = token_repo.get(session, token_id)
    if row.revoked_at is None:
        row.revoked_at = utcnow()
        session.flush()
    return row


def ensure_bootstrap(session: Session, token: str) -> bool:
    """Make ``token`` an admin token unless a token with its hash exists (a revoked one
    stays revoked). True if it was made."""
    if token_repo.find_by_hash(session, hash_token(token)) is not None:
        register_secret_values([token])
        return False
    create(session, "bootstrap", ["admin"], token=token)
    return True


def first_admin_token(session: Session, name: str = "admin") -> str | None:
    """A fresh admin token when there is no token at all (first start), else None."""
    if token_repo.count(session):
        return None
    return create(session, name, ["admin"])[1]
