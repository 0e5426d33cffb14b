from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any, Generic, Literal, TypeVar

from pydantic import BaseModel, ConfigDict, Field

T = TypeVar("T")

DNS_LABEL = r"^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$"
LABEL_KEY = r"^[A-Za-z0-9]([A-Za-z0-9._/-]{0,126}[A-Za-z0-9])?$"


class Strict(BaseModel):
    """Unknown fields are an error: a typo must not silently mean 'default'."""

    model_config = ConfigDict(extra="forbid")


class Page(BaseModel, Generic[T]):
    items: list[T]
    next_cursor: str | None = Field(None, description="Pass as ?cursor= for the next page")


class Problem(BaseModel):
    """RFC 9457 problem details."""

    type: str = "about:blank"
    title: str
    status: int
    detail: str = ""
    errors: list[dict[str, Any]] | None = None


class Health(BaseModel):
    status: Literal["ok"] = Field(examples=["ok"])


class DependencyCheck(BaseModel):
    ok: bool
    detail: str = Field("", description="What went wrong, when not ok",
                        examples=["ConnectionError"])
    seconds: float = Field(description="How long the check took", examples=[0.002])


class Readiness(BaseModel):
    status: Literal["ready"] = Field(examples=["ready"])
    checks: dict[str, DependencyCheck] = Field(
        description="The API's own dependencies: `database` and `broker`")


class ReadinessProblem(Problem):
    checks: dict[str, DependencyCheck]


class ProcessStatus(BaseModel):
    """A worker or beat process, as it last said it lives."""

    id: uuid.UUID
    kind: Literal["worker", "beat"]
    hostname: str
    pid: int
    started_at: datetime
    last_seen_at: datetime = Field(description="Its last heartbeat")
    broker_seen_at: datetime | None = Field(description=(
        "The last time it was seen working with the broker: a worker's consumer ran "
        "connected to it; beat sent a job"))
    alive: bool = Field(description="Heard from within MOORAGE_PROCESS_STALE_AFTER_S")
    consuming: bool | None = Field(description=(
        "Workers: alive, and its consumer ran connected to the broker within "
        "MOORAGE_PROCESS_STALE_AFTER_S. Null for beat"))


class WorkersHealth(BaseModel):
    status: Literal["ok"] = Field(examples=["ok"])
    workers_alive: int
    workers_consuming: int
    beats_alive: int
    processes: list[ProcessStatus] = Field(
        description="Every process heard from in the last hour, alive or not")


class WorkersProblem(Problem):
    workers_alive: int
    workers_consuming: int
    beats_alive: int
    processes: list[ProcessStatus]
