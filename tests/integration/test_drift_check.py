"""Settled deployments and their drift check (app.services.drift; issue 14, item 4).

Real Postgres, Redis and a Docker engine; no worker runs, so the test sees what the
resync and the drift check send and write. The containers are made by the test, with the
labels a pass gives them, standing for what a converged pass left. A settled deployment
(its last pass converged, with nothing timed left) gets no job of its own from the
resync; the drift check wakes it when the engine contradicts its records, and the wake
survives a lost job: the resync sends it again.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import timedelta

import pytest
import redis

from app.db import session_scope, utcnow
from app.dockerhost.engine import L_DEPLOYMENT_ID, L_INSTALLATION, L_MANAGED
from app.models import Deployment, Host, Replica
from app.services import drift
from app.services import installation as installation_service
from tests.conftest import REDIS_URL, TEST_QUEUE
from tests.integration.test_job_coalescing import SPEC, queued
from tests.support import dockerd

pytestmark = pytest.mark.docker
TEST_LABEL = "moorage.test=drift-check"


@pytest.fixture(scope="module")
def engine(first_engine: dockerd.Engine) -> Iterator[dockerd.Engine]:
    yield first_engine
    first_engine.remove_all_containers(TEST_LABEL)


@pytest.fixture
def queue(clean_db, engine: dockerd.Engine) -> Iterator[redis.Redis]:
    engine.remove_all_containers(TEST_LABEL)
    r = redis.Redis.from_url(REDIS_URL)
    r.delete(TEST_QUEUE)
    yield r
    r.delete(TEST_QUEUE)
    r.close()


def settle(client, engine: dockerd.Engine, name: str) -> uuid.UUID:
    """What a converged pass of a deployment without a health check leaves: its container
    running on the engine, its replica recorded running, its generation observed, no
    next_reconcile_at, no job waiting."""
    assert client.put(f"/v1/deployments/{name}", json=SPEC).status_code == 201
    with session_scope() as session:
        installation = installation_service.installation_id(session)
        host = session.query(Host).filter_by(name="h1").one_or_none()
        if host is None:
            host = Host(name="h1", url=engine.url, state="ready")
            session.add(host)
            session.flush()
        d = session.query(Deployment).filter_by(name=name).one()
        container_id = engine.docker(
            "run", "-d", "--name", f"{name}-0", "--label", TEST_LABEL,
            "--label", f"{L_MANAGED}=true", "--label", f"{L_INSTALLATION}={installation}",
            "--label", f"{L_DEPLOYMENT_ID}={d.id}", dockerd.WEB_V1,
        ).stdout.strip()
        d.observed_generation, d.next_reconcile_at, d.job_queued_at = d.generation, None, None
        d.phase, d.ready_replicas = "available", 1
        session.add(Replica(deployment_id=d.id, host_id=host.id, slot=0, revision=1,
                            template_hash="h", container_id=container_id,
                            container_name=f"{name}-0", state="running"))
        return d.id


def next_reconcile_at(did: uuid.UUID):
    with session_scope() as session:
        return session.get(Deployment, did).next_reconcile_at


def test_a_settled_deployment_gets_no_job_from_the_resync(client, queue, engine) -> None:
    from workers.tasks import resync

    settle(client, engine, "quiet")
    queue.delete(TEST_QUEUE)
    resync()
    assert queued(queue) == {}


def test_the_drift_check_writes_and_sends_nothing_when_the_engine_agrees(
        client, queue, engine) -> None:
    did = settle(client, engine, "quiet")
    queue.delete(TEST_QUEUE)
    assert drift.check() == 0
    assert queued(queue) == {}
    assert next_reconcile_at(did) is None


def test_drift_wakes_the_deployment_and_a_lost_job_is_sent_again(client, queue, engine) -> None:
    from workers.tasks import resync

    did = settle(client, engine, "web")
    other = settle(client, engine, "other")
    engine.docker("kill", "web-0")  # it died; its record still says running
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

    did = settle(client, engine, "web")
    assert client.put("/v1/deployments/web", json={**SPEC, "replicas": 2}).status_code == 200
    queue.delete(TEST_QUEUE)  # the apply's job is lost
    with session_scope() as session:
        session.get(Deployment, did).job_queued_at = utcnow() - timedelta(minutes=5)
    resync()
    assert queued(queue) == {str(did): 1}


def test_a_host_change_unsettles_its_deployments(client, queue, engine) -> None:
    from workers.tasks import resync

    did = settle(client, engine, "web")
    r = client.patch("/v1/hosts/h1", json={"labels": {"zone": "b"}})
    assert r.status_code == 200, r.text
    assert next_reconcile_at(did) is not None
    queue.delete(TEST_QUEUE)
    with session_scope() as session:
        session.get(Deployment, did).job_queued_at = utcnow() - timedelta(minutes=5)
    resync()
    assert queued(queue) == {str(did): 1}


def test_a_host_back_tells_and_wakes_the_deployments_whose_containers_it_holds(
        client, queue, engine) -> None:
    """Its replicas moved off while it was away (a graceful engine stop: they exited,
    their restart there failed, they were placed elsewhere), so no replica row names the
    host; its stale containers do, and their deployments hear that it is back."""
    from app.models import Event
    from app.services import hosts as host_service

    moved = settle(client, engine, "moved")
    assert client.put("/v1/deployments/elsewhere", json=SPEC).status_code == 201
    with session_scope() as session:
        session.query(Replica).filter_by(deployment_id=moved).delete()  # now on another host
        host = session.query(Host).filter_by(name="h1").one()
        lost = utcnow() - timedelta(seconds=30)
        host.state, host.unreachable_since, host.lost_at = "unreachable", lost, lost
        elsewhere = session.query(Deployment).filter_by(name="elsewhere").one().id

    beat = host_service.heartbeat_all(only=["h1"])
    assert beat.changed_hosts == ["h1"]
    assert moved in beat.wake and elsewhere not in beat.wake
    with session_scope() as session:
        told = {d for (d,) in session.query(Event.deployment_id).filter_by(reason="HostReady")}
    assert told == {moved}
