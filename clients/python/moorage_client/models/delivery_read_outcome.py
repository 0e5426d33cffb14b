from enum import StrEnum


class DeliveryReadOutcome(StrEnum):
    APPLIED = "applied"
    FAILED = "failed"
    IGNORED = "ignored"
    REJECTED = "rejected"

    def __str__(self) -> str:
        return str(self.value)
