from enum import StrEnum


class WebhookCreatedKind(StrEnum):
    DOCKERHUB = "dockerhub"
    GENERIC = "generic"
    GITHUB = "github"
    REGISTRY = "registry"

    def __str__(self) -> str:
        return str(self.value)
