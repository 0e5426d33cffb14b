from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Response

from app.api import presenters
from app.api.deps import AUTH_ERRORS, Cursor, Limit, SessionDep, require
from app.api.responses import as_json
from app.image_refs import normalize_registry
from app.repositories import registries as registry_repo
from app.schemas.common import Page, Problem
from app.schemas.registries import REGISTRY, RegistryCredentialRead, RegistryCredentialWrite
from app.services import registries as registry_service

router = APIRouter(prefix="/v1/registries", tags=["registries"], responses=AUTH_ERRORS)
Registry = Annotated[str, Path(pattern=REGISTRY, max_length=255,
                               description="As in image references: ghcr.io, 10.0.0.5:5000, "
                                           "docker.io")]
P404 = {"model": Problem, "description": "No credentials for this registry"}
P422 = {"model": Problem, "description": "Invalid input; `errors` names each field"}


@router.get("", operation_id="list_registry_credentials", responses={422: P422},
            dependencies=[require("admin")])
def list_registry_credentials(
    session: SessionDep, limit: Limit = 50, cursor: Cursor = None
) -> Page[RegistryCredentialRead]:
    """Registries with global credentials, by name. Never the passwords."""
    rows, next_cursor = registry_repo.page(session, limit, cursor)
    return Page[RegistryCredentialRead](items=[presenters.registry(c) for c in rows],
                                        next_cursor=next_cursor)


@router.get("/{registry}", operation_id="get_registry_credential",
            responses={404: P404, 422: P422}, dependencies=[require("admin")])
def get_registry_credential(registry: Registry, session: SessionDep) -> RegistryCredentialRead:
    return presenters.registry(registry_repo.get(session, normalize_registry(registry)))


@router.put("/{registry}", operation_id="put_registry_credential",
            response_model=RegistryCredentialRead,
            responses={201: {"model": RegistryCredentialRead, "description": "Created"},
                       422: P422}, dependencies=[require("admin")])
def put_registry_credential(
    registry: Registry, body: RegistryCredentialWrite, session: SessionDep, response: Response
) -> Response:
    """Credentials every pull from this registry uses, unless a deployment brings its own
    (`spec.registry_auth`). A change applies from the next pull on."""
    credential, created = registry_service.put(session, registry, body)
    if created:
        response.status_code = 201
        response.headers["Location"] = f"/v1/registries/{credential.name}"
    return as_json(presenters.registry(credential), response)


@router.delete("/{registry}", status_code=204, operation_id="delete_registry_credential",
               responses={404: P404, 422: P422}, dependencies=[require("admin")])
def delete_registry_credential(registry: Registry, session: SessionDep) -> Response:
    registry_service.remove(session, registry)
    return Response(status_code=204)
