"""The only package that imports ``docker``: engine clients, mapping and errors."""

from app.dockerhost.engine import (
    FOLLOW_TIMEOUT_S,
    ContainerRequest,
    EngineAddress,
    EngineClient,
    EngineInfo,
    ImageInfo,
    LogStream,
    client_for,
)
from app.dockerhost.errors import (
    ContainerGone,
    EngineError,
    EngineUnreachable,
    ImageMissing,
    NetworkMissing,
    PermanentEngineError,
    TemporaryEngineError,
)

__all__ = [
    "FOLLOW_TIMEOUT_S",
    "LogStream",
    "ContainerRequest",
    "EngineAddress",
    "EngineClient",
    "EngineError",
    "EngineUnreachable",
    "EngineInfo",
    "ImageInfo",
    "ContainerGone",
    "ImageMissing",
    "NetworkMissing",
    "PermanentEngineError",
    "TemporaryEngineError",
    "client_for",
]
