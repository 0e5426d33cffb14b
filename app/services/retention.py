"""Retention: what the scheduler purges, by age and by count, in bounded batches.

Every table that grows with use has a limit: events (per deployment: the newest
``events_per_deployment``, none older than ``event_retention_days``), finished rollouts
(``rollout_retention_days``; a deployment's latest stays; a stack's releases alike),
webhook deliveries
(``delivery_retention_days`` and the newest ``deliveries_per_webhook`` per hook) and
Idempotency-Keys (24 h). One run deletes at most ``purge_max_batches`` batches of
``purge_batch`` rows per kind, each in its own short transaction; what is left waits for
the next run.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta

from sqlalchemy.orm import Session

from app.config import Settings
from app.db import session_scope, utcnow
from app.repositories import retention as repo
from app.services import idempotency as idempotency_service


def _drain(step: Callable[[Session], int], batch: int, max_batches: int) -> int:
    total = 0
    for _ in range(max_batches):
        with session_scope() as session:
            n = step(session)
        total += n
        if n < batch:
            break
    return total


def purge(settings: Settings, now: datetime | None = None) -> dict[str, int]:
    """Delete what is past retention; returns how many rows of each kind went."""
    now = now or utcnow()
    batch, most = settings.purge_batch, settings.purge_max_batches
    days = lambda n: now - timedelta(days=n)  # noqa: E731
    purged = {
        "events": _drain(lambda s: repo.events_before(s, days(settings.event_retention_days), batch),
                         batch, most),
        "rollouts": _drain(lambda s: repo.finished_rollouts_before(
            s, days(settings.rollout_retention_days), batch), batch, most),
        "stack_rollouts": _drain(lambda s: repo.finished_stack_rollouts_before(
            s, days(settings.rollout_retention_days), batch), batch, most),
        "deliveries": _drain(lambda s: repo.deliveries_before(
            s, days(settings.delivery_retention_days), batch), batch, most),
    }
    with session_scope() as session:
        crowded = repo.deployments_with_more_events(session, settings.events_per_deployment)
    for deployment_id in crowded:
        purged["events"] += _drain(lambda s, d=deployment_id: repo.events_beyond(
            s, d, settings.events_per_deployment, batch), batch, most)
    with session_scope() as session:
        busy_hooks = repo.webhooks_with_more_deliveries(session, settings.deliveries_per_webhook)
    for webhook_id in busy_hooks:
        purged["deliveries"] += _drain(lambda s, w=webhook_id: repo.deliveries_beyond(
            s, w, settings.deliveries_per_webhook, batch), batch, most)
    with session_scope() as session:
        purged["idempotency_keys"] = idempotency_service.purge_expired(session, now)
    return purged
