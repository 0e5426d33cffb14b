"""At most one reconcile job per deployment waits in the broker (issue 9, item 5).

Real Postgres and a real Redis queue; no worker runs, so what the API, the resync and the
reconciler send stays in the queue where the test can count it.
"""

from __future__ import annotations

import base64
import json
import uuid
from collections import Counter
from datetime import timedelta

import pytest
import redis

from app import jobs
from app.db import session_scope, utcnow
from app.repositories import deployments as deployment_repo
from app.services.reconciler import Reconciler
from tests.conftest import REDIS_URL, TEST_QUEUE

SPEC = {"image": "moorage-test/web:v1", "replicas": 1}


@pytest.fixture
def queue(clean_db) -> redis.Redis:
    r = redis.Redis.from_url(REDIS_URL)
    r.delete(TEST_QUEUE)
    yield r
    r.delete(TEST_QUEUE)
    r.close()


def queued(r: redis.Redis) -> Counter[str]:
    """Reconcile jobs waiting in the queue, per deployment id."""
    counts: Counter[str] = Counter()
    for raw in r.lrange(TEST_QUEUE, 0, -1):
        message = json.loads(raw)
        if message["headers"]["task"] != jobs.RECONCILE_TASK:
            continue
        args, _kwargs, _embed = json.loads(base64.b64decode(message["body"]))
        counts[args[0]] += 1
    return counts


def deployment_id(_client, name: str) -> str:
    with session_scope() as session:
        return str(deployment_repo.find_by_name(session, name).id)


def test_many_changes_to_one_deployment_queue_one_job(client, queue: redis.Redis) -> None:
    for replicas in range(1, 11):
        r = client.put("/v1/deployments/busy", json={**SPEC, "replicas": replicas})
        assert r.status_code in (200, 201), r.text
    client.put("/v1/deployments/quiet", json=SPEC)

    counts = queued(queue)
    assert counts == {deployment_id(client, "busy"): 1, deployment_id(client, "quiet"): 1}


def test_the_resync_adds_nothing_behind_a_job_that_waits(client, queue: redis.Redis) -> None:
    from workers.tasks import resync

    for name in ("a", "b", "c"):
        client.put(f"/v1/deployments/{name}", json=SPEC)
    for _ in range(5):
        resync()
    assert sorted(queued(queue).values()) == [1, 1, 1]


def test_a_picked_up_job_lets_the_next_request_through(client, queue: redis.Redis) -> None:
    client.put("/v1/deployments/web", json=SPEC)
    did = uuid.UUID(deployment_id(client, "web"))
    queue.delete(TEST_QUEUE)  # a worker took it
    assert Reconciler(owner="w1")._lease(did, picked_up=True)
    assert jobs.request_reconcile([did]) == 1
    assert jobs.request_reconcile([did]) == 0
    assert queued(queue) == {str(did): 1}


def test_a_job_picked_up_while_another_holds_the_lease_is_still_picked_up(client, queue) -> None:
    client.put("/v1/deployments/web", json=SPEC)
    did = uuid.UUID(deployment_id(client, "web"))
    assert Reconciler(owner="holder")._lease(did)
    queue.delete(TEST_QUEUE)
    assert not Reconciler(owner="late")._lease(did, picked_up=True)
    with session_scope() as session:
        d = deployment_repo.find(session, did)
        assert (d.lease_owner, d.job_queued_at) == ("holder", None)
    assert jobs.request_reconcile([did]) == 1


def test_a_job_lost_with_the_broker_is_sent_again_once_stale(client, queue: redis.Redis) -> None:
    client.put("/v1/deployments/web", json=SPEC)
    did = uuid.UUID(deployment_id(client, "web"))
    queue.flushdb()  # Redis lost everything; the mark says a job waits
    assert jobs.request_reconcile([did]) == 0
    with session_scope() as session:
        deployment_repo.find(session, did).job_queued_at = utcnow() - timedelta(minutes=5)
    assert jobs.request_reconcile([did]) == 1
    assert queued(queue) == {str(did): 1}


def test_a_job_for_a_held_deployment_makes_the_holder_look_again(client, queue) -> None:
    client.put("/v1/deployments/web", json=SPEC)
    did = uuid.UUID(deployment_id(client, "web"))
    holder, late = Reconciler(owner="holder"), Reconciler(owner="late")
    assert holder._lease(did)
    queue.delete(TEST_QUEUE)

    late.run(did)  # finds the lease held: hands its look over instead of dropping it

    with session_scope() as session:
        assert deployment_repo.find(session, did).look_again
    # The holder ends (as Reconciler.run's finally does) and asks for one more look.
    holder.seen_generation = None
    with session_scope() as session:
        d = deployment_repo.release_lease(session, did, "holder")
        assert d.look_again
    assert late._take_lease_or_hand_over(did)  # free now: the late one would take it


def test_a_request_for_a_deleted_deployment_sends_nothing(client, queue: redis.Redis) -> None:
    assert jobs.request_reconcile([uuid.uuid4()]) == 0
    assert queued(queue) == {}


def test_a_late_job_is_not_sent_twice_while_the_queue_is_busy(client, queue: redis.Redis) -> None:
    from workers.tasks import resync

    for name in ("late", "other"):
        client.put(f"/v1/deployments/{name}", json=SPEC)
    late = uuid.UUID(deployment_id(client, "late"))
    with session_scope() as session:  # both jobs have waited longer than job_redeliver_s
        for d in (late, uuid.UUID(deployment_id(client, "other"))):
            deployment_repo.find(session, d).job_queued_at = utcnow() - timedelta(minutes=5)
    resync()
    assert sorted(queued(queue).values()) == [1, 1]  # late, not lost: nothing sent again

    queue.delete(TEST_QUEUE)  # the queue is empty, so the marks speak of lost messages
    resync()
    assert sorted(queued(queue).values()) == [1, 1]


def test_periodic_tasks_have_a_queue_of_their_own(client, queue: redis.Redis) -> None:
    from app.config import get_settings

    celery = jobs.get_celery()
    for task in jobs.PERIODIC_TASKS:
        celery.send_task(task)
    periodic = jobs.periodic_queue(get_settings())
    try:
        assert queue.llen(periodic) == len(jobs.PERIODIC_TASKS)
        assert queue.llen(TEST_QUEUE) == 0
        assert jobs.waiting_reconciles() == 0
        client.put("/v1/deployments/web", json=SPEC)
        assert jobs.waiting_reconciles() == 1
    finally:
        queue.delete(periodic)
