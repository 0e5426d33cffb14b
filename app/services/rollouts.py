"""Rollout transitions, always through the state machine's rules, each with its event.

Every change of a rollout's state goes through `transition`, which also records the one
event that says so in the deployment's stream, so no call site can forget it.
"""

from __future__ import annotations

from sqlalchemy.orm import Session

from app import jobs
from app.db import utcnow
from app.models import Deployment, Rollout, StackRollout
from app.reconcile import rollouts as rules
from app.repositories import events as event_repo

# state -> (event reason, is a warning)
EVENTS: dict[str, tuple[str, bool]] = {
    rules.S.IN_PROGRESS: ("RolloutStarted", False),
    rules.S.SUCCEEDED: ("RolloutSucceeded", False),
    rules.S.FAILED: ("RolloutFailed", True),
    rules.S.ROLLED_BACK: ("RolloutRolledBack", True),
    rules.S.SUPERSEDED: ("RolloutSuperseded", False),
}


def stamp(rollout: Rollout | StackRollout, state: str, message: str | None = None) -> None:
    """Move a rollout (a deployment's or a stack's release) to ``state`` if the state
    machine allows it, with its start or end time and its message."""
    rules.check(rollout.state, state)
    rollout.state = state
    now = utcnow()
    if state == rules.S.IN_PROGRESS:
        rollout.started_at = now
    if state in rules.TERMINAL:
        rollout.finished_at = now
    if message is not None:
        rollout.message = message


def transition(session: Session, rollout: Rollout, state: str, message: str | None = None) -> None:
    stamp(rollout, state, message)
    if rollout.deployment_id is None or state not in EVENTS:
        return
    if state in rules.TERMINAL:
        deployment = session.get(Deployment, rollout.deployment_id)
        if deployment is not None and deployment.stack_id is not None:
            jobs.wake_stack(session, deployment.stack_id)  # its release may go on now
    reason, warning = EVENTS[state]
    text = message or f"{rollout.kind} to revision {rollout.to_revision}"
    event_repo.record(session, rollout.deployment_id, reason, text, warning=warning,
                      rollout_id=rollout.id)
