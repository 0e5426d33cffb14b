from enum import StrEnum


class ReplicaReadState(StrEnum):
    CREATING = "creating"
    EXITED = "exited"
    REMOVING = "removing"
    RUNNING = "running"
    STARTING = "starting"

    def __str__(self) -> str:
        return str(self.value)
