from enum import StrEnum


class ReplicaState(StrEnum):
    CREATING = "creating"
    EXITED = "exited"
    REMOVING = "removing"
    RUNNING = "running"
    STARTING = "starting"

    def __str__(self) -> str:
        return str(self.value)
