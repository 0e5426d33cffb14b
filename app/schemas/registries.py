from __future__ import annotations

from datetime import datetime
from typing import Annotated

from pydantic import BaseModel, Field

from app.schemas.common import Strict

# A TCP port, 1-65535 (leading zeros allowed, as the reference grammar's digits are).
PORT_NUMBER = (r"0*(?:6553[0-5]|655[0-2][0-9]|65[0-4][0-9]{2}|6[0-4][0-9]{3}|[1-5][0-9]{4}"
               r"|[1-9][0-9]{0,3})")
# A registry as it appears in an image reference: host[:port] (Docker Hub is docker.io).
REGISTRY = (
    r"^(?:[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?(?:\.[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?)*"
    rf"|\[[0-9a-fA-F:]+\])(?::{PORT_NUMBER})?$"
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
