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
    ImageMissing,
    NetworkMissing,
    PermanentEngineError,
    TemporaryEngineError,
)

__all__ = [
    "ContainerRequest",
    "EngineAddress",
    "EngineClient",
    "EngineError",
    "EngineInfo",
    "ImageInfo",
    "ContainerGone",
    "ImageMissing",
    "NetworkMissing",
    "PermanentEngineError",
    "TemporaryEngineError",
    "client_for",
]
