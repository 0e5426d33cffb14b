"""Act: carry out a plan's actions on the engines, concurrently, one outcome each."""

from __future__ import annotations

import logging

from app.config import Settings
from app.dockerhost import (
    ContainerRequest,
    EngineError,
    ImageMissing,
    TemporaryEngineError,
)
from app.dockerhost.engine import (
    L_DEPLOYMENT,
    L_DEPLOYMENT_ID,
    L_INSTALLATION,
    L_MANAGED,
    L_REVISION,
    L_SLOT,
    L_TEMPLATE,
)
from app.reconcile.types import Action, Create, Plan, Start
from app.services import endpoints, images
from app.services.reconciler.context import Context, Outcome, docker_pool
from app.services.reconciler.context import client as host_client  # run_action has a local `client`

log = logging.getLogger(__name__)


def container_request(ctx: Context, create: Create, settings: Settings) -> ContainerRequest:
    """The engine's request for one replica: the typed template, the secret values merged
    into its env (they are sealed apart from it), and Moorage's own labels."""
    c, rev = ctx.template.container, ctx.revision
    labels = {
        **dict(c.labels),
        L_MANAGED: "true",
        L_DEPLOYMENT: ctx.name,
        L_DEPLOYMENT_ID: str(ctx.deployment_id),
        L_INSTALLATION: ctx.installation_id,
        L_REVISION: str(rev.number),
        L_SLOT: str(create.slot),
        L_TEMPLATE: rev.template_hash,
    }
    ports = [{"container_port": p.container_port, "host_port": p.host_port,
              "protocol": p.protocol, "host_ip": p.host_ip} for p in c.ports]
    # Endpoint hook: the edges reach a replica at its published endpoint port.
    if ctx.template.endpoint is not None and (
            extra := endpoints.published_port(ctx.template, ctx.hosts[create.host])) is not None:
        ports.append(extra)
    return ContainerRequest(
        name=create.name,
        image=rev.image_digest or c.image,
        labels=labels,
        env={**dict(c.env), **rev.secrets},
        command=list(c.command) if c.command is not None else None,
        entrypoint=list(c.entrypoint) if c.entrypoint is not None else None,
        ports=ports,
        cpus=c.resources.cpus,
        memory_mb=c.resources.memory_mb,
        volumes=[{"source": m.source, "target": m.target, "read_only": m.read_only}
                 for m in c.volumes],
    )


def run_action(ctx: Context, action: Action, settings: Settings) -> Outcome:
    try:
        if isinstance(action, Create):
            client = host_client(settings, ctx.hosts[action.host])
            request = container_request(ctx, action, settings)
            try:
                cid = client.create_and_start(request)
            except ImageMissing:
                assert ctx.image_source is not None
                images.ensure(client, ctx.image_source, request.image,
                              ctx.revision.image_pull_ref)
                cid = client.create_and_start(request)
            return Outcome(action, container_id=cid)
        client = host_client(settings, ctx.hosts[action.container.host])
        if isinstance(action, Start):
            client.start(action.container.container_id)
        else:
            client.remove(action.container.container_id)
        return Outcome(action)
    except EngineError as exc:
        return Outcome(action, error=exc)
    except Exception as exc:  # a bug must not kill the whole batch silently
        log.exception("action %s failed unexpectedly", action)
        return Outcome(action, error=TemporaryEngineError(f"unexpected error: {exc}"))


def execute(ctx: Context, the_plan: Plan, settings: Settings) -> list[Outcome]:
    futures = [docker_pool().submit(run_action, ctx, a, settings) for a in the_plan.actions]
    return [f.result() for f in futures]
