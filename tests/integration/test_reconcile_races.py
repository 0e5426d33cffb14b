"""A pass and an API write at once: the pass's conclusions are written only about the
desired state it planned for.

CI once saw a DELETE answered with a rollout that succeeded at once while all six
replicas still ran: the DELETE committed just after a pass had checked the deployment's
generation, and the pass then read the new delete rollout and ended it as its own
("6/6 replicas ready"). Here the DELETE is made at that very moment, from another
thread, and the test waits until it has either committed or is seen waiting on a lock
(Postgres' own view of it), so the interleaving is fixed and nothing is timed.
"""

from __future__ import annotations

import threading
import time
import uuid

import pytest
import sqlalchemy as sa

from app.db import get_engine, session_scope
from app.models import Deployment, Rollout
from app.services import deployments as deployment_service
from app.services.reconciler import Reconciler
from app.services.reconciler import record as record_module

SPEC = {"image": "moorage-test/web:v1", "replicas": 0}  # no host: no engine is asked


def _waiting_on_a_lock() -> bool:
    with get_engine().connect() as conn:
        return bool(conn.scalar(sa.text(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
            "AND wait_event_type = 'Lock'")))


def _until_committed_or_waiting(thread: threading.Thread) -> None:
    deadline = time.monotonic() + 30
    while thread.is_alive() and not _waiting_on_a_lock():
        assert time.monotonic() < deadline, "the DELETE neither committed nor waited"
        time.sleep(0.01)


def test_a_delete_made_while_a_pass_records_is_not_ended_by_that_pass(
        client, monkeypatch: pytest.MonkeyPatch) -> None:
    assert client.put("/v1/deployments/racing", json=SPEC).status_code == 201
    with session_scope() as session:
        did: uuid.UUID = session.query(Deployment).filter_by(name="racing").one().id
    reconciler = Reconciler(owner="w1")
    reconciler.run(did)  # converged: nothing left to do

    deleted: list[uuid.UUID] = []

    def delete() -> None:
        with session_scope() as session:
            deleted.append(deployment_service.delete(session, "racing").id)

    real_rollout = record_module._rollout
    made = threading.Thread(target=delete)

    def rollout_read_with_a_delete_just_before(session, deployment):
        # After the pass's generation check, before it reads the active rollout.
        if not made.is_alive() and not deleted:
            made.start()
            _until_committed_or_waiting(made)
        return real_rollout(session, deployment)

    monkeypatch.setattr(record_module, "_rollout", rollout_read_with_a_delete_just_before)
    reconciler._pass(did)
    made.join(timeout=30)
    assert deleted, "the DELETE did not commit"
    monkeypatch.undo()

    with session_scope() as session:
        rollout = session.get(Rollout, deleted[0])
        assert (rollout.kind, rollout.state) == ("delete", "pending"), (
            rollout.state, rollout.message)
        assert session.get(Deployment, did).phase == "deleting"

    reconciler.run(did)  # the next pass sees the delete, and carries it out
    with session_scope() as session:
        rollout = session.get(Rollout, deleted[0])
        assert (rollout.state, rollout.message) == ("succeeded", "every replica removed")
        assert session.get(Deployment, did) is None
