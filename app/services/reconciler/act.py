"""Act: carry out a plan's actions on the engines, concurrently, one outcome each."""

from __future__ import annotations

import logging

from app.config import Settings
from app.dockerhost import (
    ContainerGone,
    ContainerRequest,
    EngineClient,
    EngineError,
    ImageMissing,
    NetworkMissing,
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
from app.reconcile import networks as network_rules
from app.reconcile.types import Action, Create, Plan, Remove, Start
from app.services import endpoints, images
from app.services import networks as network_service
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
        networks=list(c.networks),
        # Members of a network reach every replica by the deployment's name.
        network_alias=ctx.name if c.networks else None,
        service_alias=ctx.stack_service if c.networks else None,
    )


def _create(ctx: Context, client: EngineClient, request: ContainerRequest) -> str:
    try:
        return client.create_and_start(request)
    except NetworkMissing:
        # Removed as unused between the ensure and now (by another deployment's pass
        # or the sweep): make it again, once; the next pass would anyway.
        network_service.ensure(client, request.networks, ctx.installation_id)
        return client.create_and_start(request)


def run_action(ctx: Context, action: Action, settings: Settings) -> Outcome:
    try:
        if isinstance(action, Create):
            client = host_client(settings, ctx.hosts[action.host])
            request = container_request(ctx, action, settings)
            try:
                cid = _create(ctx, client, request)
            except ImageMissing:
                assert ctx.image_source is not None
                images.ensure(client, ctx.image_source, request.image,
                              ctx.revision.image_pull_ref)
                cid = _create(ctx, client, request)
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
    """The plan's actions, concurrently; then, once every one of them has succeeded, its
    ``then`` creates (the room the removes freed), concurrently too."""
    refused = _ensure_networks(ctx, the_plan, settings)
    outcomes = _run_batch(ctx, the_plan.actions, refused, settings)
    if the_plan.then and all(o.error is None or isinstance(o.error, ContainerGone)
                             for o in outcomes):
        outcomes += _run_batch(ctx, the_plan.then, refused, settings)
    _sweep_networks(ctx, outcomes, settings)
    return outcomes


def _run_batch(ctx: Context, actions: tuple[Action, ...], refused: dict[str, EngineError],
               settings: Settings) -> list[Outcome]:
    futures = [
        None if _refused(a, refused) else docker_pool().submit(run_action, ctx, a, settings)
        for a in actions
    ]
    return [f.result() if f is not None else Outcome(a, error=_refused(a, refused))
            for a, f in zip(actions, futures, strict=True)]


def _refused(action: Action, refused: dict[str, EngineError]) -> EngineError | None:
    """Why a create or start cannot run on its host (its networks could not be made)."""
    if isinstance(action, Create):
        return refused.get(action.host)
    if isinstance(action, Start):
        return refused.get(action.container.host)
    return None  # a remove needs no network


def _ensure_networks(ctx: Context, the_plan: Plan, settings: Settings) -> dict[str, EngineError]:
    """Make the deployment's networks on every host this batch creates or starts a
    replica on, before it does; the hosts where that failed, with why (their creates
    and starts fail with it: e.g. a network of that name that Moorage did not make)."""
    needed = network_rules.needed_on_hosts((*the_plan.actions, *the_plan.then),
                                           ctx.template.container.networks)
    futures = {
        host: docker_pool().submit(network_service.ensure, host_client(settings, ctx.hosts[host]),
                                   names, ctx.installation_id)
        for host, names in needed.items()
    }
    refused: dict[str, EngineError] = {}
    for host, future in futures.items():
        try:
            future.result()
        except EngineError as exc:
            refused[host] = exc
        except Exception as exc:  # a bug: the host's creates wait, the others go on
            log.exception("ensuring networks on %s failed unexpectedly", host)
            refused[host] = TemporaryEngineError(f"unexpected error: {exc}")
    return refused


def _sweep_networks(ctx: Context, outcomes: list[Outcome], settings: Settings) -> None:
    """Where this batch removed containers, remove the networks nothing uses any more
    (the beat's orphan collection sweeps every host too, so a failure here is logged)."""
    hosts = {o.action.container.host for o in outcomes
             if isinstance(o.action, Remove) and o.error is None}
    futures = [docker_pool().submit(network_service.sweep, host_client(settings, ctx.hosts[h]),
                                    ctx.installation_id)
               for h in sorted(hosts) if h in ctx.hosts]
    for future in futures:
        try:
            future.result()
        except EngineError as exc:
            log.info("network sweep after removals skipped: %s", exc)
        except Exception:  # a bug must not lose the outcomes: the beat sweeps again
            log.exception("network sweep after removals failed unexpectedly")
