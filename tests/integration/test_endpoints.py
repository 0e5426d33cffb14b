"""The endpoint through the API: its listen port is chosen once and kept, its URLs name
the edge hosts, and an endpoint-only change replaces no container."""

from __future__ import annotations

import uuid
from typing import Any

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
