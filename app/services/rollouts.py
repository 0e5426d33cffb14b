"""Rollout transitions, always through the state machine's rules."""

from __future__ import annotations

from app.db import utcnow
from app.models import Rollout
from app.reconcile import rollouts as rules


def transition(rollout: Rollout, state: str, message: str | None = None) -> None:
    rules.check(rollout.state, state)
    rollout.state = state
    now = utcnow()
    if state == rules.S.IN_PROGRESS:
        rollout.started_at = now
    if state in rules.TERMINAL:
        rollout.finished_at = now
    if message is not None:
        rollout.message = message
