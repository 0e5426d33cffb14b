from enum import StrEnum


class Phase(StrEnum):
    AVAILABLE = "available"
    DEGRADED = "degraded"
    DELETING = "deleting"
    FAILED = "failed"
    PENDING = "pending"
    PROGRESSING = "progressing"

    def __str__(self) -> str:
        return str(self.value)
