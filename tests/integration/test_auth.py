"""Bearer tokens and scopes, against a real Postgres: 401 vs 403, expiry, revocation,
the tokens API and the `moorage token` CLI."""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient

from tests.conftest import AUTH, BOOTSTRAP_TOKEN, service_env
from tests.integration.conftest import CacheClock

PROBLEM = "application/problem+json"
VENV_BIN = Path(sys.executable).parent


@pytest.fixture
def anonymous(client: TestClient) -> TestClient:
    """The same app, no Authorization header."""
    return TestClient(client.app)


def ok(resp: httpx.Response, status: int = 200) -> Any:
    assert resp.status_code == status, resp.text
    return resp.json() if resp.content else None


def problem(resp: httpx.Response, status: int) -> dict[str, Any]:
    assert resp.status_code == status, resp.text
    assert resp.headers["content-type"].startswith(PROBLEM)
    body = resp.json()
    assert body["status"] == status and body["title"] and body["type"]
    return body


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def make_token(client: TestClient, *scopes: str, **extra: Any) -> dict[str, Any]:
    return ok(client.post("/v1/tokens", json={"name": f"t-{'-'.join(scopes)}",
                                              "scopes": list(scopes), **extra}), 201)


def operations(client: TestClient) -> list[tuple[str, str, dict[str, Any]]]:
    schema = ok(client.get("/openapi.json"))
    return [(method, path, op) for path, ops in schema["paths"].items()
            for method, op in ops.items() if method in ("get", "put", "post", "patch", "delete")]


def concrete(path: str) -> str:
    return (path.replace("{name}", "web").replace("{webhook_id}", str(uuid.uuid4()))
            .replace("{rollout_id}", str(uuid.uuid4())).replace("{token_id}", str(uuid.uuid4()))
            .replace("{number}", "1"))


# -- 401 ---------------------------------------------------------------------------------


def test_every_v1_operation_but_the_webhook_trigger_needs_a_token(
    client: TestClient, anonymous: TestClient
) -> None:
    checked = 0
    for method, path, op in operations(client):
        if not path.startswith("/v1/") or op["operationId"] == "trigger_webhook":
            continue
        resp = anonymous.request(method.upper(), concrete(path), json={})
        body = problem(resp, 401)
        assert resp.headers["WWW-Authenticate"].startswith('Bearer realm="moorage"'), path
        assert "bearer token" in body["detail"]
        checked += 1
    assert checked >= 25


def test_operations_endpoints_need_no_token(anonymous: TestClient) -> None:
    for path in ("/healthz", "/readyz", "/metrics", "/openapi.json", "/docs"):
        assert anonymous.get(path).status_code == 200, path


@pytest.mark.parametrize("header", [
    "Basic dXNlcjpwYXNz", "Bearer", "Bearer ", "Token abc", "mrg_x", "Bearer mrg_unknown",
    "Bearer " + "x" * 5000, "Bearer mrg_\u202eevil".encode(), f"Bearer {BOOTSTRAP_TOKEN}x",
    f"Bearer {BOOTSTRAP_TOKEN[:-1]}", f"Bearer {BOOTSTRAP_TOKEN}\u200b".encode(),
], ids=lambda h: repr(h[:24]).replace(BOOTSTRAP_TOKEN[:17], "<token>"))
def test_unusable_authorization_headers_are_401(anonymous: TestClient, header: str | bytes) -> None:
    resp = anonymous.get("/v1/deployments", headers={"Authorization": header})
    problem(resp, 401)
    assert resp.headers["WWW-Authenticate"].startswith("Bearer")
    assert BOOTSTRAP_TOKEN not in resp.text


def test_the_scheme_is_case_insensitive(anonymous: TestClient) -> None:
    ok(anonymous.get("/v1/deployments", headers={"Authorization": f"bearer {BOOTSTRAP_TOKEN}"}))


def test_an_expired_token_is_401(client: TestClient, anonymous: TestClient,
                                 cache_clock: CacheClock) -> None:
    from app.db import session_scope
    from app.models import ApiToken

    made = make_token(client, "read", expires_at=(datetime.now(UTC) + timedelta(hours=1)).isoformat())
    ok(anonymous.get("/v1/deployments", headers=bearer(made["token"])))
    with session_scope() as session:  # moved behind the API's back: seen once the check is stale
        session.get(ApiToken, uuid.UUID(made["id"])).expires_at = datetime.now(UTC) - timedelta(seconds=1)
    cache_clock.pass_ttl()
    resp = anonymous.get("/v1/deployments", headers=bearer(made["token"]))
    assert "expired" in problem(resp, 401)["detail"]
    assert 'error="invalid_token"' in resp.headers["WWW-Authenticate"]


def test_a_revoked_token_is_401_at_once(client: TestClient, anonymous: TestClient) -> None:
    made = make_token(client, "deploy")
    ok(anonymous.get("/v1/deployments", headers=bearer(made["token"])))
    assert client.delete(f"/v1/tokens/{made['id']}").status_code == 204
    assert client.delete(f"/v1/tokens/{made['id']}").status_code == 204  # again: still fine
    assert "revoked" in problem(anonymous.get("/v1/deployments", headers=bearer(made["token"])),
                                401)["detail"]
    listed = {t["id"]: t for t in ok(client.get("/v1/tokens"))["items"]}
    assert listed[made["id"]]["revoked_at"] is not None


def test_a_revoked_bootstrap_token_stays_revoked_after_a_restart(client: TestClient) -> None:
    from app.main import create_app, ensure_bootstrap_token

    mine = make_token(client, "admin")
    admin = TestClient(client.app, headers=bearer(mine["token"]))
    boot = next(t for t in ok(admin.get("/v1/tokens"))["items"] if t["name"] == "bootstrap")
    assert admin.delete(f"/v1/tokens/{boot['id']}").status_code == 204
    ensure_bootstrap_token()
    with TestClient(create_app(), headers=AUTH) as restarted:
        problem(restarted.get("/v1/deployments"), 401)
    assert [t["name"] for t in ok(admin.get("/v1/tokens"))["items"]].count("bootstrap") == 1


# -- 403 ---------------------------------------------------------------------------------


@pytest.mark.parametrize(("scope", "allowed"), [
    ("read", {"get_deployments"}),
    ("deploy", {"get_deployments", "put_deployment", "webhooks"}),
    ("admin", {"get_deployments", "put_deployment", "webhooks", "hosts", "tokens"}),
])
def test_scopes_are_ordered_read_deploy_admin(
    client: TestClient, anonymous: TestClient, scope: str, allowed: set[str]
) -> None:
    ok(client.put("/v1/deployments/web", json={"image": "nginx:1.27"}), 201)
    token = make_token(client, scope)["token"]
    calls = {
        "get_deployments": ("GET", "/v1/deployments", None),
        "put_deployment": ("PUT", "/v1/deployments/web", {"image": "nginx:1.28"}),
        "webhooks": ("GET", "/v1/deployments/web/webhooks", None),
        "hosts": ("POST", "/v1/hosts", {"name": "h", "url": "unix:///nonexistent.sock"}),
        "tokens": ("GET", "/v1/tokens", None),
    }
    for what, (method, path, body) in calls.items():
        resp = anonymous.request(method, path, json=body, headers=bearer(token))
        if what in allowed:
            assert resp.status_code in (200, 201, 422), (what, resp.text)  # 422: no such engine
        else:
            detail = problem(resp, 403)["detail"]
            assert scope in detail
            assert 'error="insufficient_scope"' in resp.headers["WWW-Authenticate"]


def test_a_read_token_can_get_everything_a_reader_needs(client: TestClient, anonymous: TestClient) -> None:
    created = ok(client.put("/v1/deployments/web", json={"image": "nginx:1.27"}), 201)
    headers = bearer(make_token(client, "read")["token"])
    for path in ("/v1/deployments", "/v1/deployments/web", "/v1/deployments/web/revisions",
                 "/v1/deployments/web/revisions/1", "/v1/deployments/web/rollouts",
                 "/v1/deployments/web/replicas", "/v1/deployments/web/events", "/v1/hosts",
                 "/v1/events", "/v1/whoami", f"/v1/rollouts/{created['current_rollout']['id']}"):
        ok(anonymous.get(path, headers=headers))


# -- the tokens API ----------------------------------------------------------------------


def test_a_token_is_shown_once_and_stored_only_as_a_hash(client: TestClient) -> None:
    from app.db import get_engine

    made = make_token(client, "read", "deploy", "read")
    token = made["token"]
    assert token.startswith("mrg_") and len(token) >= 4 + 43
    assert made["scopes"] == ["read", "deploy"]
    assert made["expires_at"] is None and made["revoked_at"] is None
    listed = ok(client.get("/v1/tokens"))
    assert token not in client.get("/v1/tokens").text
    assert made["id"] in {t["id"] for t in listed["items"]}
    assert all("token" not in t for t in listed["items"])
    with get_engine().connect() as conn:
        rows = conn.execute(sa.text("SELECT * FROM api_token")).mappings().all()
    assert token not in repr(rows)
    assert BOOTSTRAP_TOKEN not in repr(rows)


def test_last_used_at_is_recorded(client: TestClient, anonymous: TestClient) -> None:
    made = make_token(client, "read")
    assert made["last_used_at"] is None
    ok(anonymous.get("/v1/deployments", headers=bearer(made["token"])))
    listed = {t["id"]: t for t in ok(client.get("/v1/tokens"))["items"]}
    assert listed[made["id"]]["last_used_at"] is not None


@pytest.mark.parametrize(("body", "field"), [
    ({"name": "x", "scopes": []}, "body.scopes"),
    ({"name": "x", "scopes": ["root"]}, "body.scopes.0"),
    ({"name": "x"}, "body.scopes"),
    ({"name": "", "scopes": ["read"]}, "body.name"),
    ({"name": "x" * 129, "scopes": ["read"]}, "body.name"),
    ({"name": "nul\x00", "scopes": ["read"]}, "body.name"),
    ({"name": "x", "scopes": ["read"], "expires_at": "2020-01-01T00:00:00Z"}, "body.expires_at"),
    ({"name": "x", "scopes": ["read"], "expires_at": "2999-01-01T00:00:00"}, "body.expires_at"),
    ({"name": "x", "scopes": ["read"], "expires_at": "soon"}, "body.expires_at"),
    # Past year 9999 once in UTC: the time could not be stored (was a 500).
    ({"name": "x", "scopes": ["read"], "expires_at": "9999-12-31T23:59:59-14:00"}, "body.expires_at"),
    ({"name": "x", "scopes": ["read"], "expires_at": "9999-12-31T23:59:59.999999-00:01"},
     "body.expires_at"),
    ({"name": "x", "scopes": ["read"], "admin": True}, "body.admin"),
    ({"name": "x", "scopes": "admin"}, "body.scopes"),
])
def test_invalid_token_requests_are_422(client: TestClient, body: dict[str, Any], field: str) -> None:
    before = len(ok(client.get("/v1/tokens"))["items"])
    details = problem(client.post("/v1/tokens", json=body), 422)
    assert field in [".".join(map(str, e["loc"])) for e in details["errors"]], details
    assert len(ok(client.get("/v1/tokens"))["items"]) == before


def test_a_token_may_expire_at_the_last_instant_a_utc_time_holds(
        client: TestClient, anonymous: TestClient) -> None:
    for at in ("9999-12-31T23:59:59.999999Z", "9999-12-31T23:59:59+14:00"):
        made = make_token(client, "read", expires_at=at)
        assert datetime.fromisoformat(made["expires_at"]) == datetime.fromisoformat(at)
        listed = {t["id"]: t for t in ok(client.get("/v1/tokens"))["items"]}
        assert datetime.fromisoformat(listed[made["id"]]["expires_at"]) == datetime.fromisoformat(at)
        ok(anonymous.get("/v1/deployments", headers=bearer(made["token"])))


def test_revoking_an_unknown_token(client: TestClient) -> None:
    problem(client.delete(f"/v1/tokens/{uuid.uuid4()}"), 404)
    problem(client.delete("/v1/tokens/not-a-uuid"), 422)


def test_token_list_pages(client: TestClient) -> None:
    made = {make_token(client, "read")["id"] for _ in range(5)}
    seen: list[str] = []
    cursor = None
    while True:
        page = ok(client.get("/v1/tokens", params={"limit": 2, **({"cursor": cursor} if cursor else {})}))
        seen += [t["id"] for t in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert made <= set(seen) and len(seen) == len(set(seen)) == 6  # + the bootstrap token
    problem(client.get("/v1/tokens", params={"cursor": "garbage"}), 422)


def test_openapi_declares_bearer_auth_and_its_errors(client: TestClient) -> None:
    schema = ok(client.get("/openapi.json"))
    assert schema["components"]["securitySchemes"]["bearer"] == {
        "type": "http", "scheme": "bearer", "bearerFormat": "mrg_…",
        "description": schema["components"]["securitySchemes"]["bearer"]["description"],
    }
    for method, path, op in operations(client):
        if path == "/metrics":  # a token is optional: it adds per-name series
            assert op["security"] == [{"bearer": []}, {}] and "401" in op["responses"]
        elif not path.startswith("/v1/"):
            assert "security" not in op, path
        elif op["operationId"] == "trigger_webhook":
            assert "security" not in op and "401" in op["responses"]
        else:
            assert op["security"] == [{"bearer": []}], (method, path)
            assert {"401", "403"} <= set(op["responses"]), (method, path)


# -- the CLI -----------------------------------------------------------------------------


def moorage(*args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, **service_env()}
    return subprocess.run([str(VENV_BIN / "moorage"), *args], env=env, capture_output=True,
                          text=True, timeout=60)


def test_a_token_expires_at_its_time_though_its_check_is_cached(
        client: TestClient, anonymous: TestClient, monkeypatch: pytest.MonkeyPatch,
        cache_clock: CacheClock) -> None:
    from app.services import tokens as token_service

    expires = datetime.now(UTC) + timedelta(hours=1)
    made = make_token(client, "read", expires_at=expires.isoformat())
    ok(anonymous.get("/v1/deployments", headers=bearer(made["token"])))
    assert token_service.cached(made["token"]) is not None  # checked, and kept
    # The wall clock passes expires_at; the cache's own clock stands still (within its TTL).
    monkeypatch.setattr(token_service, "utcnow", lambda: expires + timedelta(seconds=1))
    assert token_service.cached(made["token"]) is None
    assert "expired" in problem(anonymous.get("/v1/deployments", headers=bearer(made["token"])),
                                401)["detail"]


def test_a_token_revoked_by_another_process_is_401_once_its_check_is_stale(
        client: TestClient, anonymous: TestClient, cache_clock: CacheClock) -> None:
    """`moorage token revoke` (or another API process) cannot clear this process's cache:
    the token is refused once its kept check is older than CACHE_TTL_S."""
    from app.services.tokens import CACHE_TTL_S

    made = make_token(client, "read")
    ok(anonymous.get("/v1/deployments", headers=bearer(made["token"])))
    assert moorage("token", "revoke", made["id"]).returncode == 0
    cache_clock.now += 0.5 * CACHE_TTL_S
    ok(anonymous.get("/v1/deployments", headers=bearer(made["token"])))  # the kept check
    cache_clock.pass_ttl()
    assert "revoked" in problem(anonymous.get("/v1/deployments", headers=bearer(made["token"])),
                                401)["detail"]


def test_cli_creates_lists_and_revokes_tokens(client: TestClient, anonymous: TestClient,
                                              cache_clock: CacheClock) -> None:
    made = moorage("token", "create", "--scope", "deploy", "--name", "ops")
    assert made.returncode == 0, made.stderr
    token = made.stdout.strip()
    assert token.startswith("mrg_") and "\n" not in token
    ok(anonymous.get("/v1/deployments", headers=bearer(token)))
    problem(anonymous.get("/v1/tokens", headers=bearer(token)), 403)

    listed = moorage("token", "list")
    assert listed.returncode == 0 and "ops" in listed.stdout and token not in listed.stdout
    token_id = next(line.split()[0] for line in listed.stdout.splitlines() if line.endswith(" ops"))
    assert moorage("token", "revoke", token_id).returncode == 0
    cache_clock.pass_ttl()  # another process revoked it: refused once the kept check is stale
    problem(anonymous.get("/v1/deployments", headers=bearer(token)), 401)

    bad = moorage("token", "create", "--scope", "root", "--name", "x")
    assert bad.returncode != 0 and "mrg_" not in bad.stdout
    assert moorage("token", "revoke", "nope").returncode != 0
    generated = moorage("token", "generate").stdout.strip()
    assert generated.startswith("mrg_")
    problem(anonymous.get("/v1/deployments", headers=bearer(generated)), 401)  # not stored


def test_a_weak_bootstrap_token_is_refused() -> None:
    from app.config import Settings

    with pytest.raises(ValueError, match="BOOTSTRAP_TOKEN"):
        Settings(bootstrap_token="short")
    with pytest.raises(ValueError, match="BOOTSTRAP_TOKEN"):
        Settings(bootstrap_token="has spaces " * 5)
    assert Settings(bootstrap_token="x" * 32).bootstrap_token == "x" * 32
