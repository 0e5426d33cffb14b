from enum import StrEnum


class ReplicaHealth(StrEnum):
    HEALTHY = "healthy"
    NONE = "none"
    STARTING = "starting"
    UNHEALTHY = "unhealthy"

    def __str__(self) -> str:
        return str(self.value)
