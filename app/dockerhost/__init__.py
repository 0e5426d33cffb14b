"""The only package that imports ``docker``: engine clients, mapping and errors."""

from app.dockerhost.engine import (
    ContainerRequest,
    EngineAddress,
    EngineClient,
    EngineInfo,
    client_for,
)
from app.dockerhost.errors import EngineError, PermanentEngineError, TemporaryEngineError

__all__ = [
    "ContainerRequest",
    "EngineAddress",
    "EngineClient",
    "EngineError",
    "EngineInfo",
    "PermanentEngineError",
    "TemporaryEngineError",
    "client_for",
]
