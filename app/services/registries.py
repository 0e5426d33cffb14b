"""Registry credentials: global ones per registry, a deployment's own, and which applies."""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy.orm import Session

from app.db import utcnow
from app.image_refs import normalize_registry, registry_of, server_address
from app.models import RegistryCredential
from app.repositories import registries as registry_repo
from app.schemas.registries import RegistryCredentialWrite


@dataclass(frozen=True)
class PullAuth:
    """The credentials a pull of one image uses. ``source`` says where they came from
    (for events); the password is kept out of repr, so it cannot reach a log by accident."""

    registry: str
    username: str
    password: str = field(repr=False)
    source: str  # "deployment" or "global"

    def auth_config(self) -> dict[str, str]:
        return {"username": self.username, "password": self.password,
                "serveraddress": server_address(self.registry)}


def put(session: Session, registry: str, body: RegistryCredentialWrite) -> tuple[RegistryCredential, bool]:
    """Set the credentials for ``registry``; True when they are new."""
    registry = normalize_registry(registry)
    now = utcnow()
    credential = registry_repo.find(session, registry)
    if credential is None:
        credential = registry_repo.add(session, RegistryCredential(
            name=registry, username=body.username, password=body.password,
            created_at=now, updated_at=now))
        return credential, True
    credential.username, credential.password, credential.updated_at = (
        body.username, body.password, now)
    return credential, False


def remove(session: Session, registry: str) -> None:
    registry_repo.delete(session, registry_repo.get(session, normalize_registry(registry)))


def credentials_for(
    session: Session, image: str, username: str | None, registry_password: str | None
) -> PullAuth | None:
    """What a pull of a revision's image presents: the deployment's own credentials
    (the username from its template, the password kept apart), else the global ones for
    its registry, else none (an anonymous pull)."""
    registry = registry_of(image)
    if username and registry_password:
        auth = PullAuth(registry, username, registry_password, "deployment")
    elif (credential := registry_repo.find(session, registry)) is not None:
        auth = PullAuth(registry, credential.username, credential.password, "global")
    else:
        return None
    return auth
