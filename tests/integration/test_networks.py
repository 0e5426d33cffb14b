"""`networks` through the API and into what the reconciler asks of an engine, on a real
Postgres (no engine: the end-to-end tests run them, tests/e2e/test_networks.py)."""

from __future__ import annotations

import uuid
from typing import Any

from fastapi.testclient import TestClient

PROBLEM = "application/problem+json"


def _ok(resp, status: int = 200) -> Any:
    assert resp.status_code == status, resp.text
    return resp.json()


def _paths(body: dict) -> list[str]:
    return [".".join(str(p) for p in e["loc"]) for e in body["errors"]]


def test_bad_network_names_are_a_422_naming_the_entry(client: TestClient) -> None:
    for networks, path, says in (
        (["shop", "Shop"], "body.networks.1", "not a network name"),
        (["host"], "body.networks.0", "engine's own network name"),
        (["shop", "shop"], "body.networks", "listed twice"),
        ("shop", "body.networks", ""),
    ):
        r = client.put("/v1/deployments/web", json={"image": "web:1", "networks": networks})
        assert r.status_code == 422, r.text
        assert r.headers["content-type"].startswith(PROBLEM)
        body = r.json()
        assert path in _paths(body), body
        assert says in r.text
    assert client.get("/v1/deployments/web").status_code == 404  # nothing was made


def test_networks_read_back_sorted_and_a_spec_without_them_shows_none(client: TestClient) -> None:
    d = _ok(client.put("/v1/deployments/web", json={"image": "web:1", "networks": ["shop", "db"]}),
            201)
    assert d["spec"]["networks"] == ["db", "shop"]
    assert _ok(client.get("/v1/deployments/web/revisions/1"))["spec"]["networks"] == ["db", "shop"]
    # The same set in another order is the same spec: no new revision.
    again = _ok(client.put("/v1/deployments/web", json={"image": "web:1", "networks": ["db", "shop"]}))
    assert again["revision"] == 1
    plain = _ok(client.put("/v1/deployments/plain", json={"image": "web:1"}), 201)
    assert plain["spec"]["networks"] == []
    # A dry run shows the change, and a change of networks replaces the replicas.
    dry = _ok(client.patch("/v1/deployments/web", params={"dry_run": "true"},
                           json={"networks": ["shop"]},
                           headers={"content-type": "application/merge-patch+json"}))
    assert {"path": "networks", "old": ["db", "shop"], "new": ["shop"]} in dry["changes"]


def test_the_engine_is_asked_to_join_the_networks_under_the_deployment_name(
        client: TestClient) -> None:
    from app.config import get_settings
    from app.db import session_scope
    from app.models import Host, Replica
    from app.reconcile.planner import container_name
    from app.reconcile.types import Create
    from app.repositories import deployments as deployment_repo
    from app.services.reconciler.act import container_request
    from app.services.reconciler.context import load

    _ok(client.put("/v1/deployments/db", json={"image": "web:1", "networks": ["shop", "ops"]}), 201)
    _ok(client.put("/v1/deployments/web", json={"image": "web:1", "networks": ["shop"]}), 201)
    _ok(client.put("/v1/deployments/other", json={"image": "web:1", "networks": ["elsewhere"]}),
        201)
    _ok(client.put("/v1/deployments/plain", json={"image": "web:1"}), 201)
    with session_scope() as session:
        hosts = [Host(name=n, url=f"unix:///nonexistent-{n}.sock", labels={}, state="ready",
                      schedulable=True, resource_version=1) for n in ("h1", "h2")]
        session.add_all(hosts)
        session.flush()
        for name, host, state in (("web", hosts[1], "running"), ("other", hosts[0], "running"),
                                  ("db", hosts[0], "running"), ("web", hosts[0], "exited")):
            d = deployment_repo.get_by_name(session, name)
            session.add(Replica(deployment_id=d.id, host_id=host.id, slot=0, revision=1,
                                template_hash="x", container_id=uuid.uuid4().hex,
                                container_name=f"{name}.{host.name}", state=state))
        db_id = deployment_repo.get_by_name(session, "db").id
        plain_id = deployment_repo.get_by_name(session, "plain").id
    settings = get_settings()

    ctx = load(db_id, settings, on_generation=lambda _g: None)
    assert ctx is not None
    # Where the other members of its networks run (an exited replica runs nowhere).
    assert ctx.network_peers == {"shop": {"web": frozenset({"h2"})}, "ops": {}}
    request = container_request(
        ctx, Create(0, "h1", container_name("db", 0, ctx.desired.template_hash), "missing"),
        settings)
    assert (request.networks, request.network_alias) == (["ops", "shop"], "db")

    ctx = load(plain_id, settings, on_generation=lambda _g: None)
    assert ctx is not None and ctx.network_peers == {}
    request = container_request(
        ctx, Create(0, "h1", container_name("plain", 0, ctx.desired.template_hash), "missing"),
        settings)
    assert (request.networks, request.network_alias) == ([], None)  # the default bridge


def test_members_on_several_hosts_are_told_once_and_told_when_it_heals(
        client: TestClient) -> None:
    from app.db import session_scope
    from app.repositories import deployments as deployment_repo
    from app.repositories import events as event_repo
    from app.services import networks as network_service

    _ok(client.put("/v1/deployments/web", json={"image": "web:1", "networks": ["shop"]}), 201)
    apart = {"shop": {"db": frozenset({"h1"})}}

    def report(own_hosts: set[str], peers: dict, message: str = "2/2 replicas ready"):
        with session_scope() as session:
            d = deployment_repo.get_by_name(session, "web")
            d.message, d.conditions = message, [{"type": "Available", "status": True}]
            network_service.report_spread(session, d, ["shop"], own_hosts, peers)
            events = [e.reason for e in event_repo.after(session, d.id, None, 100)]
            return d.message, d.conditions, events

    message, conditions, events = report({"h2"}, apart)
    assert message.startswith("2/2 replicas ready; network shop spans hosts h1, h2 "
                              "(db on h1; web on h2)")
    assert "web on h2 cannot reach db" in message and "db on h1 cannot reach web" in message
    (names,) = [c for c in conditions if c["type"] == "NamesResolve"]
    assert (names["status"], names["reason"]) == (False, "NetworkSpansHosts")
    assert [c["type"] for c in conditions] == ["Available", "NamesResolve"]
    assert events.count("NetworkSpansHosts") == 1
    # Every pass says it in the status, the event only once; a failed deployment (whose
    # message carries over) does not get it twice.
    message, _, events = report({"h2"}, apart, message=message)
    assert message.count("network shop spans") == 1
    assert events.count("NetworkSpansHosts") == 1

    # Together again: the condition holds, and the events say so once.
    message, conditions, events = report({"h1"}, apart)
    assert message == "2/2 replicas ready"
    assert [c["status"] for c in conditions if c["type"] == "NamesResolve"] == [True]
    _, _, events = report({"h1"}, apart)
    assert events.count("NetworkOnOneHost") == 1
    # Apart once more: said again.
    _, _, events = report({"h2"}, apart)
    assert events.count("NetworkSpansHosts") == 2

    # A deployment on no network is left exactly as it was.
    with session_scope() as session:
        d = deployment_repo.get_by_name(session, "web")
        d.message, d.conditions = "m", []
        network_service.report_spread(session, d, [], {"h2"}, apart)
        assert (d.message, d.conditions) == ("m", [])
