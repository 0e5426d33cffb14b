from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Response, status

from app.api import presenters
from app.api.deps import AUTH_ERRORS, Cursor, IfMatch, Limit, SessionDep, require
from app.api.idempotency import IdempotencyDep
from app.api.responses import as_json
from app.repositories import hosts as host_repo
from app.schemas.common import DNS_LABEL, Page, Problem
from app.schemas.hosts import HostCreate, HostRead, HostUpdate
from app.services import hosts as host_service

router = APIRouter(prefix="/v1/hosts", tags=["hosts"], responses=AUTH_ERRORS)
HostName = Annotated[str, Path(pattern=DNS_LABEL, max_length=63)]
ERRORS = {
    404: {"model": Problem, "description": "No such host"},
    412: {"model": Problem, "description": "If-Match does not match"},
    422: {"model": Problem, "description": "Invalid input"},
}


@router.post("", status_code=201, operation_id="register_host", response_model=HostRead,
             responses={409: {"model": Problem, "description": "Name taken"}, 422: ERRORS[422]},
             dependencies=[require("admin")])
def register_host(
    body: HostCreate, session: SessionDep, response: Response, idem: IdempotencyDep
) -> Response:
    """Register a Docker engine (admin only). The engine must answer; its version and size
    are recorded. `allowed_bind_prefixes` lists host paths deployments may bind there."""
    if (replay := idem.replay()) is not None:
        return replay
    host = host_service.register(session, body)
    response.headers["ETag"] = presenters.etag(host.resource_version)
    response.headers["Location"] = f"/v1/hosts/{host.name}"
    return as_json(idem.save(response, presenters.host(host)), response, 201)


@router.get("", operation_id="list_hosts", dependencies=[require("read")])
def list_hosts(session: SessionDep, limit: Limit = 50, cursor: Cursor = None) -> Page[HostRead]:
    rows, next_cursor = host_repo.list_page(session, limit, cursor)
    return Page[HostRead](items=[presenters.host(h) for h in rows], next_cursor=next_cursor)


@router.get("/{name}", operation_id="get_host", responses={404: ERRORS[404]},
            dependencies=[require("read")])
def get_host(name: HostName, session: SessionDep, response: Response) -> HostRead:
    host = host_repo.get_by_name(session, name)
    response.headers["ETag"] = presenters.etag(host.resource_version)
    return presenters.host(host)


@router.patch("/{name}", operation_id="update_host", response_model=HostRead, responses=ERRORS,
              dependencies=[require("admin")])
def update_host(
    name: HostName, body: HostUpdate, session: SessionDep, response: Response,
    if_match: IfMatch = None,
) -> Response:
    """Change labels, set `schedulable: false` to drain the host, or replace the host
    paths deployments may bind here (`allowed_bind_prefixes`). Admin only, like every
    change to a host: host access is the admin's."""
    host = host_service.update(session, name, body, if_match)
    response.headers["ETag"] = presenters.etag(host.resource_version)
    return as_json(presenters.host(host), response)


@router.delete("/{name}", status_code=status.HTTP_204_NO_CONTENT, operation_id="delete_host",
               responses={**ERRORS, 409: {"model": Problem, "description": "Host runs replicas"}},
               dependencies=[require("admin")])
def delete_host(name: HostName, session: SessionDep, if_match: IfMatch = None) -> Response:
    host_service.remove(session, name, if_match)
    return Response(status_code=204)
