from enum import StrEnum


class ProcessStatusKind(StrEnum):
    BEAT = "beat"
    WORKER = "worker"

    def __str__(self) -> str:
        return str(self.value)
