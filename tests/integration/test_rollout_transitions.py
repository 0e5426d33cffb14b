"""Every rollout transition records its event in one place, and a rollout ends with the
truth: an automatic rollback is announced only when it has begun (issue 10)."""

from __future__ import annotations

import sqlalchemy as sa

from app.config import get_settings
from app.db import session_scope
from app.models import Event, Rollout
from app.reconcile import decide
from app.repositories import deployments as deployment_repo
from app.services.reconciler import record
from app.services.rollouts import transition

SPEC = {"image": "moorage-test/web:v1", "replicas": 1}


def _events(name: str) -> list[tuple[str, str]]:
    with session_scope() as session:
        d = deployment_repo.find_by_name(session, name)
        return [(e.reason, e.message) for e in session.scalars(
            sa.select(Event).where(Event.deployment_id == d.id).order_by(Event.id))]


def test_superseding_a_rollout_says_so(client) -> None:
    first = client.put("/v1/deployments/web", json=SPEC).json()["current_rollout"]["id"]
    client.put("/v1/deployments/web", json={**SPEC, "image": "moorage-test/web:v2"})
    superseded = client.get(f"/v1/rollouts/{first}").json()
    assert superseded["state"] == "superseded"
    assert ("RolloutSuperseded", superseded["message"]) in _events("web")


def test_a_failed_restart_is_not_announced_as_rolled_back(client) -> None:
    first = client.put("/v1/deployments/web", json=SPEC).json()["current_rollout"]["id"]
    with session_scope() as session:  # revision 1 ran well
        rollout = session.get(Rollout, first)
        transition(session, rollout, "in_progress")
        transition(session, rollout, "succeeded", "1/1 replicas ready")
    restart = client.post("/v1/deployments/web/restart").json()["id"]

    with session_scope() as session:
        deployment = deployment_repo.find_by_name(session, "web")
        failing = session.get(Rollout, restart)
        # The restart's new containers never became ready: revision 1 has the very same
        # spec, so there is nothing to roll back to.
        failure = decide.Failure("no progress for 600s", record._active(failing),
                                 deployment.revision, wants_rollback=True)
        record.settle_failure(session, deployment, failing, failure, get_settings(), [])

    failed = client.get(f"/v1/rollouts/{restart}").json()
    assert failed["state"] == "failed", failed
    assert "no automatic rollback" in failed["message"] and "same spec" in failed["message"]
    reasons = [reason for reason, _ in _events("web")]
    assert "RolloutRolledBack" not in reasons
    assert reasons[-1] == "RolloutFailed"
    assert client.get("/v1/deployments/web").json()["revision"] == 2
