from enum import StrEnum


class HostReadState(StrEnum):
    DRAINING = "draining"
    PENDING = "pending"
    READY = "ready"
    UNREACHABLE = "unreachable"

    def __str__(self) -> str:
        return str(self.value)
