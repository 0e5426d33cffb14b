"""What a reconcile job costs the database: a constant number of statements and commits
(issue 14: at 50 new revisions a second the worker's passes were most of the machine).

No hosts are registered, so no engine is asked anything; the statements are the job's
own: pick up the job and take the lease, load, record the pass, release.
"""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import event

from app.db import get_engine, session_scope
from app.models import Event
from app.repositories import deployments as deployment_repo
from app.services.reconciler import Reconciler

SPEC = {"image": "moorage-test/web:v1", "replicas": 0}


def costs(call) -> tuple[list[str], int]:
    """The statements ``call()`` ran (their verbs) and the transactions it committed."""
    verbs: list[str] = []
    commits = [0]

    def statement(_conn: Any, _cursor: Any, text: str, *_args: Any) -> None:
        verbs.append(text.split(None, 1)[0])

    def commit(_conn: Any) -> None:
        commits[0] += 1

    engine = get_engine()
    event.listen(engine, "before_cursor_execute", statement)
    event.listen(engine, "commit", commit)
    try:
        call()
    finally:
        event.remove(engine, "before_cursor_execute", statement)
        event.remove(engine, "commit", commit)
    return verbs, commits[0]


def deployment_id(name: str) -> uuid.UUID:
    with session_scope() as session:
        return deployment_repo.find_by_name(session, name).id


def test_a_new_revision_of_an_idle_deployment_is_one_job_of_twelve_statements(client) -> None:
    assert client.put("/v1/deployments/idle", json=SPEC).status_code == 201
    did = deployment_id("idle")
    reconciler = Reconciler(owner="w1")
    reconciler.run(did)
    assert client.put("/v1/deployments/idle", json={**SPEC, "env": {"A": "1"}}).status_code == 200

    verbs, commits = costs(lambda: reconciler.run(did))

    # lease (with the job's pick-up) | load: deployment, hosts, replicas, other hosts' loads
    # | record: deployment, rollout, its status, both rollout events in one INSERT, the
    # rollout | release: the row locked, the lease cleared
    assert verbs == ["UPDATE", "SELECT", "SELECT", "SELECT", "SELECT", "SELECT", "SELECT",
                     "UPDATE", "INSERT", "UPDATE", "SELECT", "UPDATE"]
    assert commits == 4
    with session_scope() as session:
        d = deployment_repo.find(session, did)
        assert (d.observed_generation, d.lease_owner, d.job_queued_at) == (d.generation, None, None)
        reasons = [e.reason for e in session.query(Event).filter_by(deployment_id=did)
                   .order_by(Event.id)]
    assert reasons[-2:] == ["RolloutStarted", "RolloutSucceeded"]  # in the order they happened


def test_a_job_that_finds_nothing_to_do_writes_nothing_but_its_lease(client) -> None:
    assert client.put("/v1/deployments/idle", json=SPEC).status_code == 201
    did = deployment_id("idle")
    reconciler = Reconciler(owner="w1")
    reconciler.run(did)

    verbs, commits = costs(lambda: reconciler.run(did))

    assert verbs == ["UPDATE", "SELECT", "SELECT", "SELECT", "SELECT", "SELECT", "SELECT",
                     "SELECT", "UPDATE"]
    assert commits == 4
