"""A replica that goes is told apart by who removed it: Moorage's own removals drop their
records, so the slot's next container is no replica gone behind its back; a record that
is still there names a container someone else removed, in whatever state it was last seen.

Passes are run one at a time against a real engine, so each test fixes which pass saw what.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator

import pytest

from app.db import session_scope
from app.models import Deployment, Event, Replica
from app.services.reconciler import Reconciler
from tests.support import dockerd

pytestmark = pytest.mark.docker


@pytest.fixture
def engine(clean_db, first_engine: dockerd.Engine) -> Iterator[dockerd.Engine]:
    first_engine.remove_all_containers()
    yield first_engine
    first_engine.remove_all_containers()


def setup(client, engine: dockerd.Engine, name: str, **spec) -> uuid.UUID:
    r = client.post("/v1/hosts", json={"name": "h1", "url": engine.url})
    assert r.status_code in (201, 409), r.text
    r = client.put(f"/v1/deployments/{name}", json={"image": dockerd.WEB_V1, "replicas": 1, **spec})
    assert r.status_code == 201, r.text
    with session_scope() as session:
        return session.query(Deployment).filter_by(name=name).one().id


def records(did: uuid.UUID) -> list[tuple[int, str, str]]:
    with session_scope() as session:
        return [(r.slot, r.container_id, r.state)
                for r in session.query(Replica).filter_by(deployment_id=did).order_by(Replica.slot)]


def reasons(did: uuid.UUID) -> list[str]:
    with session_scope() as session:
        return [e.reason for e in session.query(Event).filter_by(deployment_id=did).order_by(Event.id)]


def pass_until_running(reconciler: Reconciler, did: uuid.UUID) -> str:
    """Passes until the one replica is recorded running; its container id."""
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        wait = reconciler._pass(did)
        running = [cid for _, cid, state in records(did) if state == "running"]
        if running:
            return running[0]
        time.sleep(min(wait or 0.1, 0.5))
    raise AssertionError(f"no replica running: {records(did)}")


def test_a_replica_removed_by_hand_is_told_whatever_state_it_was_last_seen_in(
        client, engine) -> None:
    # "never": an exited replica is left be, so its record stays as last seen.
    did = setup(client, engine, "kept", restart_policy="never")
    reconciler = Reconciler(owner="w1")
    container = pass_until_running(reconciler, did)

    engine.docker("stop", "-t", "1", container)
    reconciler._pass(did)
    assert records(did) == [(0, container, "exited")]

    engine.docker("rm", container)  # by hand, behind Moorage's back
    reconciler._pass(did)
    told = reasons(did)
    assert "ReplicaMissing" in told, told
    assert pass_until_running(reconciler, did) != container


def test_a_replica_moorage_removed_itself_is_not_told_missing(client, engine) -> None:
    did = setup(client, engine, "scaled")
    reconciler = Reconciler(owner="w1")
    pass_until_running(reconciler, did)

    # Scaled to none and back between two passes: the first pass's removal is Moorage's.
    assert client.patch("/v1/deployments/scaled", json={"replicas": 0}).status_code == 200
    reconciler._pass(did)
    assert records(did) == []
    assert client.patch("/v1/deployments/scaled", json={"replicas": 1}).status_code == 200
    reconciler._pass(did)

    told = reasons(did)
    assert "ReplicaRemoved" in told and told.count("ReplicaCreated") == 2, told
    assert "ReplicaMissing" not in told, told
