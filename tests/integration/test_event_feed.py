"""`GET /v1/events` (every deployment's events, paged or as a live SSE stream), the
`tail` of an event list, and `GET /v1/whoami`: the API the dashboard stands on."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
import uvicorn
from fastapi.testclient import TestClient

from tests.conftest import AUTH
from tests.support.ports import free_port

SPEC = {"image": "nginx:1.27", "replicas": 1}


def ok(resp: httpx.Response, status: int = 200) -> Any:
    assert resp.status_code == status, resp.text
    return resp.json()


def reasons(items: list[dict[str, Any]]) -> list[tuple[str, str]]:
    return [(e["deployment"], e["reason"]) for e in items]


def test_every_deployments_events_in_one_list(client: TestClient) -> None:
    ok(client.put("/v1/deployments/alpha", json=SPEC), 201)
    ok(client.put("/v1/deployments/beta", json=SPEC), 201)
    ok(client.patch("/v1/deployments/alpha", json={"replicas": 2},
                    headers={"Content-Type": "application/merge-patch+json"}))

    items = ok(client.get("/v1/events"))["items"]
    assert reasons(items) == [("alpha", "RevisionCreated"), ("beta", "RevisionCreated"),
                              ("alpha", "RolloutSuperseded"), ("alpha", "Scaled")]
    ids = [e["id"] for e in items]
    assert ids == sorted(ids)
    # A deployment's own list names it too, and has only its events.
    own = ok(client.get("/v1/deployments/beta/events"))["items"]
    assert reasons(own) == [("beta", "RevisionCreated")]

    # Paged like a deployment's events: after an id, or by cursor.
    assert [e["id"] for e in ok(client.get("/v1/events", params={"after": ids[1]}))["items"]] == ids[2:]
    page = ok(client.get("/v1/events", params={"limit": 3}))
    assert [e["id"] for e in page["items"]] == ids[:3]
    rest = ok(client.get("/v1/events", params={"cursor": page["next_cursor"]}))
    assert [e["id"] for e in rest["items"]] == ids[3:] and rest["next_cursor"] is None

    # The newest N, still oldest first; tail=0 is none (a stream's "only new ones").
    assert [e["id"] for e in ok(client.get("/v1/events", params={"tail": 2}))["items"]] == ids[2:]
    assert ok(client.get("/v1/events", params={"tail": 0}))["items"] == []
    assert [e["id"] for e in ok(client.get("/v1/events", params={"tail": 99}))["items"]] == ids
    alpha = ok(client.get("/v1/deployments/alpha/events", params={"tail": 1}))["items"]
    assert reasons(alpha) == [("alpha", "Scaled")]
    # `after` wins over `tail`.
    assert [e["id"] for e in ok(client.get("/v1/events", params={"tail": 1, "after": ids[0]}))[
        "items"]] == ids[1:]

    # A deleted deployment's events go with it.
    ok(client.delete("/v1/deployments/beta"), 202)
    from app.db import session_scope
    from app.repositories import deployments as deployment_repo

    with session_scope() as session:
        session.delete(deployment_repo.get_by_name(session, "beta"))
    assert "beta" not in {e["deployment"] for e in ok(client.get("/v1/events"))["items"]}


@pytest.mark.parametrize("params", [{"after": -1}, {"tail": -1}, {"tail": 10_001},
                                    {"cursor": "garbage"}, {"limit": 0}])
def test_bad_paging_is_422(client: TestClient, params: dict[str, Any]) -> None:
    assert client.get("/v1/events", params=params).status_code == 422


def test_a_last_event_id_that_is_not_an_id_is_422(client: TestClient) -> None:
    for value in ("x", "-1", "²".encode(), str(2**63)):
        resp = client.get("/v1/events",
                          headers={"Accept": "text/event-stream", "Last-Event-ID": value})
        assert resp.status_code == 422, resp.text


def test_whoami_says_what_the_token_may_do(client: TestClient) -> None:
    admin = ok(client.get("/v1/whoami"))
    assert admin["name"] == "bootstrap"
    assert admin["scopes"] == ["admin"] and admin["allows"] == ["read", "deploy", "admin"]
    for scopes, allows in ((["read"], ["read"]), (["deploy"], ["read", "deploy"]),
                           (["read", "deploy"], ["read", "deploy"])):
        made = ok(client.post("/v1/tokens", json={"name": "who", "scopes": scopes}), 201)
        me = ok(client.get("/v1/whoami", headers={"Authorization": f"Bearer {made['token']}"}))
        assert (me["id"], me["name"], me["scopes"], me["allows"]) == (
            made["id"], "who", scopes, allows)
    assert client.get("/v1/whoami", headers={"Authorization": "Bearer mrg_nope"}).status_code == 401


# -- the live stream, from a real server ----------------------------------------------------


@pytest.fixture
def server(clean_db) -> Iterator[str]:
    """The app served by uvicorn in a thread: a stream needs a real connection."""
    from app.main import create_app

    port = free_port()
    srv = uvicorn.Server(uvicorn.Config(create_app(), host="127.0.0.1", port=port,
                                        log_level="warning", lifespan="on"))
    thread = threading.Thread(target=srv.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not srv.started:
        assert time.monotonic() < deadline and thread.is_alive(), "uvicorn did not start"
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}"
    srv.should_exit = True
    thread.join(10)


def read_events(lines: Iterator[str], n: int) -> list[dict[str, str]]:
    """The next ``n`` SSE events from a stream's lines, each as its fields."""
    out: list[dict[str, str]] = []
    fields: dict[str, str] = {}
    for line in lines:
        if not line:
            if "data" in fields:
                out.append(fields)
                if len(out) == n:
                    return out
            fields = {}
        elif not line.startswith(":"):
            key, _, value = line.partition(": ")
            fields[key] = value
    raise AssertionError(f"the stream ended after {out}")


def test_the_stream_carries_every_deployments_events_live_and_resumes(server: str) -> None:
    import json

    with httpx.Client(base_url=server, headers=AUTH, timeout=30) as c:
        ok(c.put("/v1/deployments/alpha", json=SPEC), 201)
        stream_headers = {"Accept": "text/event-stream"}
        with c.stream("GET", "/v1/events", params={"tail": 0}, headers=stream_headers) as resp:
            assert resp.status_code == 200
            assert resp.headers["content-type"].startswith("text/event-stream")
            # Only what happens from now on: alpha's first event came before.
            ok(c.put("/v1/deployments/beta", json=SPEC), 201)
            ok(c.put("/v1/deployments/alpha", json={**SPEC, "image": "nginx:1.28"}))
            got = read_events(resp.iter_lines(), 3)
        data = [json.loads(e["data"]) for e in got]
        assert reasons(data) == [("beta", "RevisionCreated"), ("alpha", "RolloutSuperseded"),
                                 ("alpha", "RevisionCreated")]
        assert [e["event"] for e in got] == [d["reason"] for d in data]
        assert [int(e["id"]) for e in got] == [d["id"] for d in data]

        # Resuming from the first of those three gives the other two, then what is new.
        with c.stream("GET", "/v1/events", params={"tail": 0},
                      headers={**stream_headers, "Last-Event-ID": got[0]["id"]}) as resp:
            lines = resp.iter_lines()
            resumed = read_events(lines, 2)
            assert [e["id"] for e in resumed] == [e["id"] for e in got[1:]]
            ok(c.patch("/v1/deployments/beta", json={"replicas": 3},
                       headers={"Content-Type": "application/merge-patch+json"}))
            new = read_events(lines, 2)
        assert [(json.loads(e["data"])["deployment"], e["event"]) for e in new] == [
            ("beta", "RolloutSuperseded"), ("beta", "Scaled")]


@pytest.mark.parametrize(("path", "params", "accept"), [
    ("/v1/events", {"tail": 0}, "text/event-stream"),
    ("/v1/deployments/web/events", {"tail": 0}, "text/event-stream"),
    ("/v1/deployments/web/logs", {"follow": "true"}, "application/x-ndjson"),
])
def test_a_stream_ends_once_its_token_is_revoked_elsewhere(
        server: str, path: str, params: dict[str, str], accept: str) -> None:
    """Revoked in the database, as another API process would: no cache here drops it, so
    the stream must look again, as a request would within CACHE_TTL_S."""
    from datetime import UTC, datetime

    import sqlalchemy as sa

    from app.db import session_scope
    from app.models import ApiToken

    with httpx.Client(base_url=server, headers=AUTH, timeout=30) as c:
        ok(c.put("/v1/deployments/web", json={**SPEC, "replicas": 0}), 201)
        made = ok(c.post("/v1/tokens", json={"name": "reader", "scopes": ["read"]}), 201)
    # Idle longer than a keep-alive would come: the stream must end, not go quiet.
    with httpx.Client(base_url=server, timeout=httpx.Timeout(30, read=8),
                      headers={"Authorization": f"Bearer {made['token']}", "Accept": accept}) as c:
        with c.stream("GET", path, params=params) as resp:
            assert resp.status_code == 200
            with session_scope() as session:
                session.execute(sa.update(ApiToken).where(ApiToken.id == made["id"])
                                .values(revoked_at=datetime.now(UTC)))
            rest = list(resp.iter_lines())  # ReadTimeout if it never ends
        assert [line for line in rest if line and not line.startswith(":")] == []
        assert c.get("/v1/events").status_code == 401
