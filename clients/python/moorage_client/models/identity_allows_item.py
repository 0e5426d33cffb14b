from enum import StrEnum


class IdentityAllowsItem(StrEnum):
    ADMIN = "admin"
    DEPLOY = "deploy"
    READ = "read"

    def __str__(self) -> str:
        return str(self.value)
