from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import BigInteger, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from app.db import Base, UTCDateTime, utcnow
from app.sealing import SealedText


class Webhook(Base):
    """A URL (``/v1/hooks/{id}``) a registry or CI posts to, to deploy a new image."""

    __tablename__ = "webhook"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    deployment_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("deployment.id", ondelete="CASCADE"), index=True
    )
    kind: Mapped[str] = mapped_column(String(16))
    tag_pattern: Mapped[str | None] = mapped_column(String(256))
    # The HMAC key, kept because every delivery is checked with it; shown only once.
    # None for dockerhub, which cannot sign: its unguessable id is the secret.
    secret: Mapped[str | None] = mapped_column(SealedText)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class WebhookDelivery(Base):
    """One request to a webhook, and what became of it. Never holds the secret."""

    __tablename__ = "webhook_delivery"
    # The first serves the list (by webhook) and the duplicate check (by provider delivery
    # id); the second, the rate limit (deliveries of the last minute).
    __table_args__ = (
        Index("ix_webhook_delivery_webhook_id_delivery_id", "webhook_id", "delivery_id"),
        Index("ix_webhook_delivery_webhook_id_received_at", "webhook_id", "received_at"),
    )

    id: Mapped[int] = mapped_column(
        BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True
    )
    webhook_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("webhook.id", ondelete="CASCADE"))
    received_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # The provider's id (X-GitHub-Delivery, X-Delivery-Id, or the registry event id).
    delivery_id: Mapped[str | None] = mapped_column(String(255))
    # SHA-256 of the raw body: a signed body seen before is a replay, whatever its headers.
    payload_sha256: Mapped[str | None] = mapped_column(String(64))
    outcome: Mapped[str] = mapped_column(String(16))  # applied | ignored | rejected | failed
    rollout_id: Mapped[uuid.UUID | None] = mapped_column()
    reason: Mapped[str] = mapped_column(Text, default="")
