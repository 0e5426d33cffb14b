from enum import StrEnum


class UpstreamReadState(StrEnum):
    DRAINING = "draining"
    SERVING = "serving"

    def __str__(self) -> str:
        return str(self.value)
