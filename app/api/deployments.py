from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from contextlib import suppress
from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Body, Path, Query, Request, Response
from fastapi.responses import StreamingResponse
from starlette.concurrency import run_in_threadpool

from app.api import presenters, sse
from app.api.deps import AUTH_ERRORS, Cursor, IfMatch, Limit, SessionDep, require, still_allowed
from app.api.idempotency import IdempotencyDep
from app.api.responses import as_json, page_json
from app.coalesce import Coalescer
from app.config import get_settings
from app.db import get_sessionmaker, reading
from app.errors import NotFound
from app.reconcile.endpoints import EdgeView
from app.repositories import autoscaler as autoscaler_repo
from app.repositories import deployments as deployment_repo
from app.repositories import hosts as host_repo
from app.repositories import replicas as replica_repo
from app.repositories import rollouts as rollout_repo
from app.schemas.common import DNS_LABEL, Page, Problem
from app.schemas.deployments import (
    DeploymentCreate,
    DeploymentRead,
    DeploymentSpec,
    DryRunResult,
    EventRead,
    LogLine,
    ReplicaRead,
    RevisionRead,
    RollbackRequest,
    RolloutRead,
    UsagePoint,
    UsageSeries,
)
from app.services import deployments as service
from app.services import endpoints as endpoint_service
from app.services import logs as log_service
from app.services import tokens as token_service
from app.services import usage as usage_service

router = APIRouter(prefix="/v1/deployments", tags=["deployments"], responses=AUTH_ERRORS)
Name = Annotated[str, Path(pattern=DNS_LABEL, max_length=63, description="A DNS label")]
DryRun = Annotated[bool, Query(description="Validate and show what would happen; change nothing")]
P404 = {"model": Problem, "description": "No such deployment"}
P409 = {"model": Problem, "description": "Conflict with the current state"}
P412 = {"model": Problem, "description": "If-Match does not match resource_version"}
P422 = {"model": Problem, "description": "Invalid input; `errors` names each field"}


def _present(session, result: service.ApplyResult, response: Response) -> DeploymentRead:
    response.headers["ETag"] = presenters.etag(result.deployment.resource_version)
    response.headers["Location"] = f"/v1/deployments/{result.deployment.name}"
    # The row is locked by this transaction: its view cannot be gone.
    view = deployment_repo.view(session, result.deployment.id, usage_service.fresh_since())
    assert view is not None
    return _shown(session, [view])[0]


def _shown(session, views: list[deployment_repo.DeploymentView]) -> list[DeploymentRead]:
    """Views as the API shows them (see ``_extras``)."""
    looks, edges = _extras(session, views)
    return [presenters.deployment(v, looks.get(v.id), edges) for v in views]


def _shown_json(session, views: list[deployment_repo.DeploymentView]) -> list[bytes]:
    """``_shown`` serialized, each as kept since it was last shown if unchanged."""
    looks, edges = _extras(session, views)
    return [presenters.deployment_json(v, looks.get(v.id), edges) for v in views]


def _extras(session, views: list[deployment_repo.DeploymentView],
            ) -> tuple[dict[Any, Any], tuple[EdgeView, ...]]:
    """What views are shown with, in at most two more statements for the whole page:
    the autoscaler's last look, if one of them autoscales; the edge hosts (for the
    endpoints' URLs), if one of them has an endpoint."""
    autoscaled = [v.id for v in views if v.autoscale]
    looks = autoscaler_repo.states(session, autoscaled) if autoscaled else {}
    has_endpoint = any(v.spec.get("endpoint") for v in views)
    # A tuple once for the page: each view's kept JSON is compared with it.
    edges = tuple(endpoint_service.edge_views(session)) if has_endpoint else ()
    return looks, edges


@router.put(
    "/{name}", operation_id="apply_deployment", response_model=DeploymentRead | DryRunResult,
    responses={201: {"model": DeploymentRead, "description": "Created"},
               200: {"model": DeploymentRead | DryRunResult, "description": "Updated, unchanged or dry run"},
               409: P409, 412: P412, 422: P422},
    dependencies=[require("deploy")],
)
def apply_deployment(
    name: Name, spec: DeploymentSpec, session: SessionDep, response: Response,
    if_match: IfMatch = None, dry_run: DryRun = False,
) -> Response:
    """Apply a full spec. A changed spec becomes a new revision and starts a rollout;
    the same spec again changes nothing. `replicas` is not part of a revision: scaling
    makes no revision (it changes the deployment, records a `Scaled` event and starts a
    `scale` rollout to the current revision). A `deploy` token may do this; binding a host
    path (`volumes[].source` that is a path) needs an admin to have allowed it (422
    otherwise, naming the field)."""
    if dry_run:
        return as_json(service.dry_run(session, name, spec, if_match))
    result = service.apply(session, name, spec, if_match=if_match)
    response.status_code = 201 if result.created else 200
    return as_json(_present(session, result, response), response)


@router.post("", status_code=201, operation_id="create_deployment", response_model=DeploymentRead,
             responses={409: P409, 422: P422}, dependencies=[require("deploy")])
def create_deployment(
    body: DeploymentCreate, session: SessionDep, response: Response, idem: IdempotencyDep
) -> Response:
    """Create a deployment; 409 if the name exists."""
    if (replay := idem.replay()) is not None:
        return replay
    spec = DeploymentSpec.model_validate(body.model_dump(exclude={"name"}))
    result = service.apply(session, body.name, spec, must_create=True)
    return as_json(idem.save(response, _present(session, result, response)), response, 201)


@router.patch(
    "/{name}", operation_id="patch_deployment", response_model=DeploymentRead | DryRunResult,
    responses={200: {"model": DeploymentRead | DryRunResult, "description": "Updated or dry run"},
               404: P404, 409: P409, 412: P412, 422: P422},
    dependencies=[require("deploy")],
)
def patch_deployment(
    name: Name,
    session: SessionDep,
    response: Response,
    patch: Annotated[dict[str, Any], Body(
        description="JSON merge patch (RFC 7396) of the spec",
        examples=[{"image": "nginx:1.27"}, {"replicas": 5}],
        media_type="application/merge-patch+json",
    )],
    if_match: IfMatch = None,
    dry_run: DryRun = False,
) -> Response:
    """Merge a patch into the current spec (at the deployment's replica count) and apply
    the result, as PUT does: a patch of `replicas` alone is a scale, which makes no
    revision."""
    spec = service.patched_spec(session, name, patch)
    if dry_run:
        return as_json(service.dry_run(session, name, spec, if_match))
    result = service.apply(session, name, spec, if_match=if_match)
    return as_json(_present(session, result, response), response)


@router.get("", operation_id="list_deployments", dependencies=[require("read")],
            response_model=Page[DeploymentRead], responses={422: P422})
async def list_deployments(
    limit: Limit = 50,
    cursor: Cursor = None,
    label: Annotated[str | None, Query(pattern=r"^[^=\x00]+=[^\x00]*$", max_length=512,
                                       description="key=value")] = None,
) -> Response:
    pair = tuple(label.split("=", 1)) if label else None
    async with reading() as reader:
        return page_json(*await reader.run(_list_page, limit, cursor, pair))


def _list_page(session, limit: int, cursor: str | None,
               label: tuple[str, str] | None) -> tuple[list[bytes], str | None]:
    views, next_cursor = deployment_repo.views_page(session, limit, cursor, label,
                                                    usage_service.fresh_since())
    return _shown_json(session, views), next_cursor


@router.get("/{name}", operation_id="get_deployment", response_model=DeploymentRead,
            responses={404: P404}, dependencies=[require("read")])
async def get_deployment(name: Name) -> Response:
    found = await _views_shown.get(name)
    if found is None:
        raise NotFound(f"deployment {name!r} does not exist")
    resource_version, body = found
    return Response(body, media_type="application/json",
                    headers={"ETag": presenters.etag(resource_version)})


async def _read_views(names: list[str]) -> dict[str, tuple[int, bytes]]:
    async with reading() as reader:
        return await reader.run(_views_by_names, names)


def _views_by_names(session, names: list[str]) -> dict[str, tuple[int, bytes]]:
    views = deployment_repo.views_by_names(session, names, usage_service.fresh_since())
    return {v.name: (v.resource_version, body)
            for v, body in zip(views, _shown_json(session, views), strict=True)}


# GETs of deployments arriving together share one statement (each still reads what was
# committed before it arrived: app/coalesce.py).
_views_shown = Coalescer(_read_views)


@router.delete("/{name}", status_code=202, operation_id="delete_deployment",
               response_model=RolloutRead, responses={404: P404, 412: P412},
               dependencies=[require("deploy")])
def delete_deployment(name: Name, session: SessionDep, if_match: IfMatch = None) -> Response:
    """Remove every replica on every host, then the deployment (then GET is 404)."""
    return as_json(presenters.rollout(service.delete(session, name, if_match)), status_code=202)


@router.get("/{name}/revisions", operation_id="list_revisions", responses={404: P404},
            dependencies=[require("read")])
def list_revisions(
    name: Name, session: SessionDep, limit: Limit = 50, cursor: Cursor = None
) -> Page[RevisionRead]:
    d = deployment_repo.get_by_name(session, name)
    rows, next_cursor = deployment_repo.revisions_page(session, d.id, limit, cursor)
    return Page[RevisionRead](items=[presenters.revision(r) for r in rows],
                              next_cursor=next_cursor)


@router.get("/{name}/revisions/{number}", operation_id="get_revision", responses={404: P404},
            dependencies=[require("read")])
def get_revision(
    name: Name, number: Annotated[int, Path(ge=1, le=2**31 - 1)], session: SessionDep
) -> RevisionRead:
    d = deployment_repo.get_by_name(session, name)
    return presenters.revision(deployment_repo.revision(session, d.id, number))


@router.post("/{name}/rollback", status_code=202, operation_id="rollback_deployment",
             response_model=RolloutRead, responses={404: P404, 409: P409, 412: P412, 422: P422},
             dependencies=[require("deploy")])
def rollback_deployment(
    name: Name, session: SessionDep, response: Response, idem: IdempotencyDep,
    body: Annotated[RollbackRequest | None, Body()] = None, if_match: IfMatch = None,
) -> Response:
    """Roll back to revision `n` (default: the previous one), as a new revision: its
    template comes back; the replica count stays the deployment's current one."""
    if (replay := idem.replay()) is not None:
        return replay
    result = service.rollback(session, name, body.revision if body else None, if_match)
    assert result.rollout is not None
    return as_json(idem.save(response, presenters.rollout(result.rollout)), response, 202)


@router.post("/{name}/restart", status_code=202, operation_id="restart_deployment",
             response_model=RolloutRead, responses={404: P404, 409: P409, 412: P412},
             dependencies=[require("deploy")])
def restart_deployment(
    name: Name, session: SessionDep, response: Response, idem: IdempotencyDep,
    if_match: IfMatch = None,
) -> Response:
    """Replace every replica with a fresh container of the same spec, by the update strategy."""
    if (replay := idem.replay()) is not None:
        return replay
    result = service.restart(session, name, if_match)
    assert result.rollout is not None
    return as_json(idem.save(response, presenters.rollout(result.rollout)), response, 202)


@router.get("/{name}/rollouts", operation_id="list_deployment_rollouts",
            responses={404: P404}, dependencies=[require("read")])
def list_deployment_rollouts(
    name: Name, session: SessionDep, limit: Limit = 50, cursor: Cursor = None
) -> Page[RolloutRead]:
    d = deployment_repo.get_by_name(session, name)
    rows, next_cursor = rollout_repo.page(session, d.id, limit, cursor)
    return Page[RolloutRead](items=[presenters.rollout(r) for r in rows], next_cursor=next_cursor)


@router.get("/{name}/replicas", operation_id="list_replicas", responses={404: P404},
            dependencies=[require("read")])
def list_replicas(
    name: Name, session: SessionDep, limit: Limit = 50, cursor: Cursor = None
) -> Page[ReplicaRead]:
    d = deployment_repo.get_by_name(session, name)
    rows, next_cursor = replica_repo.page(session, d.id, limit, cursor)
    names = {h.id: h.name for h in host_repo.all_hosts(session)}
    usage = usage_service.latest_by_container(session, d.id)
    return Page[ReplicaRead](items=[presenters.replica(r, names, usage.get(r.container_id or ""))
                                    for r in rows],
                             next_cursor=next_cursor)


@router.get("/{name}/usage", operation_id="get_usage", responses={404: P404},
            dependencies=[require("read")])
def get_usage(name: Name, session: SessionDep) -> UsageSeries:
    """The deployment's recent usage (the samples kept, `MOORAGE_USAGE_RETENTION_S`),
    summed over its replicas per sampling tick, oldest first: what a chart draws."""
    d = deployment_repo.get_by_name(session, name)
    settings = get_settings()
    return UsageSeries(
        interval_s=settings.usage_interval_s, retention_s=settings.usage_retention_s,
        points=[UsagePoint(at=p.at, cpu_percent=round(p.cpu_percent, 2),
                           memory_bytes=p.memory_bytes, replicas=p.replicas)
                for p in usage_service.series(session, d.id)])


@router.get("/{name}/events", operation_id="list_events",
            responses={404: P404, **sse.SSE_RESPONSE}, dependencies=[require("read")])
async def list_events(
    name: Name,
    request: Request,
    after: sse.After = None,
    limit: Limit = 50,
    cursor: Cursor = None,
    tail: sse.Tail = None,
    accept: sse.Accept = None,
    last_event_id: sse.LastEventId = None,
) -> Page[EventRead]:
    """Events oldest first. With `Accept: text/event-stream`, a live SSE stream that resumes
    from `Last-Event-ID`; it ends when the deployment is gone."""
    return await sse.answer(sse.EventFeed(name), request, after=after, limit=limit,
                            cursor=cursor, tail=tail, accept=accept, last_event_id=last_event_id)


LOG_KEEPALIVE_S = 15.0
_NO_LINE = object()  # none came within a token check's interval


def _recent_logs(name: str, tail: int, since: datetime | None, replica: str | None) -> list[LogLine]:
    with get_sessionmaker()() as session:
        return log_service.recent(session, name, tail, since, replica)


def _deployment_exists(name: str) -> bool:
    with get_sessionmaker()() as session:
        return deployment_repo.find_by_name(session, name) is not None


@router.get(
    "/{name}/logs", operation_id="get_logs",
    responses={404: P404, 422: P422, 200: {
        "content": {"application/x-ndjson": {}},
        "description": "The recent lines; with `follow=true`, a stream of them, one JSON "
                       "LogLine a line (an empty line is a keep-alive)"}},
    dependencies=[require("read")],
)
async def get_logs(
    name: Name, request: Request,
    tail: Annotated[int, Query(ge=1, le=10_000, description="Lines per replica")] = 100,
    since: Annotated[datetime | None, Query(
        description="Only lines written at or after this time (RFC 3339)")] = None,
    follow: Annotated[bool, Query(
        description="Stream new lines as they come (NDJSON), from every replica, "
                    "including ones that start later")] = False,
    replica: Annotated[str | None, Query(
        max_length=255, description="Only this replica: its container name or slot number")] = None,
) -> list[LogLine]:
    """Output of every replica (secret values shown as `***`), each line tagged with its
    replica and host."""
    if not follow:
        return await run_in_threadpool(_recent_logs, name, tail, since, replica)
    if not await run_in_threadpool(_deployment_exists, name):
        raise NotFound(f"deployment {name!r} does not exist")
    return StreamingResponse(
        _follow_logs(name, tail, since, replica, still_allowed(request, "read")),
        media_type="application/x-ndjson",
        headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
    )


async def _follow_logs(name: str, tail: int, since: datetime | None, replica: str | None,
                       allowed: Callable[[], Awaitable[bool]]):
    # Follower threads hand lines to this loop; Starlette cancels us when the client
    # goes, and `finally` stops the threads and closes the engine streams. It ends too
    # when the token that opened it is revoked or expires, checked at least every
    # CACHE_TTL_S as a request's would be.
    loop = asyncio.get_running_loop()
    lines: asyncio.Queue[LogLine | None] = asyncio.Queue()

    def emit(line: LogLine | None) -> None:
        with suppress(RuntimeError):  # the loop is closed: the client has gone
            loop.call_soon_threadsafe(lines.put_nowait, line)

    follower = log_service.Follower(get_sessionmaker(), name, tail, since, replica, emit)
    follower.start()
    try:
        quiet_since = loop.time()
        while True:
            try:
                line = await asyncio.wait_for(lines.get(), token_service.CACHE_TTL_S)
            except TimeoutError:
                line = _NO_LINE
            if not await allowed():
                return
            if line is None:
                return  # the deployment is gone
            if line is not _NO_LINE:
                quiet_since = loop.time()
                yield line.model_dump_json() + "\n"
            elif loop.time() - quiet_since >= LOG_KEEPALIVE_S:
                quiet_since = loop.time()
                yield "\n"
    finally:
        follower.close()
