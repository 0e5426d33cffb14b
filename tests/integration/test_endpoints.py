"""The endpoint through the API: its listen port is chosen once and kept, its URLs name
the edge hosts, and an endpoint-only change replaces no container."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient

from app.db import session_scope, utcnow
from app.models import Host


def add_host(name: str, url: str, edge: bool, edge_address: str | None = None) -> None:
    """A host row as registration makes it (registering asks the engine, which these
    tests do not need)."""
    now = utcnow()
    with session_scope() as session:
        session.add(Host(id=uuid.uuid4(), name=name, url=url, labels={}, state="ready", schedulable=True,
                         edge=edge, edge_address=edge_address, allowed_bind_prefixes=[],
                         created_at=now, updated_at=now, resource_version=1))


def put(client: TestClient, name: str, **spec: Any) -> dict:
    r = client.put(f"/v1/deployments/{name}", json={"image": "web:1", **spec})
    assert r.status_code in (200, 201), r.text
    return r.json()


def test_the_listen_port_is_chosen_once_and_kept(client: TestClient) -> None:
    add_host("edge-1", "tcp://203.0.113.7:2376", edge=True, edge_address="0.0.0.0")
    add_host("edge-2", "unix:///run/e2.sock", edge=True)
    add_host("worker", "tcp://10.0.0.9:2376", edge=False)
    d = put(client, "web", endpoint={"port": 8080, "hostnames": ["shop.example.com"]})
    port = d["endpoint"]["listen_port"]
    assert 20000 <= port <= 29999
    assert d["endpoint"]["urls"] == [f"http://203.0.113.7:{port}/", f"http://127.0.0.1:{port}/",
                                     "http://shop.example.com/"]
    assert d["endpoint"]["upstreams"] == []  # none ready yet (no reconciler ran)
    # Another endpoint-only change: same port, a new revision, no container replaced.
    d2 = put(client, "web", endpoint={"port": 8080, "drain_timeout_s": 5})
    assert d2["endpoint"]["listen_port"] == port and d2["revision"] == 2
    # Taken out and put back: still the same port.
    put(client, "web")
    assert client.get("/v1/deployments/web").json()["endpoint"] is None
    assert put(client, "web", endpoint={"port": 8080})["endpoint"]["listen_port"] == port
    other = put(client, "api", endpoint={"port": 8080})
    assert other["endpoint"]["listen_port"] != port


def test_a_listen_port_asked_for_is_one_deployment_s(client: TestClient) -> None:
    put(client, "web", endpoint={"port": 8080, "listen_port": 28080})
    r = client.put("/v1/deployments/api", json={"image": "web:1", "endpoint": {"port": 80, "listen_port": 28080}})
    assert r.status_code == 409, r.text
    assert "28080" in r.json()["detail"]


@pytest.fixture
def edge_ports(monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[int, int]]:
    """The edges' HTTP port and admin API port, set to ones of this test's own."""
    from app.config import get_settings

    monkeypatch.setenv("MOORAGE_EDGE_HTTP_PORT", "28081")
    monkeypatch.setenv("MOORAGE_EDGE_ADMIN_ADDRESS", "127.0.0.1:28019")
    get_settings.cache_clear()
    yield 28081, 28019
    monkeypatch.delenv("MOORAGE_EDGE_HTTP_PORT")
    monkeypatch.delenv("MOORAGE_EDGE_ADMIN_ADDRESS")
    get_settings.cache_clear()


def refused_listen_port(r: Any, field: str) -> str:
    assert r.status_code == 422, r.text
    assert r.headers["content-type"].startswith("application/problem+json")
    body = r.json()
    assert [".".join(map(str, e["loc"])) for e in body["errors"]] == [field], body
    return body["detail"]


@pytest.mark.parametrize("which", ["http", "admin"])
def test_a_listen_port_the_edges_hold_themselves_is_422(
        client: TestClient, edge_ports: tuple[int, int], which: str) -> None:
    """A deploy token could name the edges' own HTTP port or the proxy's admin API port:
    a config clash on every edge."""
    port = edge_ports[0] if which == "http" else edge_ports[1]
    ask = {"image": "web:1", "endpoint": {"port": 8080, "listen_port": port}}
    # Not made...
    detail = refused_listen_port(client.put("/v1/deployments/api", json=ask),
                                 "body.endpoint.listen_port")
    assert str(port) in detail and ("MOORAGE_EDGE_HTTP_PORT" if which == "http"
                                    else "MOORAGE_EDGE_ADMIN_ADDRESS") in detail
    assert client.get("/v1/deployments/api").status_code == 404
    # ... nor changed, nor in a dry run, nor by a merge patch.
    before = put(client, "web", endpoint={"port": 8080, "listen_port": 28080})
    refused_listen_port(client.put("/v1/deployments/web", json=ask), "body.endpoint.listen_port")
    refused_listen_port(client.put("/v1/deployments/web", json=ask, params={"dry_run": "true"}),
                        "body.endpoint.listen_port")
    refused_listen_port(client.patch("/v1/deployments/web", json={"endpoint": {"listen_port": port}},
                                     headers={"Content-Type": "application/merge-patch+json"}),
                        "body.endpoint.listen_port")
    after = client.get("/v1/deployments/web").json()
    assert (after["revision"], after["endpoint"]["listen_port"]) == (before["revision"], 28080)
    # A stack's service: named where the file says it.
    compose = (f"services:\n  w:\n    image: web:1\n    x-moorage:\n      endpoint:\n"
               f"        port: 8080\n        listen_port: {port}\n")
    refused_listen_port(client.put("/v1/stacks/st", json={"compose": compose}),
                        "body.compose.services.w.x-moorage.endpoint.listen_port")
    assert client.get("/v1/stacks/st").status_code == 404
    assert client.get("/v1/deployments", params={"limit": 500}).json()["items"][0]["name"] == "web"


def test_a_listen_port_moorage_chooses_is_none_the_edges_hold(
        client: TestClient, edge_ports: tuple[int, int], monkeypatch: pytest.MonkeyPatch) -> None:
    from app.config import get_settings

    http, admin = edge_ports
    monkeypatch.setenv("MOORAGE_ENDPOINT_PORT_RANGE", f"{admin}-{admin + 1}")
    get_settings.cache_clear()
    assert put(client, "web", endpoint={"port": 8080})["endpoint"]["listen_port"] == admin + 1
    monkeypatch.setenv("MOORAGE_ENDPOINT_PORT_RANGE", f"{http}-{http + 1}")
    get_settings.cache_clear()
    assert put(client, "api", endpoint={"port": 8080})["endpoint"]["listen_port"] == http + 1
    monkeypatch.delenv("MOORAGE_ENDPOINT_PORT_RANGE")


def test_an_endpoint_only_change_keeps_the_containers(client: TestClient) -> None:
    from app.repositories import deployments as deployment_repo

    ports = [{"container_port": 8080}]
    put(client, "web", ports=ports)
    put(client, "web", ports=ports, endpoint={"port": 8080, "hostnames": ["a.test"]})
    with session_scope() as session:
        d = deployment_repo.find_by_name(session, "web")
        assert d is not None
        hashes = {deployment_repo.revision(session, d.id, n).template_hash for n in (1, 2)}
    assert len(hashes) == 1


def test_an_edge_address_is_an_ip_or_a_dns_name(client: TestClient) -> None:
    bad = client.post("/v1/hosts", json={"name": "h", "url": "unix:///x", "edge_address": "not an address!"})
    assert bad.status_code == 422, bad.text
    assert any(e["loc"][-1] == "edge_address" for e in bad.json()["errors"]), bad.text


def test_an_edge_out_of_sync_is_told_once_each_way_and_an_unchanged_one_writes_nothing(
        client: TestClient) -> None:
    from app.models import Deployment, Event
    from app.services import edge as edge_service

    add_host("edge-1", "unix:///run/e1.sock", edge=True)
    put(client, "web", endpoint={"port": 8080})
    put(client, "plain")
    with session_scope() as session:
        session.query(Deployment).filter_by(name="web").one().endpoint_state = {"upstreams": []}
        host = session.query(Host).filter_by(name="edge-1").one()
        host_id = host.id

    def told() -> list[tuple[str, str, str]]:
        with session_scope() as session:
            return [(d, reason, kind) for d, reason, kind in session.query(
                Deployment.name, Event.reason, Event.type).join(Deployment)
                .filter(Event.reason.like("EdgeIn%") | Event.reason.like("EdgeOut%"))
                .order_by(Event.id)]

    def written() -> tuple[str | None, object]:
        with session_scope() as session:
            h = session.get(Host, host_id)
            return h.edge_error, h.updated_at

    edge_service.record_outcome({host_id: "reload failed: port 8443 in use"})
    assert told() == [("web", "EdgeOutOfSync", "warning")]  # only an endpoint's deployment
    first = written()
    assert first[0] == "reload failed: port 8443 in use"
    edge_service.record_outcome({host_id: "reload failed: port 8443 in use"})
    assert written() == first and len(told()) == 1  # unchanged: no row written
    edge_service.record_outcome({host_id: "reload failed: another reason"})
    assert written()[0] == "reload failed: another reason" and len(told()) == 1
    edge_service.record_outcome({host_id: None})
    assert written()[0] is None
    assert told()[-1] == ("web", "EdgeInSync", "normal") and len(told()) == 2
    edge_service.record_outcome({host_id: None})
    assert len(told()) == 2
