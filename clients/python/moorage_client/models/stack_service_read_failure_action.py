from enum import StrEnum


class StackServiceReadFailureAction(StrEnum):
    PAUSE = "pause"
    ROLLBACK = "rollback"

    def __str__(self) -> str:
        return str(self.value)
