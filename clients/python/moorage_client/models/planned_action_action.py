from enum import StrEnum


class PlannedActionAction(StrEnum):
    CREATE = "create"
    REMOVE = "remove"
    START = "start"

    def __str__(self) -> str:
        return str(self.value)
