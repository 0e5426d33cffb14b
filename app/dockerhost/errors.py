"""Engine errors, classified so callers know whether trying again can help."""

from __future__ import annotations


class EngineError(Exception):
    temporary = True


class TemporaryEngineError(EngineError):
    """The engine is unreachable, busy or in conflict: retry later with back-off."""

    temporary = True


class PermanentEngineError(EngineError):
    """The request itself is wrong (image missing, invalid config): retrying won't help."""

    temporary = False


class ContainerGone(TemporaryEngineError):
    """The container is no longer there (removed between observe and act): nothing failed,
    the world moved; observe it again."""


class NetworkMissing(TemporaryEngineError):
    """A network a container joins is not there (removed as unused between ensuring it
    and creating or starting the container): ensure it again, then try again."""


class ImageMissing(EngineError):
    """The host lacks the image a container needs: pull it, then try again."""

    temporary = False


# Failures a 5xx reports that are the container's own (its config against this host), not
# the engine's health: trying the same thing again will fail the same way.
_PERMANENT_5XX = (
    "port is already allocated",
    "address already in use",
    "oci runtime create failed",
    "executable file not found",
)


def classify_api_error(status: int | None, message: str, *, container_op: bool) -> type[EngineError]:
    """What an Engine API error means, from its HTTP status (moby maps its error types
    onto them: 400 invalid parameter, 404 not found, 409 conflict, 5xx system/unavailable).

    ``container_op``: the request named an existing container (start, stop, remove,
    inspect), so a 404 means it vanished."""
    status = status or 0
    if status == 404:
        return ContainerGone if container_op else PermanentEngineError
    if status == 409 or status == 429:
        return TemporaryEngineError  # in use, being removed, busy: the next pass will see
    if 400 <= status < 500:
        return PermanentEngineError  # the request itself is wrong for this engine
    if any(marker in message.lower() for marker in _PERMANENT_5XX):
        return PermanentEngineError
    return TemporaryEngineError  # 5xx or no status: the engine is unwell or unreachable
