from enum import StrEnum


class EventReadType(StrEnum):
    NORMAL = "normal"
    WARNING = "warning"

    def __str__(self) -> str:
        return str(self.value)
