"""Scopes, token format and request fingerprints: the pure parts of auth and idempotency."""

from __future__ import annotations

import hashlib
import uuid

import pytest

from app.services.idempotency import fingerprint as keyed_fingerprint
from app.services.tokens import PREFIX, Principal, generate, hash_token

ORDER = ("read", "deploy", "admin")


@pytest.mark.parametrize("held", [(), ("read",), ("deploy",), ("admin",), ("read", "admin"),
                                  ("bogus",)])
@pytest.mark.parametrize("needed", ORDER)
def test_each_scope_includes_the_ones_before_it(held: tuple[str, ...], needed: str) -> None:
    p = Principal(uuid.uuid4(), "t", frozenset(held))
    level = max((ORDER.index(s) for s in held if s in ORDER), default=-1)
    assert p.allows(needed) == (level >= ORDER.index(needed))


def test_tokens_are_long_random_and_hashed() -> None:
    tokens = {generate() for _ in range(100)}
    assert len(tokens) == 100
    assert all(t.startswith(PREFIX) and len(t) == len(PREFIX) + 43 for t in tokens)
    t = next(iter(tokens))
    assert hash_token(t) == hash_token(t) and len(hash_token(t)) == 64 and t not in hash_token(t)


def fingerprint(*parts: str | bytes) -> str:  # one installation's
    return keyed_fingerprint(b"an installation's key", *parts)


def test_fingerprints_tell_requests_apart() -> None:
    base = fingerprint("POST", "/v1/deployments", "", b'{"a": 1}')
    assert base == fingerprint("post", "/v1/deployments", "", b'{"a": 1}')
    assert base != fingerprint("POST", "/v1/deployments", "", b'{"a": 2}')
    assert base != fingerprint("POST", "/v1/hosts", "", b'{"a": 1}')
    assert base != fingerprint("POST", "/v1/deployments", "x=1", b'{"a": 1}')
    # Parts are hashed apart, so moving bytes between them changes the fingerprint.
    assert fingerprint("POST", "/a", "b", b"") != fingerprint("POST", "/a", "", b"b")
    # Keyed: without the installation's key, a guess at a secret in the body is untestable.
    guess = ("POST", "/v1/deployments", "", b'{"secrets": {"P": "summer2024"}}')
    assert keyed_fingerprint(b"another key", *guess) != fingerprint(*guess)
    assert hashlib.sha256(b"".join(hashlib.sha256(p if isinstance(p, bytes) else p.encode())
                                   .digest() for p in guess)).hexdigest() != fingerprint(*guess)
