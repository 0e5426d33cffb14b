"""Fixtures shared by the integration tests."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from tests.conftest import AUTH, unavailable
from tests.support import dockerd


@pytest.fixture
def client(clean_db: None) -> Iterator[TestClient]:
    """The app in-process, on emptied tables, with the run's admin token. (A module may
    define its own `client`, which then wins.)"""
    from app.main import create_app

    with TestClient(create_app(), headers=AUTH) as c:
        yield c


@pytest.fixture(scope="module")
def first_engine() -> dockerd.Engine:
    """The run's first engine, up, with the test images (a module removes what it made)."""
    try:
        dockerd.require_tools()
        engine = dockerd.ensure_engines(1)[0]
        dockerd.build_test_images(engine)
    except dockerd.EngineUnavailable as exc:
        unavailable(str(exc))
    return engine


class CacheClock:
    """The token cache's clock, driven by the test (no sleeping, no timed assertion). It
    stands still unless moved: a check once read stays kept, whatever the machine's speed."""

    def __init__(self) -> None:
        self.now = 1_000.0

    def __call__(self) -> float:
        return self.now

    def pass_ttl(self) -> None:
        from app.services.tokens import CACHE

        self.now += CACHE.ttl


@pytest.fixture
def cache_clock(monkeypatch: pytest.MonkeyPatch) -> CacheClock:
    from app.services.tokens import CACHE

    clock = CacheClock()
    monkeypatch.setattr(CACHE, "clock", clock)
    return clock
