from enum import StrEnum


class TokenCreatedScopesItem(StrEnum):
    ADMIN = "admin"
    DEPLOY = "deploy"
    READ = "read"

    def __str__(self) -> str:
        return str(self.value)
