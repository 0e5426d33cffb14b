from enum import StrEnum


class StackServicePlanChange(StrEnum):
    CREATE = "create"
    REMOVE = "remove"
    UNCHANGED = "unchanged"
    UPDATE = "update"

    def __str__(self) -> str:
        return str(self.value)
