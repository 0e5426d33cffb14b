from enum import StrEnum


class RolloutState(StrEnum):
    FAILED = "failed"
    IN_PROGRESS = "in_progress"
    PENDING = "pending"
    ROLLED_BACK = "rolled_back"
    SUCCEEDED = "succeeded"
    SUPERSEDED = "superseded"

    def __str__(self) -> str:
        return str(self.value)
