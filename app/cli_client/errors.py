"""How the client commands end: their exit codes, and the error that carries one."""

from __future__ import annotations

from enum import IntEnum


class Exit(IntEnum):
    SUCCEEDED = 0
    FAILED = 1  # the rollout failed or was rolled back (its message is printed)
    TIMED_OUT = 2  # --timeout passed before the rollout ended
    USAGE = 3  # bad usage, a request the API refused (the problem is printed), or no connection


EXIT_CODES_HELP = (
    "Exit codes: 0 succeeded; 1 the rollout failed or was rolled back (its message is "
    "printed); 2 timed out; 3 usage or connection error, or the API refused the request."
)


class CliError(Exception):
    """Ends a command with ``message`` on stderr and ``code``."""

    def __init__(self, message: str, code: Exit = Exit.USAGE) -> None:
        super().__init__(message)
        self.message = message
        self.code = code
