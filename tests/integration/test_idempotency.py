"""Idempotency-Key on the POSTs that create or start work, against a real Postgres.
(Concurrent requests with one key are in test_concurrency.py, against a live server.)"""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any

import httpx
import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient

PROBLEM = "application/problem+json"
IDEMPOTENT = {"create_deployment", "rollback_deployment", "rollback_stack", "restart_deployment", "register_host",
              "create_token", "create_webhook"}


def ok(resp: httpx.Response, status: int = 200) -> Any:
    assert resp.status_code == status, resp.text
    return resp.json()


def problem(resp: httpx.Response, status: int) -> dict[str, Any]:
    assert resp.status_code == status, resp.text
    assert resp.headers["content-type"].startswith(PROBLEM)
    return resp.json()


def key() -> dict[str, str]:
    return {"Idempotency-Key": str(uuid.uuid4())}


def table_count(table: str) -> int:
    from app.db import get_engine

    with get_engine().connect() as conn:
        return conn.execute(sa.text(f"SELECT count(*) FROM {table}")).scalar_one()


def test_a_retry_gets_the_first_answer_and_nothing_runs_twice(client: TestClient) -> None:
    k = key()
    body = {"name": "web", "image": "nginx:1.27", "replicas": 2}
    first = client.post("/v1/deployments", json=body, headers=k)
    created = ok(first, 201)
    again = client.post("/v1/deployments", json=body, headers=k)
    assert ok(again, 201) == created
    assert again.headers["Idempotent-Replayed"] == "true"
    assert "Idempotent-Replayed" not in first.headers
    for header in ("ETag", "Location"):
        assert again.headers[header] == first.headers[header]
    assert len(ok(client.get("/v1/deployments/web/rollouts"))["items"]) == 1
    # Without the key, the same POST is a new request: the name is taken.
    problem(client.post("/v1/deployments", json=body), 409)


def test_the_same_key_with_another_request_is_409(client: TestClient) -> None:
    k = key()
    ok(client.post("/v1/deployments", json={"name": "web", "image": "nginx:1.27"}, headers=k), 201)
    detail = problem(client.post("/v1/deployments", json={"name": "web", "image": "nginx:1.28"},
                                 headers=k), 409)["detail"]
    assert "different request" in detail
    problem(client.post("/v1/deployments/web/restart", headers=k), 409)  # another path
    assert ok(client.get("/v1/deployments/web"))["spec"]["image"] == "nginx:1.27"


def test_keys_belong_to_a_token(client: TestClient) -> None:
    ok(client.put("/v1/deployments/web", json={"image": "nginx:1.27"}), 201)
    other = ok(client.post("/v1/tokens", json={"name": "other", "scopes": ["deploy"]}), 201)
    k = key()
    mine = ok(client.post("/v1/deployments/web/restart", headers=k), 202)
    theirs = ok(client.post("/v1/deployments/web/restart",
                            headers={**k, "Authorization": f"Bearer {other['token']}"}), 202)
    assert mine["id"] != theirs["id"]
    assert ok(client.post("/v1/deployments/web/restart", headers=k), 202)["id"] == mine["id"]


def test_rollback_and_restart_replay_their_rollout(client: TestClient) -> None:
    ok(client.put("/v1/deployments/web", json={"image": "nginx:1.27"}), 201)
    ok(client.put("/v1/deployments/web", json={"image": "nginx:1.28"}))
    k = key()
    rollback = ok(client.post("/v1/deployments/web/rollback", json={"revision": 1}, headers=k), 202)
    assert ok(client.post("/v1/deployments/web/rollback", json={"revision": 1}, headers=k),
              202) == rollback
    k = key()
    restart = ok(client.post("/v1/deployments/web/restart", headers=k), 202)
    assert ok(client.post("/v1/deployments/web/restart", headers=k), 202) == restart
    revisions = ok(client.get("/v1/deployments/web/revisions"))["items"]
    assert [r["number"] for r in revisions] == [4, 3, 2, 1]


def test_an_error_is_not_kept_so_a_retry_runs_again(client: TestClient) -> None:
    ok(client.put("/v1/deployments/web", json={"image": "nginx:1.27"}), 201)
    k = key()
    first = problem(client.post("/v1/deployments/web/rollback", json={}, headers=k), 409)
    assert "no previous revision" in first["detail"]
    assert table_count("idempotency_key") == 0
    ok(client.put("/v1/deployments/web", json={"image": "nginx:1.28"}))
    rollout = ok(client.post("/v1/deployments/web/rollback", json={}, headers=k), 202)
    assert rollout["kind"] == "rollback"
    problem(client.post("/v1/hosts", json={"name": "h", "url": "unix:///nonexistent.sock"},
                        headers=k), 409)  # the key is now tied to the rollback
    k = key()
    for _ in range(2):  # an engine that does not answer: 422 each time, never a replay
        resp = client.post("/v1/hosts", json={"name": "h", "url": "unix:///nonexistent.sock"}, headers=k)
        problem(resp, 422)
        assert "Idempotent-Replayed" not in resp.headers


def test_a_token_replay_never_shows_the_token_again(client: TestClient) -> None:
    k = key()
    made = ok(client.post("/v1/tokens", json={"name": "ci", "scopes": ["read"]}, headers=k), 201)
    assert made["token"].startswith("mrg_")
    again = ok(client.post("/v1/tokens", json={"name": "ci", "scopes": ["read"]}, headers=k), 201)
    assert again == {**made, "token": None}
    assert [t["name"] for t in ok(client.get("/v1/tokens"))["items"]].count("ci") == 1
    from app.db import get_engine

    with get_engine().connect() as conn:
        stored = conn.execute(sa.text("SELECT * FROM idempotency_key")).mappings().all()
    assert made["token"] not in repr(stored)


def test_a_webhook_replay(client: TestClient) -> None:
    ok(client.put("/v1/deployments/web", json={"image": "nginx:1.27"}), 201)
    k = key()
    made = ok(client.post("/v1/deployments/web/webhooks", json={"kind": "generic"}, headers=k), 201)
    replayed = ok(client.post("/v1/deployments/web/webhooks", json={"kind": "generic"}, headers=k), 201)
    assert replayed == {**made, "secret": None}  # the secret is shown once, never stored
    assert len(ok(client.get("/v1/deployments/web/webhooks"))["items"]) == 1


def test_keys_expire_after_a_day(client: TestClient) -> None:
    from app.db import get_engine, session_scope, utcnow
    from app.services import idempotency

    ok(client.put("/v1/deployments/web", json={"image": "nginx:1.27"}), 201)
    k = key()
    first = ok(client.post("/v1/deployments/web/restart", headers=k), 202)
    with get_engine().begin() as conn:
        conn.execute(sa.text("UPDATE idempotency_key SET created_at = :t"),
                     {"t": utcnow() - timedelta(hours=24, seconds=1)})
    second = ok(client.post("/v1/deployments/web/restart", headers=k), 202)  # runs again
    assert second["id"] != first["id"]
    with get_engine().begin() as conn:
        conn.execute(sa.text("UPDATE idempotency_key SET created_at = :t"),
                     {"t": utcnow() - timedelta(hours=25)})
    with session_scope() as session:
        assert idempotency.purge_expired(session) == 1
    assert table_count("idempotency_key") == 0


@pytest.mark.parametrize("value", ["", " ", "a b", "x" * 256, "caf\u00e9", "tab\there"],
                         ids=["empty", "space", "inner-space", "too-long", "latin1", "tab"])
def test_a_malformed_key_is_422(client: TestClient, value: str) -> None:
    resp = client.post("/v1/deployments", json={"name": "web", "image": "nginx:1.27"},
                       headers={"Idempotency-Key": value.encode("latin-1")})
    assert resp.status_code == 422, resp.text
    problem(client.get("/v1/deployments/web"), 404)


def test_openapi_documents_the_header_on_every_creating_post(client: TestClient) -> None:
    schema = ok(client.get("/openapi.json"))
    found = set()
    for ops in schema["paths"].values():
        for op in ops.values():
            names = {p["name"] for p in op.get("parameters", []) if p["in"] == "header"}
            if "Idempotency-Key" in names:
                found.add(op["operationId"])
    assert found == IDEMPOTENT


def test_a_webhook_secret_is_not_kept_for_replays(client) -> None:
    import sqlalchemy as sa

    from app.db import session_scope
    from app.models import IdempotencyKey

    assert client.put("/v1/deployments/web", json={"image": "moorage-test/web:v1"}).status_code == 201
    headers = {"Idempotency-Key": str(uuid.uuid4())}
    first = client.post("/v1/deployments/web/webhooks", json={"kind": "generic"}, headers=headers)
    assert first.status_code == 201 and first.json()["secret"]
    again = client.post("/v1/deployments/web/webhooks", json={"kind": "generic"}, headers=headers)
    assert again.headers["Idempotent-Replayed"] == "true"
    assert again.json()["id"] == first.json()["id"] and again.json()["secret"] is None
    with session_scope() as session:
        stored = session.scalars(sa.select(IdempotencyKey.response_body)).all()
    assert first.json()["secret"] not in repr(stored)
