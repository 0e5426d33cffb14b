"""The only package that imports ``docker``: engine clients, mapping and errors."""

from app.dockerhost.engine import (
    ContainerRequest,
    EngineClient,
    EngineInfo,
    client_for,
)
from app.dockerhost.errors import EngineError, PermanentEngineError, TemporaryEngineError

__all__ = [
    "ContainerRequest",
    "EngineClient",
    "EngineError",
    "EngineInfo",
    "PermanentEngineError",
    "TemporaryEngineError",
    "client_for",
]
