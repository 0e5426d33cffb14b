"""The stacks API: a Compose file in, a stack of deployments out."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Literal

from pydantic import BaseModel, Field

from app.reconcile.vocabulary import Phase, RolloutState
from app.schemas.common import Strict
from app.schemas.deployments import DryRunResult, EnvValue

COMPOSE_MAX = 512 * 1024
SecretName = Annotated[str, Field(min_length=1, max_length=255, pattern=r"^[A-Za-z0-9._-]+$")]

StackRolloutKind = Literal["create", "update", "rollback", "delete"]


class StackApply(Strict):
    """A Compose file as JSON, with the values of its top-level `secrets`."""

    compose: Annotated[str, Field(min_length=1, max_length=COMPOSE_MAX,
                                  description="The Compose file's text (YAML or JSON)")]
    secrets: Annotated[dict[SecretName, EnvValue], Field(
        max_length=512, description="Write-only: a value for each of the file's top-level "
                                    "`secrets`, passed to the services that list it as an "
                                    "environment variable (its `target`, else its name)")] = {}


class StackServiceRead(BaseModel):
    name: str
    deployment: str = Field(description="The deployment that runs it: `<stack>-<service>`")
    depends_on: dict[str, str] = Field(description="dependency -> condition")
    failure_action: Literal["rollback", "pause"]
    phase: Phase | None = Field(description="Its deployment's phase (null: not yet made)")
    replicas: int
    ready_replicas: int
    revision: int | None = Field(description="Its deployment's current revision")
    message: str


class StackStatus(BaseModel):
    phase: Phase
    message: str = Field(description="What holds the stack up, or the failing service's message")


class StackRolloutRead(BaseModel):
    """A stack's release of one revision. Its id also answers `GET /v1/rollouts/{id}`."""

    id: uuid.UUID
    stack: str
    kind: StackRolloutKind
    from_revision: int | None
    to_revision: int
    state: RolloutState
    message: str
    services: dict[str, uuid.UUID | None] = Field(
        description="Each service applied so far -> the deployment rollout that started "
                    "(null: the service needed no change)")
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None


class StackRead(BaseModel):
    name: str
    revision: int
    resource_version: int
    status: StackStatus
    services: list[StackServiceRead]
    volumes: list[str] = Field(description="The stack's named volumes (engine names)")
    networks: list[str] = Field(description="The stack's networks (engine names)")
    current_rollout: StackRolloutRead | None
    created_at: datetime
    updated_at: datetime


class StackRevisionRead(BaseModel):
    number: int
    compose: str = Field(description="The file as it was sent")
    services: list[str]
    secret_keys: list[str] = Field(description="Names of the secrets given; values are write-only")
    created_at: datetime


class StackServicePlan(BaseModel):
    service: str
    deployment: str
    change: Literal["create", "update", "unchanged", "remove"]
    plan: DryRunResult | None = Field(
        None, description="The deployment's own dry run (null for a removal)")


class StackDryRun(BaseModel):
    dry_run: Literal[True] = True
    new_revision: bool
    revision: int
    services: list[StackServicePlan]


class StackRollbackRequest(Strict):
    revision: Annotated[int, Field(ge=1, le=2**31 - 1, strict=True)] | None = None
