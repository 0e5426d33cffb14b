from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Literal

from pydantic import BaseModel, Field, field_validator

from app import tag_patterns
from app.schemas.common import Strict

WebhookKind = Literal["generic", "github", "dockerhub", "registry"]


class WebhookCreate(Strict):
    kind: Annotated[WebhookKind, Field(description=(
        "What posts to it. `generic`, `github` and `registry` deliveries must be signed "
        "(`X-Hub-Signature-256`), or for `registry`, carry `Authorization: Bearer <secret>` "
        "(a registry's notifications cannot sign); `dockerhub` cannot sign either, so its "
        "URL is its secret."))]
    tag_pattern: Annotated[str | None, Field(
        min_length=1, max_length=256, pattern=r"^[^\x00-\x1f\x7f]+$", examples=[r"v\d+\.\d+\.\d+"],
        description="A regular expression (RE2 syntax: no backreferences or lookaround) the "
                    "whole pushed tag must match; None: any tag")] = None

    @field_validator("tag_pattern")
    @classmethod
    def _compiles(cls, v: str | None) -> str | None:
        if v is None:
            return v
        tag_patterns.check(v)  # a PatternError is a ValueError: the field's 422
        return v


class WebhookRead(BaseModel):
    id: uuid.UUID
    deployment: str
    kind: WebhookKind
    tag_pattern: str | None
    url: str = Field(description="Where the provider posts: /v1/hooks/{id}")
    created_at: datetime


class WebhookCreated(WebhookRead):
    secret: str | None = Field(description=(
        "The HMAC-SHA256 key for X-Hub-Signature-256. Shown only in this answer. "
        "null for dockerhub, whose URL is the secret."))


class DeliveryRead(BaseModel):
    id: int
    received_at: datetime
    delivery_id: str | None = Field(description="The provider's id, when it sent one")
    outcome: Literal["applied", "ignored", "rejected", "failed"]
    rollout_id: uuid.UUID | None
    reason: str


class HookAccepted(BaseModel):
    rollout_id: uuid.UUID


class HookIgnored(BaseModel):
    ignored: str = Field(description="Why nothing was deployed", examples=["tag 'dev' does not match"])
