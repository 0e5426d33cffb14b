from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.errors import NotFound
from app.models import Webhook, WebhookDelivery
from app.repositories.pagination import cut_page, decode_cursor

SEEN_OUTCOMES = ("applied", "ignored")


def find(session: Session, webhook_id: uuid.UUID, *, for_update: bool = False) -> Webhook | None:
    query = select(Webhook).where(Webhook.id == webhook_id)
    if for_update:
        # Deliveries to one webhook run one at a time, so a duplicate is always seen.
        query = query.with_for_update().execution_options(populate_existing=True)
    return session.scalar(query)


def get_for_deployment(session: Session, deployment_id: uuid.UUID, webhook_id: uuid.UUID) -> Webhook:
    hook = session.scalar(
        select(Webhook).where(Webhook.id == webhook_id, Webhook.deployment_id == deployment_id)
    )
    if hook is None:
        raise NotFound(f"webhook {webhook_id} does not exist")
    return hook


def add(session: Session, hook: Webhook) -> Webhook:
    session.add(hook)
    session.flush()
    return hook


def remove(session: Session, hook: Webhook) -> None:
    session.delete(hook)
    session.flush()


def page(
    session: Session, deployment_id: uuid.UUID, limit: int, cursor: str | None
) -> tuple[list[Webhook], str | None]:
    after = decode_cursor(cursor, Webhook.id)
    query = (
        select(Webhook)
        .where(Webhook.deployment_id == deployment_id)
        .order_by(Webhook.created_at, Webhook.id)
    )
    rows = list(session.scalars(query))  # a handful per deployment
    if after is not None:
        ids = [h.id for h in rows]
        rows = rows[ids.index(after) + 1:] if after in ids else []
    return cut_page(rows, limit, lambda r: str(r.id))


def deliveries_since(session: Session, webhook_id: uuid.UUID, since: datetime) -> int:
    return session.scalar(
        select(func.count()).select_from(WebhookDelivery)
        .where(WebhookDelivery.webhook_id == webhook_id, WebhookDelivery.received_at >= since)
    ) or 0


def add_delivery(session: Session, delivery: WebhookDelivery) -> WebhookDelivery:
    session.add(delivery)
    session.flush()
    return delivery


def seen_delivery(
    session: Session, webhook_id: uuid.UUID, delivery_id: str | None, payload_sha256: str | None
) -> WebhookDelivery | None:
    """An earlier delivery with this provider id, or an applied one with this exact body.
    Only authenticated deliveries that were handled count: a rejected or failed one may
    be retried."""
    if delivery_id is not None:
        found = session.scalar(
            select(WebhookDelivery)
            .where(WebhookDelivery.webhook_id == webhook_id,
                   WebhookDelivery.delivery_id == delivery_id,
                   WebhookDelivery.outcome.in_(SEEN_OUTCOMES))
            .limit(1)
        )
        if found is not None:
            return found
    if payload_sha256 is not None:
        return session.scalar(
            select(WebhookDelivery)
            .where(WebhookDelivery.webhook_id == webhook_id,
                   WebhookDelivery.payload_sha256 == payload_sha256,
                   WebhookDelivery.outcome == "applied")
            .limit(1)
        )
    return None


def deliveries_page(
    session: Session, webhook_id: uuid.UUID, limit: int, cursor: str | None
) -> tuple[list[WebhookDelivery], str | None]:
    """Newest first."""
    before = decode_cursor(cursor, WebhookDelivery.id)
    query = (
        select(WebhookDelivery)
        .where(WebhookDelivery.webhook_id == webhook_id)
        .order_by(WebhookDelivery.id.desc())
        .limit(limit + 1)
    )
    if before is not None:
        query = query.where(WebhookDelivery.id < before)
    rows = list(session.scalars(query))
    return cut_page(rows, limit, lambda r: r.id)
