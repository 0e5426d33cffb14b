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


class ImageMissing(EngineError):
    """The host lacks the image a container needs: pull it, then try again."""

    temporary = False
