from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Body, Depends, Path, Query, Request, Response
from fastapi.exceptions import RequestValidationError
from pydantic import ValidationError

from app.api import presenters
from app.api.deps import AUTH_ERRORS, Cursor, IfMatch, Limit, SessionDep, require
from app.api.idempotency import IdempotencyDep
from app.api.responses import as_json
from app.errors import Invalid
from app.repositories import stacks as stack_repo
from app.schemas.common import DNS_LABEL, Page, Problem
from app.schemas.stacks import (
    COMPOSE_MAX,
    StackApply,
    StackDryRun,
    StackRead,
    StackRevisionRead,
    StackRollbackRequest,
    StackRolloutRead,
)
from app.services import stacks as service

router = APIRouter(prefix="/v1/stacks", tags=["stacks"], responses=AUTH_ERRORS)
Name = Annotated[str, Path(pattern=DNS_LABEL, max_length=40,
                           description="A DNS label (its services are `<stack>-<service>`)")]
DryRun = Annotated[bool, Query(description="Validate and show what would happen, per service; "
                                           "change nothing")]
P404 = {"model": Problem, "description": "No such stack"}
P409 = {"model": Problem, "description": "Conflict with the current state (e.g. a service's "
                                          "deployment name is taken)"}
P412 = {"model": Problem, "description": "If-Match does not match resource_version"}
P422 = {"model": Problem, "description": "Invalid file; `errors` names each service and field"}
YAML_TYPES = ("application/yaml", "application/x-yaml", "text/yaml", "text/x-yaml")

_APPLY_BODY = {
    "requestBody": {
        "required": True,
        "content": {
            "application/yaml": {"schema": {"type": "string", "maxLength": COMPOSE_MAX,
                                            "description": "The Compose file itself"}},
            "application/json": {"schema": StackApply.model_json_schema(
                ref_template="#/components/schemas/{model}")},
        },
    }
}


async def _raw_body(request: Request) -> bytes:
    return await request.body()


RawBody = Annotated[bytes, Depends(_raw_body)]


def _content(request: Request, raw: bytes, name: str) -> service.Content:
    """The request's file (YAML body, or JSON ``{compose, secrets}``) as a revision's content."""
    kind = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if kind in YAML_TYPES:
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise Invalid("the file is not UTF-8", loc=["body"]) from exc
        if len(text) > COMPOSE_MAX:
            raise Invalid(f"the file is over {COMPOSE_MAX} characters", loc=["body"])
        return service.read(name, text, {}, ["body"])
    if kind != "application/json":
        raise Invalid("send the Compose file as application/yaml, or application/json "
                      "{compose, secrets}", loc=["header", "Content-Type"])
    try:
        body = StackApply.model_validate_json(raw)
    except ValidationError as exc:
        raise RequestValidationError([
            {**e, "loc": ("body", *e["loc"])}
            for e in exc.errors(include_url=False, include_input=False)]) from exc
    return service.read(name, body.compose, dict(body.secrets), ["body", "compose"])


@router.put(
    "/{name}", operation_id="apply_stack", openapi_extra=_APPLY_BODY,
    response_model=StackRead | StackDryRun,
    responses={201: {"model": StackRead, "description": "Created"},
               200: {"model": StackRead | StackDryRun,
                     "description": "Updated, unchanged or dry run"},
               409: P409, 412: P412, 422: P422,
               413: {"model": Problem,
                     "description": "A Compose file over the body limit (MOORAGE_MAX_BODY_BYTES)"}},
    dependencies=[require("deploy")],
)
def apply_stack(
    name: Name, request: Request, raw: RawBody, session: SessionDep, response: Response,
    if_match: IfMatch = None, dry_run: DryRun = False,
) -> Response:
    """Apply a Compose file: `application/yaml` (the file) or `application/json`
    `{"compose": "<the file>", "secrets": {"<name>": "<value>"}}` (write-only values of
    the file's top-level `secrets`). A changed file is a new stack revision and one
    release: the services (deployments `<stack>-<service>`) roll out in `depends_on`
    order, and a failed one rolls the whole stack back (`failure_action: rollback`, the
    default). The same file again changes nothing. See docs/API.md for the Compose fields
    Moorage takes; any other is a 422 naming it and why."""
    content = _content(request, raw, name)
    if dry_run:
        return as_json(service.dry_run(session, name, content))
    result = service.apply(session, name, content, if_match=if_match)
    response.status_code = 201 if result.created else 200
    response.headers["ETag"] = presenters.etag(result.stack.resource_version)
    response.headers["Location"] = f"/v1/stacks/{name}"
    return as_json(presenters.stack(session, result.stack), response)


@router.get("", operation_id="list_stacks", dependencies=[require("read")], responses={422: P422})
def list_stacks(session: SessionDep, limit: Limit = 50, cursor: Cursor = None) -> Page[StackRead]:
    rows, next_cursor = stack_repo.page(session, limit, cursor)
    return Page[StackRead](items=presenters.stacks(session, rows), next_cursor=next_cursor)


@router.get("/{name}", operation_id="get_stack", responses={404: P404},
            dependencies=[require("read")])
def get_stack(name: Name, session: SessionDep, response: Response) -> StackRead:
    """The stack, its services (each its deployment's phase and ready count) and its
    current release."""
    stack = stack_repo.get_by_name(session, name)
    response.headers["ETag"] = presenters.etag(stack.resource_version)
    return presenters.stack(session, stack)


@router.get("/{name}/revisions", operation_id="list_stack_revisions", responses={404: P404},
            dependencies=[require("read")])
def list_stack_revisions(name: Name, session: SessionDep, limit: Limit = 50,
                         cursor: Cursor = None) -> Page[StackRevisionRead]:
    stack = stack_repo.get_by_name(session, name)
    rows, next_cursor = stack_repo.revisions_page(session, stack.id, limit, cursor)
    return Page[StackRevisionRead](items=[presenters.stack_revision(r) for r in rows],
                                   next_cursor=next_cursor)


@router.post("/{name}/rollback", status_code=202, operation_id="rollback_stack",
             response_model=StackRolloutRead,
             responses={404: P404, 409: P409, 412: P412, 422: P422},
             dependencies=[require("deploy")])
def rollback_stack(
    name: Name, session: SessionDep, response: Response, idem: IdempotencyDep,
    body: Annotated[StackRollbackRequest | None, Body()] = None, if_match: IfMatch = None,
) -> Response:
    """Roll the whole stack back to revision `n` (default: the previous one), as a new
    revision and one release, in `depends_on` order."""
    if (replay := idem.replay()) is not None:
        return replay
    rollout = service.rollback(session, name, body.revision if body else None, if_match)
    return as_json(idem.save(response, presenters.stack_rollout(rollout)), response, 202)


@router.delete("/{name}", status_code=202, operation_id="delete_stack",
               response_model=StackRolloutRead, responses={404: P404, 412: P412},
               dependencies=[require("deploy")])
def delete_stack(
    name: Name, session: SessionDep, if_match: IfMatch = None,
    volumes: Annotated[bool, Query(description="Remove the stack's named volumes too "
                                               "(their data is lost)")] = False,
) -> Response:
    """Remove every service's containers (and their networks), then the stack; its
    named volumes only with `?volumes=true`."""
    return as_json(presenters.stack_rollout(service.delete(session, name, volumes=volumes,
                                                           if_match=if_match)), status_code=202)
