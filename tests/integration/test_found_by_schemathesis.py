"""Cases schemathesis (tests/integration/test_schemathesis.py) found, kept as plain tests."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from tests.conftest import AUTH


@pytest.fixture
def client(clean_db) -> Iterator[TestClient]:
    from app.main import create_app

    with TestClient(create_app(), headers=AUTH) as c:
        yield c


@pytest.mark.parametrize("path", ["/v1/hosts", "/v1/deployments", "/v1/tokens"])
def test_a_body_that_is_not_utf8_is_a_422_problem(client: TestClient, path: str) -> None:
    """Was an undocumented 400 ("There was an error parsing the body")."""
    r = client.post(path, content=b"\xff\xfe\x80", headers={"Content-Type": "application/json"})
    assert r.status_code == 422, r.text
    assert r.headers["content-type"].startswith("application/problem+json")
    body = r.json()
    assert body["status"] == 422 and body["errors"][0]["loc"] == ["body"]
