"""The only package that imports ``docker``: engine clients, mapping and errors."""

from app.dockerhost.engine import (
    ContainerRequest,
    EngineAddress,
    EngineClient,
    EngineInfo,
    ImageInfo,
    client_for,
)
from app.dockerhost.errors import (
    ContainerGone,
    EngineError,
    EngineUnreachable,
    ImageMissing,
    PermanentEngineError,
    TemporaryEngineError,
)

__all__ = [
    "ContainerRequest",
    "EngineAddress",
    "EngineClient",
    "EngineError",
    "EngineUnreachable",
    "EngineInfo",
    "ImageInfo",
    "ContainerGone",
    "ImageMissing",
    "PermanentEngineError",
    "TemporaryEngineError",
    "client_for",
]
