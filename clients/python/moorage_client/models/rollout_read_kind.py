from enum import StrEnum


class RolloutReadKind(StrEnum):
    CREATE = "create"
    DELETE = "delete"
    RESTART = "restart"
    ROLLBACK = "rollback"
    SCALE = "scale"
    UPDATE = "update"

    def __str__(self) -> str:
        return str(self.value)
