"""Webhooks: deploys triggered by a registry or CI, and the record of every delivery."""

from __future__ import annotations

import hashlib
import re
import secrets
import uuid
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy.orm import Session

from app.config import get_settings
from app.db import utcnow
from app.errors import AppError, Conflict, Invalid, NotFound, TooManyRequests, Unauthorized
from app.models import Webhook, WebhookDelivery
from app.repositories import deployments as deployment_repo
from app.repositories import events as event_repo
from app.repositories import webhooks as webhook_repo
from app.schemas.webhooks import WebhookCreate
from app.services import deployments as deployment_service
from app.services import webhook_payloads as payloads

DELIVERY_ID = re.compile(r"[\x21-\x7e]{1,255}")
SIGNATURE_CHALLENGE = 'HMAC-SHA256 realm="moorage-hooks", header="X-Hub-Signature-256"'


def create(session: Session, deployment_name: str, body: WebhookCreate) -> Webhook:
    deployment = deployment_repo.get_by_name(session, deployment_name)
    if deployment.deleting:
        raise Conflict(f"deployment {deployment_name!r} is being deleted")
    secret = None if body.kind == "dockerhub" else secrets.token_hex(32)
    return webhook_repo.add(session, Webhook(
        deployment_id=deployment.id, kind=body.kind, tag_pattern=body.tag_pattern,
        secret=secret, created_at=utcnow(),
    ))


def remove(session: Session, deployment_name: str, webhook_id: uuid.UUID) -> None:
    deployment = deployment_repo.get_by_name(session, deployment_name)
    webhook_repo.remove(session, webhook_repo.get_for_deployment(session, deployment.id, webhook_id))


@dataclass
class Delivered:
    """A delivery as recorded, and the error to answer with (None: it was handled)."""

    delivery: WebhookDelivery
    error: AppError | None = None


RATE_WINDOW = timedelta(minutes=1)


def told_as(hook: Webhook) -> str:
    """How events name a webhook. A dockerhub one cannot sign, so its id is its secret
    (whoever knows its URL can deliver) and events, which a read token sees, must not
    show it: it is named by when it was made instead."""
    if hook.kind == "dockerhub":
        return f"dockerhub webhook made {hook.created_at:%Y-%m-%d %H:%M:%S} UTC"
    return f"{hook.kind} webhook {hook.id}"


def _check_rate(session: Session, hook_id: uuid.UUID) -> None:
    limit = get_settings().hook_deliveries_per_minute
    if webhook_repo.deliveries_since(session, hook_id, utcnow() - RATE_WINDOW) >= limit:
        raise TooManyRequests(
            f"this webhook took {limit} deliveries in the last minute; try again later",
            retry_after_s=int(RATE_WINDOW.total_seconds()))


def deliver(
    session: Session,
    webhook_id: uuid.UUID,
    body: bytes,
    *,
    signature: str | None,
    delivery_id: str | None,
    authorization: str | None = None,
    github_event: str | None = None,
) -> Delivered:
    """Check, record and act on one delivery. Every delivery to an existing webhook is
    recorded, rejected ones too, so the caller commits even when it answers an error."""
    hook = webhook_repo.find(session, webhook_id)
    if hook is None:
        raise NotFound(f"webhook {webhook_id} does not exist")
    hook_id = hook.id
    _check_rate(session, hook_id)
    valid_id = delivery_id if delivery_id and DELIVERY_ID.fullmatch(delivery_id) else None
    payload_sha256 = hashlib.sha256(body).hexdigest()

    def record(outcome: str, reason: str, *, rollout_id: uuid.UUID | None = None,
               provider_id: str | None = valid_id) -> WebhookDelivery:
        return webhook_repo.add_delivery(session, WebhookDelivery(
            webhook_id=hook_id, received_at=utcnow(), delivery_id=provider_id,
            payload_sha256=payload_sha256, outcome=outcome, rollout_id=rollout_id,
            reason=reason[:1000],
        ))

    # The signature first, before any lock: a forged delivery costs one insert.
    if hook.kind != "dockerhub":
        assert hook.secret is not None
        # A registry cannot sign; it can send the secret as a bearer token instead.
        bearer_ok = hook.kind == "registry" and payloads.verify_bearer(hook.secret, authorization)
        if not bearer_ok and not payloads.verify_signature(hook.secret, body, signature):
            why = "missing X-Hub-Signature-256" if not signature else "the signature does not match"
            return Delivered(record("rejected", why),
                             Unauthorized(f"{why} (HMAC-SHA256 of the body, keyed with the "
                                          "webhook's secret)", challenge=SIGNATURE_CHALLENGE))

    # Lock order deployment → webhook, as a cascading delete takes them. The webhook
    # lock makes deliveries to one webhook run one at a time, so a duplicate is seen.
    deployment = deployment_repo.find(session, hook.deployment_id)
    if deployment is not None:
        deployment = deployment_repo.get_by_name(session, deployment.name, for_update=True)
    hook = webhook_repo.find(session, webhook_id, for_update=True)
    if hook is None or deployment is None:
        raise NotFound(f"webhook {webhook_id} does not exist")

    if delivery_id is not None and valid_id is None:
        why = "the delivery id header must be 1-255 printable ASCII characters"
        return Delivered(record("rejected", why), Invalid(why, loc=["header", "X-Delivery-Id"]))

    revision = deployment_service.current_revision(session, deployment)
    try:
        decision = payloads.decide(hook.kind, body, revision.spec["image"], hook.tag_pattern,
                                   github_event)
    except payloads.PayloadError as exc:
        return Delivered(record("rejected", f"malformed payload: {exc}"),
                         Invalid(f"malformed payload: {exc}", loc=["body"]))
    provider_id = decision.event_id or valid_id

    seen = webhook_repo.seen_delivery(session, hook.id, provider_id, payload_sha256)
    if seen is not None:
        return Delivered(record("ignored", f"duplicate delivery (handled before as #{seen.id})",
                                provider_id=provider_id))
    if decision.image is None:
        return Delivered(record("ignored", decision.reason, provider_id=provider_id))

    try:
        with session.begin_nested():  # a failed apply leaves nothing but the record
            result = deployment_service.update_image(session, deployment.name, decision.image,
                                                     repin=decision.repin)
    except AppError as exc:
        error: AppError = exc
    else:
        if result.rollout is None:
            return Delivered(record("ignored", f"{decision.image} is already running",
                                    provider_id=provider_id))
        delivery = record("applied", decision.reason, rollout_id=result.rollout.id,
                          provider_id=provider_id)
        event_repo.record(
            session, deployment.id, "WebhookDelivery",
            f"{told_as(hook)} (delivery #{delivery.id}"
            + (f", {provider_id}" if provider_id else "") + f"): {decision.reason}",
            rollout_id=result.rollout.id,
        )
        return Delivered(delivery)

    delivery = record("failed", error.detail, provider_id=provider_id)
    event_repo.record(session, deployment.id, "WebhookFailed",
                      f"{told_as(hook)} (delivery #{delivery.id}): {error.detail}",
                      warning=True)
    return Delivered(delivery, error)
