"""An upstream's joining is told after the edges were, and says which of them took it.

Passes are run one at a time against a real engine for the replica; the only edge is a
host whose engine is not there (a closed loopback port, marked ready as a heartbeat just
before its engine died would have left it), so its proxy cannot be given the config.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator

import pytest

from app.db import session_scope
from app.models import Deployment, Event, Host
from app.services.reconciler import Reconciler
from tests.support import dockerd
from tests.support.ports import free_port

pytestmark = pytest.mark.docker

CHECK = {"http": {"path": "/healthz", "port": 8080}, "interval_s": 1, "timeout_s": 1, "retries": 1}


@pytest.fixture
def engine(clean_db, first_engine: dockerd.Engine) -> Iterator[dockerd.Engine]:
    first_engine.remove_all_containers()
    yield first_engine
    first_engine.remove_all_containers()


def joined_events(did: uuid.UUID) -> list[tuple[str, str]]:
    with session_scope() as session:
        return [(e.type, e.message) for e in session.query(Event)
                .filter_by(deployment_id=did, reason="UpstreamJoined").order_by(Event.id)]


def test_an_upstream_joined_while_an_edge_is_down_names_that_edge(client, engine) -> None:
    r = client.post("/v1/hosts", json={"name": "h1", "url": engine.url, "edge": False})
    assert r.status_code == 201, r.text
    # Written in directly: the API registers only an engine that answers. Not schedulable,
    # so the replica goes to h1.
    with session_scope() as session:
        session.add(Host(name="edge-1", url=f"tcp://127.0.0.1:{free_port()}", state="ready",
                         schedulable=False, edge=True))
    r = client.put("/v1/deployments/web", json={
        "image": dockerd.WEB_V1, "replicas": 1, "health_check": CHECK,
        "endpoint": {"port": 8080, "drain_timeout_s": 1}})
    assert r.status_code == 201, r.text
    with session_scope() as session:
        did = session.query(Deployment).filter_by(name="web").one().id

    reconciler = Reconciler(owner="w1")
    deadline = time.monotonic() + 60
    while not joined_events(did):
        assert time.monotonic() < deadline, "the replica never joined the upstreams"
        time.sleep(min(reconciler._pass(did) or 0.1, 0.5))

    [(kind, message)] = joined_events(did)
    assert kind == "warning", message
    assert "except edge-1" in message, message
    # The upstream is in the database's config all the same: the edge gets it once back.
    upstreams = client.get("/v1/deployments/web").json()["endpoint"]["upstreams"]
    assert [u["state"] for u in upstreams] == ["serving"]
