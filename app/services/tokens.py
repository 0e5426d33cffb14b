"""API tokens: make, check, list and revoke them.

A token is ``mrg_`` + 32 random bytes (urlsafe base64). Only its SHA-256 is stored. A
fast, unsalted hash is right here, unlike for passwords: with 256 bits of entropy there
is nothing to brute-force, so bcrypt/argon2 would only add latency to every request.
The check is one unique-index lookup by that hash, and its outcome is kept for
``CACHE_TTL_S`` (`PrincipalCache`): a token revoked in another process is refused within
that many seconds (at once in the process that revoked it); expiry is exact.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy.orm import Session

from app.caches import BoundedCache
from app.db import call_after_commit, utcnow
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


# How long a token's check is taken as still true: the bound on how late a revocation
# made by another API process is seen. Every request with a token would otherwise read
# its row (a transaction of its own, three round trips with BEGIN and COMMIT).
CACHE_TTL_S = 2.0


@dataclass(frozen=True)
class _Checked:
    principal: Principal
    expires_at: datetime | None
    at: float  # the cache's clock when the row was read


class PrincipalCache:
    """Token hash -> the principal its row named, read at most ``ttl`` seconds ago.

    Only valid tokens are kept; an entry past the token's ``expires_at`` is not used (so
    expiry is exact), nor one older than ``ttl`` (so a revocation elsewhere is seen within
    ``ttl``). ``clock`` is injectable for tests."""

    def __init__(self, ttl: float = CACHE_TTL_S, maxsize: int = 4096,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.ttl = ttl
        self.clock = clock
        self._entries: BoundedCache[str, _Checked] = BoundedCache(maxsize)

    def get(self, digest: str) -> Principal | None:
        entry = self._entries.get(digest)
        if entry is None:
            return None
        if self.clock() - entry.at >= self.ttl or (
                entry.expires_at is not None and entry.expires_at <= utcnow()):
            self._entries.pop(digest)
            return None
        return entry.principal

    def put(self, digest: str, principal: Principal, expires_at: datetime | None) -> None:
        self._entries.put(digest, _Checked(principal, expires_at, self.clock()))

    def clear(self) -> None:
        self._entries.clear()


CACHE = PrincipalCache()


def cached(token: str) -> Principal | None:
    """The principal of a token checked less than ``CACHE_TTL_S`` ago, or None (check it)."""
    if not token or len(token) > 512:
        return None
    return CACHE.get(hash_token(token))


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
    principal = Principal(row.id, row.name, frozenset(row.scopes))
    CACHE.put(digest, principal, row.expires_at)
    return principal


def authorize(principal: Principal, scope: str) -> None:
    if not principal.allows(scope):
        raise Forbidden(f"this needs the {scope!r} scope; the token has "
                        f"{', '.join(sorted(principal.scopes)) or 'none'}", scope=scope)


def revoke(session: Session, token_id: uuid.UUID) -> ApiToken:
    row = token_repo.get(session, token_id)
    if row.revoked_at is None:
        row.revoked_at = utcnow()
        session.flush()
        # This process forgets at once; other API processes within CACHE_TTL_S.
        call_after_commit(session, CACHE.clear)
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
