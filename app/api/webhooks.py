from __future__ import annotations

import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Header, Path, Request, Response
from fastapi.responses import JSONResponse

from app.api import presenters
from app.api.deps import AUTH_ERRORS, Cursor, Limit, SessionDep, require
from app.api.idempotency import IdempotencyDep
from app.api.problems import from_error
from app.api.responses import as_json
from app.repositories import deployments as deployment_repo
from app.repositories import webhooks as webhook_repo
from app.schemas.common import DNS_LABEL, Page, Problem
from app.schemas.webhooks import (
    DeliveryRead,
    HookAccepted,
    HookIgnored,
    WebhookCreate,
    WebhookCreated,
    WebhookRead,
)
from app.services import webhooks as webhook_service

router = APIRouter(prefix="/v1/deployments/{name}/webhooks", tags=["webhooks"],
                   responses=AUTH_ERRORS)
hooks_router = APIRouter(prefix="/v1/hooks", tags=["webhooks"])

Name = Annotated[str, Path(pattern=DNS_LABEL, max_length=63, description="A DNS label")]
P404 = {"model": Problem, "description": "No such deployment or webhook"}
P409 = {"model": Problem, "description": "Conflict with the current state"}
P422 = {"model": Problem, "description": "Invalid input; `errors` names each field"}


# Listing needs `deploy`, not `read`: a dockerhub webhook's id is its only secret.
@router.post("", status_code=201, operation_id="create_webhook", response_model=WebhookCreated,
             responses={404: P404, 409: P409, 422: P422}, dependencies=[require("deploy")])
def create_webhook(
    name: Name, body: WebhookCreate, session: SessionDep, response: Response,
    idem: IdempotencyDep,
) -> Response:
    """Make a webhook for a deployment. The answer carries its `url` and, once only, the
    `secret` that signs deliveries (a replay of the same `Idempotency-Key` answers it as
    null: it is never stored in the clear)."""
    if (replay := idem.replay()) is not None:
        return replay
    hook = webhook_service.create(session, name, body)
    response.headers["Location"] = f"/v1/deployments/{name}/webhooks/{hook.id}"
    created = WebhookCreated(**presenters.webhook(hook, name).model_dump(), secret=hook.secret)
    # The secret is shown once: a replay answers null rather than keep it in plain text.
    return as_json(idem.save(response, created, redact=["secret"]), response, 201)


@router.get("", operation_id="list_webhooks", responses={404: P404, 422: P422},
            dependencies=[require("deploy")])
def list_webhooks(
    name: Name, session: SessionDep, limit: Limit = 50, cursor: Cursor = None
) -> Page[WebhookRead]:
    """A deployment's webhooks (never their secrets). Needs `deploy`: the URL of a
    `dockerhub` webhook is all it takes to trigger it."""
    d = deployment_repo.get_by_name(session, name)
    rows, next_cursor = webhook_repo.page(session, d.id, limit, cursor)
    return Page[WebhookRead](items=[presenters.webhook(h, name) for h in rows],
                             next_cursor=next_cursor)


@router.delete("/{webhook_id}", status_code=204, operation_id="delete_webhook",
               responses={404: P404, 422: P422}, dependencies=[require("deploy")])
def delete_webhook(name: Name, webhook_id: uuid.UUID, session: SessionDep) -> Response:
    webhook_service.remove(session, name, webhook_id)
    return Response(status_code=204)


@router.get("/{webhook_id}/deliveries", operation_id="list_webhook_deliveries",
            responses={404: P404, 422: P422}, dependencies=[require("deploy")])
def list_webhook_deliveries(
    name: Name, webhook_id: uuid.UUID, session: SessionDep, limit: Limit = 50,
    cursor: Cursor = None,
) -> Page[DeliveryRead]:
    """Every delivery, newest first: when, the provider's delivery id, what came of it."""
    d = deployment_repo.get_by_name(session, name)
    hook = webhook_repo.get_for_deployment(session, d.id, webhook_id)
    rows, next_cursor = webhook_repo.deliveries_page(session, hook.id, limit, cursor)
    return Page[DeliveryRead](items=[presenters.delivery(x) for x in rows],
                              next_cursor=next_cursor)


async def _raw_body(request: Request) -> bytes:
    return await request.body()  # the signature is over the exact bytes


HOOK_BODY: dict[str, Any] = {
    "requestBody": {
        "required": True,
        "description": (
            "The provider's payload, as it sends it: generic `{\"image\"}` or `{\"tag\"}`; "
            "a GitHub `package`/`registry_package` event; a Docker Hub push; a Docker "
            "Registry v2 notification envelope. Limited to 256 KiB."
        ),
        "content": {"application/json": {
            "schema": {"type": "object", "additionalProperties": True},
            "examples": {
                "generic-tag": {"value": {"tag": "1.28"}},
                "generic-image": {"value": {"image": "ghcr.io/acme/web:1.28"}},
                "dockerhub": {"value": {"push_data": {"tag": "1.28"},
                                        "repository": {"repo_name": "acme/web"}}},
                "registry": {"value": {"events": [{
                    "id": "asdf-asdf-asdf-asdf-0", "action": "push",
                    "target": {"mediaType": "application/vnd.docker.distribution.manifest.v2+json",
                               "repository": "acme/web", "tag": "1.28",
                               "digest": "sha256:" + "0" * 64}}]}},
            },
        }},
    },
}


@hooks_router.post(
    "/{webhook_id}", operation_id="trigger_webhook", openapi_extra=HOOK_BODY,
    responses={
        200: {"model": HookIgnored, "description": "Nothing to deploy (and why)"},
        202: {"model": HookAccepted, "description": "A rollout started"},
        401: {"model": Problem, "description": "Missing or wrong X-Hub-Signature-256"},
        404: {"model": Problem, "description": "No such webhook"},
        409: {"model": Problem, "description": "The deployment cannot take the change now"},
        413: {"model": Problem, "description": "Body over 256 KiB"},
        422: {"model": Problem, "description": "Not a payload of this webhook's kind"},
        429: {"model": Problem, "description": "Too many deliveries to this webhook in the "
                                               "last minute; see Retry-After"},
    },
)
def trigger_webhook(
    webhook_id: uuid.UUID,
    session: SessionDep,
    body: Annotated[bytes, Depends(_raw_body)],
    signature: Annotated[str | None, Header(
        alias="X-Hub-Signature-256",
        description="`sha256=<hex HMAC-SHA256(secret, raw body)>`; not for dockerhub")] = None,
    github_event: Annotated[str | None, Header(alias="X-GitHub-Event", max_length=64)] = None,
    github_delivery: Annotated[str | None, Header(alias="X-GitHub-Delivery")] = None,
    delivery_id: Annotated[str | None, Header(
        alias="X-Delivery-Id", description="Your id for this delivery: one id is applied once")] = None,
    authorization: Annotated[str | None, Header(
        description="`registry` webhooks only: `Bearer <secret>`, for a Docker registry's "
                    "notifications, which carry static headers and cannot sign")] = None,
) -> Any:
    """Deliver a push. No bearer token: the HMAC signature (or, for `dockerhub`, the
    unguessable URL) is the credential. A delivery id seen before is not applied again."""
    done = webhook_service.deliver(
        session, webhook_id, body, signature=signature,
        delivery_id=github_delivery or delivery_id, github_event=github_event,
        authorization=authorization,
    )
    # Errors are answered, not raised: the delivery's record must commit with them.
    if done.error is not None:
        return from_error(done.error)
    if done.delivery.outcome == "applied":
        return JSONResponse({"rollout_id": str(done.delivery.rollout_id)}, status_code=202)
    return JSONResponse({"ignored": done.delivery.reason}, status_code=200)
