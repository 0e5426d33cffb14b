"""Settled deployments and their drift check (app.services.drift; issue 14, item 4).

Real Postgres and Redis; no worker runs, and the engine's listing is a stand-in, so the
test sees what the resync and the drift check send and write. A settled deployment (its
last pass converged, with nothing timed left) gets no job of its own from the resync;
the drift check wakes it when the engine contradicts its records, and the wake survives
a lost job: the resync sends it again.
"""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest
import redis

from app.db import session_scope, utcnow
from app.models import Deployment, Host, Replica
from app.services import drift
from tests.conftest import REDIS_URL, TEST_QUEUE
from tests.integration.test_job_coalescing import SPEC, queued


@pytest.fixture
def queue(clean_db) -> redis.Redis:
    r = redis.Redis.from_url(REDIS_URL)
    r.delete(TEST_QUEUE)
    yield r
    r.delete(TEST_QUEUE)
    r.close()


class FakeEngine:
    listing: list[tuple[str, str, str]] = []

    def managed_states(self, installation: str) -> list[tuple[str, str, str]]:
        return list(self.listing)


@pytest.fixture
def engine(monkeypatch) -> type[FakeEngine]:
    FakeEngine.listing = []
    monkeypatch.setattr(drift, "client_for", lambda addr, timeout: FakeEngine())
    return FakeEngine


def settle(client, name: str) -> uuid.UUID:
    """What a converged pass of a deployment without a health check leaves: its replica
    recorded running, its generation observed, no next_reconcile_at, no job waiting."""
    assert client.put(f"/v1/deployments/{name}", json=SPEC).status_code == 201
    with session_scope() as session:
        host = session.query(Host).filter_by(name="h1").one_or_none()
        if host is None:
            host = Host(name="h1", url="unix:///nonexistent.sock", state="ready")
            session.add(host)
            session.flush()
        d = session.query(Deployment).filter_by(name=name).one()
        d.observed_generation, d.next_reconcile_at, d.job_queued_at = d.generation, None, None
        d.phase, d.ready_replicas = "available", 1
        session.add(Replica(deployment_id=d.id, host_id=host.id, slot=0, revision=1,
                            template_hash="h", container_id=f"c-{name}",
                            container_name=f"{name}-0", state="running"))
        return d.id


def next_reconcile_at(did: uuid.UUID):
    with session_scope() as session:
        return session.get(Deployment, did).next_reconcile_at


def test_a_settled_deployment_gets_no_job_from_the_resync(client, queue, engine) -> None:
    from workers.tasks import resync

    settle(client, "quiet")
    queue.delete(TEST_QUEUE)
    resync()
    assert queued(queue) == {}


def test_the_drift_check_writes_and_sends_nothing_when_the_engine_agrees(
        client, queue, engine) -> None:
    did = settle(client, "quiet")
    engine.listing = [("c-quiet", str(did), "running")]
    queue.delete(TEST_QUEUE)
    assert drift.check() == 0
    assert queued(queue) == {}
    assert next_reconcile_at(did) is None


def test_drift_wakes_the_deployment_and_a_lost_job_is_sent_again(client, queue, engine) -> None:
    from workers.tasks import resync

    did = settle(client, "web")
    other = settle(client, "other")
    engine.listing = [("c-web", str(did), "exited"), ("c-other", str(other), "running")]
    queue.delete(TEST_QUEUE)
    assert drift.check() == 1
    assert queued(queue) == {str(did): 1}
    assert next_reconcile_at(did) is not None  # due: no longer settled
    assert next_reconcile_at(other) is None

    queue.delete(TEST_QUEUE)  # the job is lost (a flushed Redis)
    with session_scope() as session:  # ... longer ago than job_redeliver_s
        session.get(Deployment, did).job_queued_at = utcnow() - timedelta(minutes=5)
    resync()
    assert queued(queue) == {str(did): 1}


def test_a_change_of_desired_state_unsettles(client, queue, engine) -> None:
    from workers.tasks import resync

    did = settle(client, "web")
    assert client.put("/v1/deployments/web", json={**SPEC, "replicas": 2}).status_code == 200
    queue.delete(TEST_QUEUE)  # the apply's job is lost
    with session_scope() as session:
        session.get(Deployment, did).job_queued_at = utcnow() - timedelta(minutes=5)
    resync()
    assert queued(queue) == {str(did): 1}


def test_a_host_change_unsettles_its_deployments(client, queue, engine) -> None:
    from workers.tasks import resync

    did = settle(client, "web")
    r = client.patch("/v1/hosts/h1", json={"labels": {"zone": "b"}})
    assert r.status_code == 200, r.text
    assert next_reconcile_at(did) is not None
    queue.delete(TEST_QUEUE)
    with session_scope() as session:
        session.get(Deployment, did).job_queued_at = utcnow() - timedelta(minutes=5)
    resync()
    assert queued(queue) == {str(did): 1}
