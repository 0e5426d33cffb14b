"""Cases schemathesis (tests/integration/test_schemathesis.py) or a review found, kept as
plain tests: input a caller can send that once gave a 500."""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from typing import Any

import httpx
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


def cursor_of(key: Any) -> str:
    """A well-formed cursor this API never handed out."""
    return base64.urlsafe_b64encode(json.dumps({"k": key}).encode()).decode().rstrip("=")


def bad_cursor(resp: httpx.Response) -> None:
    assert resp.status_code == 422, resp.text
    assert resp.headers["content-type"].startswith("application/problem+json")
    body = resp.json()
    assert body["status"] == 422
    assert [e["loc"] for e in body["errors"]] == [["query", "cursor"]]


@pytest.fixture
def listed(client: TestClient) -> dict[str, Any]:
    """A deployment, a stack (two revisions each) and a registry: something on each list."""
    for image in ("nginx:1.27", "nginx:1.28"):
        assert client.put("/v1/deployments/web", json={"image": image}).status_code in (200, 201)
        compose = f"services:\n  w:\n    image: {image}\n"
        assert client.put("/v1/stacks/st", json={"compose": compose}).status_code in (200, 201)
    assert client.put("/v1/registries/ghcr.io",
                      json={"username": "u", "password": "pw123456"}).status_code == 201
    return lists(client)


NAME_LISTS = ["/v1/deployments", "/v1/hosts", "/v1/registries", "/v1/stacks"]
NUMBER_LISTS = ["/v1/deployments/web/revisions", "/v1/stacks/st/revisions"]


def lists(client: TestClient) -> dict[str, Any]:
    return {path: client.get(path).json() for path in NAME_LISTS + NUMBER_LISTS}


# A text key no database takes (a lone surrogate; a NUL), or longer than any name there.
@pytest.mark.parametrize("key", ["\ud800", "a\udfff", "x\u0000", "a" * 256],
                         ids=["surrogate", "trailing-surrogate", "nul", "too-long"])
@pytest.mark.parametrize("path", NAME_LISTS)
def test_a_cursor_that_is_no_text_the_name_column_holds_is_422(
    client: TestClient, listed: dict[str, Any], path: str, key: str
) -> None:
    """A lone surrogate was a UnicodeEncodeError in psycopg: a 500."""
    bad_cursor(client.get(path, params={"cursor": cursor_of(key)}))
    assert lists(client) == listed


# Revision numbers are 32-bit INTEGER columns: a key past them was "integer out of range".
@pytest.mark.parametrize("key", [2**31, -(2**31) - 1, 2**40, 2**62, -(2**63)])
@pytest.mark.parametrize("path", NUMBER_LISTS)
def test_a_revision_cursor_past_the_integer_column_is_422(
    client: TestClient, listed: dict[str, Any], path: str, key: int
) -> None:
    bad_cursor(client.get(path, params={"cursor": cursor_of(key)}))
    assert lists(client) == listed


@pytest.mark.parametrize("path", NUMBER_LISTS)
def test_a_revision_cursor_at_the_integer_columns_edges_is_a_page(
    client: TestClient, listed: dict[str, Any], path: str
) -> None:
    top = client.get(path, params={"cursor": cursor_of(2**31 - 1)})
    assert top.status_code == 200, top.text
    assert [r["number"] for r in top.json()["items"]] == [2, 1]
    bottom = client.get(path, params={"cursor": cursor_of(-(2**31))})
    assert bottom.status_code == 200 and bottom.json()["items"] == []


# A token list's cursor is (created_at, id): a time without an offset, or one past the
# calendar once in UTC, was a 500 (a naive datetime written; OverflowError).
@pytest.mark.parametrize("at", ["2020-01-01T00:00:00", "9999-12-31T23:59:59-14:00",
                                "0001-01-01T00:00:00+14:00", "2020-01-01T00:00:00+00:00\ud800"])
def test_a_token_cursor_with_a_time_the_column_cannot_hold_is_422(
    client: TestClient, at: str
) -> None:
    before = client.get("/v1/tokens").json()
    bad_cursor(client.get("/v1/tokens",
                          params={"cursor": cursor_of([at, "00000000-0000-0000-0000-000000000000"])}))
    assert client.get("/v1/tokens").json() == before
    fine = client.get("/v1/tokens", params={"cursor": cursor_of(
        ["2020-01-01T00:00:00+00:00", "00000000-0000-0000-0000-000000000000"])})
    assert fine.status_code == 200 and fine.json()["items"] == before["items"]
