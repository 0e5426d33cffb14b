from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import BaseModel, Field, field_validator

from app.schemas.common import DNS_LABEL, LABEL_KEY, Strict

HostLabels = Annotated[
    dict[Annotated[str, Field(pattern=LABEL_KEY)], Annotated[str, Field(max_length=256)]],
    Field(max_length=64),
]


class HostCreate(Strict):
    name: Annotated[str, Field(pattern=DNS_LABEL, examples=["edge-1"])]
    url: Annotated[str, Field(max_length=1024, examples=["unix:///var/run/docker.sock"])]
    labels: HostLabels = {}

    @field_validator("url")
    @classmethod
    def _scheme(cls, v: str) -> str:
        if not v.startswith(("unix:///", "tcp://", "ssh://")):
            raise ValueError("url must start with unix:///, tcp:// or ssh://")
        return v


class HostUpdate(Strict):
    labels: HostLabels | None = None
    schedulable: bool | None = None


class HostRead(BaseModel):
    name: str
    url: str
    labels: dict[str, str]
    state: Literal["pending", "ready", "unreachable", "draining"]
    schedulable: bool
    engine_version: str | None
    cpus: float | None
    memory_bytes: int | None
    containers: int
    last_heartbeat_at: datetime | None
    last_error: str | None
    resource_version: int
    created_at: datetime
