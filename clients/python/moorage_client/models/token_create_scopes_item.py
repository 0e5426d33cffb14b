from enum import StrEnum


class TokenCreateScopesItem(StrEnum):
    ADMIN = "admin"
    DEPLOY = "deploy"
    READ = "read"

    def __str__(self) -> str:
        return str(self.value)
