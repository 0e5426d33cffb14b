"""Fixtures shared by the integration tests."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from tests.conftest import AUTH


@pytest.fixture
def client(clean_db: None) -> Iterator[TestClient]:
    """The app in-process, on emptied tables, with the run's admin token. (A module may
    define its own `client`, which then wins.)"""
    from app.main import create_app

    with TestClient(create_app(), headers=AUTH) as c:
        yield c
