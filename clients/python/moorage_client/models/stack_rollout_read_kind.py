from enum import StrEnum


class StackRolloutReadKind(StrEnum):
    CREATE = "create"
    DELETE = "delete"
    ROLLBACK = "rollback"
    UPDATE = "update"

    def __str__(self) -> str:
        return str(self.value)
