from enum import StrEnum


class WebhookReadKind(StrEnum):
    DOCKERHUB = "dockerhub"
    GENERIC = "generic"
    GITHUB = "github"
    REGISTRY = "registry"

    def __str__(self) -> str:
        return str(self.value)
