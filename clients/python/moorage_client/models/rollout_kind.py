from enum import StrEnum


class RolloutKind(StrEnum):
    CREATE = "create"
    DELETE = "delete"
    RESTART = "restart"
    ROLLBACK = "rollback"
    SCALE = "scale"
    UPDATE = "update"

    def __str__(self) -> str:
        return str(self.value)
