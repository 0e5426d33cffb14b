from __future__ import annotations

from datetime import datetime
from typing import Annotated

from pydantic import BaseModel, Field

from app.schemas.common import Strict

# A registry as it appears in an image reference: host[:port] (Docker Hub is docker.io).
REGISTRY = (
    r"^(?:[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?(?:\.[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?)*"
    r"|\[[0-9a-fA-F:]+\])(?::[0-9]{1,5})?$"
)
Username = Annotated[str, Field(min_length=1, max_length=255, pattern=r"^[^\x00-\x1f\x7f]+$")]
Password = Annotated[str, Field(min_length=1, max_length=8192, pattern=r"^[^\x00]+$",
                                description="Write-only: never returned")]


class RegistryCredentialWrite(Strict):
    username: Username
    password: Password


class RegistryCredentialRead(BaseModel):
    registry: str = Field(examples=["ghcr.io"])
    username: str
    created_at: datetime
    updated_at: datetime
