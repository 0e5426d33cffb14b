"""Idempotency-Key: the first answer to a creating POST, replayed to a retry.

The record is written in the request's own transaction, before the work, and completed
with the answer at its end: it commits with the work or not at all. A concurrent request
with the same key blocks on the unique (token, key) pair until the first one ends, then
replays its answer (or, if the first rolled back, does the work itself).
"""

from __future__ import annotations

import hashlib
import hmac
import uuid
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.orm import Session

from app.db import utcnow
from app.errors import Conflict
from app.models import IdempotencyKey
from app.repositories import idempotency as idempotency_repo
from app.services import installation

TTL = timedelta(hours=24)


def fingerprint(key: bytes, method: str, path: str, query: str, body: bytes) -> str:
    """What tells a retry from another request under the same Idempotency-Key. Keyed
    (``request_fingerprint``: the installation's hash key): the body holds secret values
    (``secrets``, a registry password), and a plain hash kept in the database would let
    whoever reads it test guesses at them, which the keyed template and spec hashes are
    made to prevent."""
    h = hmac.new(key, digestmod=hashlib.sha256)
    for part in (method.upper().encode(), path.encode(), query.encode(), body):
        h.update(hashlib.sha256(part).digest())
    return h.hexdigest()


def request_fingerprint(session: Session, method: str, path: str, query: str, body: bytes) -> str:
    return fingerprint(installation.hash_key(session), method, path, query, body)


def claim(
    session: Session, token_id: uuid.UUID, key: str, method: str, path: str, request_hash: str
) -> tuple[IdempotencyKey, bool]:
    """(record, replay). replay False: this request owns the key now; it does the work,
    then ``complete``s the record. replay True: the record holds the earlier answer.
    409 when the key was used with a different request."""
    now = utcnow()
    for _ in range(3):
        existing = idempotency_repo.find(session, token_id, key)
        if existing is not None and existing.created_at <= now - TTL:
            idempotency_repo.remove(session, existing)  # expired: the key is free again
            existing = None
        if existing is None:
            record = IdempotencyKey(
                token_id=token_id, key=key, method=method.upper(), path=path[:2048],
                request_hash=request_hash, created_at=now, response_headers={},
            )
            if idempotency_repo.try_insert(session, record):
                return record, False
            continue  # another request took the key meanwhile (and has finished): look again
        if existing.request_hash != request_hash:
            raise Conflict(
                f"Idempotency-Key {key!r} was already used with a different request "
                f"({existing.method} {existing.path}); use a new key for a new request"
            )
        if existing.response_status is None:
            raise Conflict(f"a request with Idempotency-Key {key!r} is still in progress")
        return existing, True
    raise Conflict(f"a request with Idempotency-Key {key!r} is still in progress")


def complete(
    session: Session, record: IdempotencyKey, status: int, body: Any, headers: dict[str, str]
) -> None:
    record.response_status = status
    record.response_body = body
    record.response_headers = headers
    session.flush()


def purge_expired(session: Session, now: datetime | None = None) -> int:
    return idempotency_repo.purge_before(session, (now or utcnow()) - TTL)
