"""Service endpoints: a deployment's upstreams follow its replicas' readiness.

The reconciler calls ``before_acting`` once per pass, after it has planned and before
it acts (app.services.reconciler.loop). It sets the upstreams from what it observed:
replicas Moorage's health gate calls ready join; replicas that are no longer ready, or
that the plan is about to remove (rolling update, scale-down, drain, delete), leave.
The edges get their new config (app.services.edge), and the leaving replicas are
drained (their requests in flight finish, up to ``drain_timeout_s``) *before* the plan
stops them. Events: UpstreamJoined, UpstreamDrained, UpstreamRemoved.
"""

from __future__ import annotations

import logging
import random
from typing import Any

from sqlalchemy.orm import Session

from app.config import Settings
from app.db import session_scope, utcnow
from app.errors import Conflict, Invalid
from app.models import Deployment, Host
from app.reconcile import endpoints as core
from app.reconcile import template as tpl
from app.reconcile.types import Plan, Remove
from app.repositories import endpoints as endpoint_repo
from app.repositories import events as event_repo
from app.schemas.deployments import EndpointRead, UpstreamRead
from app.services import edge

log = logging.getLogger(__name__)


# ---- at apply --------------------------------------------------------------------------


def admin_port(address: str) -> int | None:
    """The port of the edges' Caddy admin API (MOORAGE_EDGE_ADMIN_ADDRESS, "host:port";
    None for a unix socket, which takes no port)."""
    if address.startswith("unix"):
        return None
    _, _, port = address.rpartition(":")
    return int(port) if port.isascii() and port.isdigit() else None


def reserved_by_edges(port: int, settings: Settings) -> str | None:
    """Why no endpoint may listen on ``port``, or None: the proxy on every edge listens
    there already (its shared HTTP port, or its admin API on the host's loopback), so
    an endpoint there would be a config no edge can take."""
    if port == settings.edge_http_port:
        return (f"{port} is the edges' own HTTP port (MOORAGE_EDGE_HTTP_PORT), where "
                "endpoints are served by hostname; choose another")
    if port == admin_port(settings.edge_admin_address):
        return (f"{port} is the port of the edges' proxy admin API "
                f"(MOORAGE_EDGE_ADMIN_ADDRESS {settings.edge_admin_address}); choose another")
    return None


def check_listen_port(endpoint: tpl.Endpoint | None, settings: Settings) -> None:
    """A 422 for a listen port the spec asks for that the edges hold themselves."""
    if endpoint is None or endpoint.listen_port is None:
        return
    if (why := reserved_by_edges(endpoint.listen_port, settings)) is not None:
        raise Invalid(f"endpoint.listen_port: {why}", loc=["body", "endpoint", "listen_port"])


def assign_listen_port(session: Session, deployment: Deployment, endpoint: tpl.Endpoint | None,
                       settings: Settings) -> None:
    """The listen port: as the spec asks, else the one chosen before, else a free one
    from MOORAGE_ENDPOINT_PORT_RANGE. Kept once chosen (also while the spec has none).
    Never one the edges' proxy holds itself (its HTTP port, its admin API's)."""
    if endpoint is None:
        return
    check_listen_port(endpoint, settings)
    if endpoint.listen_port is not None:
        owner = endpoint_repo.listen_port_owner(session, endpoint.listen_port)
        if owner is not None and owner != deployment.name:
            raise Conflict(f"listen_port {endpoint.listen_port} is deployment {owner!r}'s endpoint")
        deployment.endpoint_listen_port = endpoint.listen_port
        return
    if deployment.endpoint_listen_port is not None:
        return
    low, high = settings.endpoint_ports
    used = endpoint_repo.used_listen_ports(session, low, high)
    free = [p for p in range(low, high + 1)
            if p not in used and reserved_by_edges(p, settings) is None]
    if not free:
        raise Conflict(f"no free listen port left in {low}-{high} (MOORAGE_ENDPOINT_PORT_RANGE)")
    # Not always the lowest: two applies at once would pick the same one (the unique
    # constraint turns that into a 409, which is rarer this way).
    deployment.endpoint_listen_port = free[0] if len(free) < 8 else random.choice(free[:64])


def published_port(template: tpl.Template, host: Host) -> dict[str, Any] | None:
    """The port mapping a replica needs so the edges reach its endpoint port (None when
    its ``ports`` publish it already): a free port, on the host's own address when it is
    an IP, so it is not opened on every interface."""
    e = template.endpoint
    if e is None or any(p.container_port == e.port and p.protocol == "tcp" for p in template.container.ports):
        return None
    return {"container_port": e.port, "host_port": None, "protocol": "tcp",
            "host_ip": core.publish_ip(edge.reach_address(host))}


# ---- the reconciler's hook --------------------------------------------------------------


def before_acting(ctx, obs, the_plan: Plan, settings: Settings) -> None:
    """Set the deployment's upstreams from this pass's observation and plan, and drain
    the replicas the plan removes before it acts. Never raises: an edge that cannot be
    reached must not stop the deployment's own reconcile (its proxy retries elsewhere)."""
    try:
        _sync(ctx, obs, the_plan, settings)
    except Exception:
        log.exception("deployment %s: could not update its endpoint", ctx.name)


def _state(endpoint: tpl.Endpoint, upstreams: list[core.Upstream]) -> dict[str, Any]:
    return {"port": endpoint.port, "hostnames": list(endpoint.hostnames),
            "drain_timeout_s": endpoint.drain_timeout_s,
            "upstreams": [u.as_dict() for u in upstreams]}


def _sync(ctx, obs, the_plan: Plan, settings: Settings) -> None:
    endpoint = ctx.template.endpoint
    if endpoint is None and ctx.endpoint_state is None:
        return  # no endpoint, and none to take down: the usual case costs no query
    with session_scope() as session:
        found = endpoint_repo.state_of(session, ctx.deployment_id)
    if found is None:
        return
    listen_port, stored = found
    if stored is None and endpoint is None:
        return
    before = [core.Upstream.from_dict(u) for u in (stored or {}).get("upstreams") or ()]
    serving = endpoint is not None and not ctx.desired.deleting and listen_port is not None
    target: tuple[core.Upstream, ...] = ()
    if serving:
        assert endpoint is not None
        removing = {a.container.container_id for a in the_plan.actions if isinstance(a, Remove)}
        reach = {name: edge.reach_address(h) for name, h in ctx.hosts.items()}
        target = core.upstreams(ctx.desired, endpoint.port, obs.containers, obs.views, reach,
                                removing, now=utcnow())
    change = core.change(before, target)
    final = _state(endpoint, list(target)) if serving and endpoint is not None else None
    if change.empty and final == stored:
        return
    drain_s = endpoint.drain_timeout_s if endpoint is not None else float(
        (stored or {}).get("drain_timeout_s", 30.0))
    leaving = [core.Upstream(u.host, u.replica, u.address, u.revision, core.DRAINING) for u in change.left]
    with session_scope() as session:
        interim = None
        if final is not None:
            interim = {**final, "upstreams": final["upstreams"] + [u.as_dict() for u in leaving]}
        elif leaving and stored is not None:
            interim = {**stored, "upstreams": [u.as_dict() for u in leaving]}
        # While draining, the leaving ones are listed (the API shows them) but not served.
        endpoint_repo.set_state(session, ctx.deployment_id, interim if leaving else final)
    failed = edge.sync(settings)
    if failed:  # once more, for those: a replica drained on an edge that never heard of it
        failed = edge.sync(settings, failed)  # would still get requests there when stopped
    for name, why in failed.items():
        log.warning("deployment %s: edge %s not updated (its proxy may still send to replicas "
                    "that leave now): %s", ctx.name, name, why)
    if change.joined:
        _announce_joined(ctx.deployment_id, change.joined, failed)
    if not leaving:
        return
    left = edge.drain(settings, [u.address for u in leaving], drain_s)
    with session_scope() as session:
        endpoint_repo.set_state(session, ctx.deployment_id, final)
        for u in leaving:
            if u.address in left:
                event_repo.record(session, ctx.deployment_id, "UpstreamDrained",
                                  f"{u.replica} on {u.host}: {left[u.address]} request(s) still in flight "
                                  f"after drain_timeout_s ({drain_s:g}s); it is stopped anyway",
                                  warning=True)
            else:
                event_repo.record(session, ctx.deployment_id, "UpstreamDrained",
                                  f"{u.replica} on {u.host} ({u.address}) taken out of the edges' "
                                  "upstreams; its requests in flight finished")
            event_repo.record(session, ctx.deployment_id, "UpstreamRemoved",
                              f"{u.replica} on {u.host} ({u.address}) is no longer an upstream")


def _announce_joined(deployment_id, joined: tuple[core.Upstream, ...], failed: dict[str, str]) -> None:
    """Told once the edges were: "the edges send it requests" is true only of the edges
    that took their config. Those that did not are named, and the event is a warning; the
    heartbeat's sync tries them again (EdgeOutOfSync / EdgeInSync tell how that goes)."""
    if failed:
        names = ", ".join(sorted(failed))
        outcome = (f"the edges send it requests, except {names}, whose proxy could not be given "
                   "its config yet (tried again each heartbeat)")
    else:
        outcome = "the edges send it requests"
    with session_scope() as session:
        for u in joined:
            event_repo.record(session, deployment_id, "UpstreamJoined",
                              f"{u.replica} on {u.host} ({u.address}, revision {u.revision}) is "
                              f"ready: {outcome}", warning=bool(failed))


# ---- what the API shows ------------------------------------------------------------------


def edge_views(session: Session) -> list[core.EdgeView]:
    return [edge.edge_view(h) for h in endpoint_repo.edge_hosts(session)]


def read(spec: dict[str, Any], listen_port: int | None, state: dict[str, Any] | None,
         edges: list[core.EdgeView], settings: Settings) -> EndpointRead | None:
    """The endpoint as the API shows it: from the current revision's spec, the kept
    listen port (deployment.endpoint_listen_port), and the upstreams its reconciler last
    set (deployment.endpoint_state)."""
    e = spec.get("endpoint")
    if not isinstance(e, dict):
        return None
    hostnames = list(e.get("hostnames") or [])
    upstreams = [UpstreamRead(**core.Upstream.from_dict(u).as_dict())
                 for u in (state or {}).get("upstreams") or ()]
    return EndpointRead(
        port=int(e["port"]), listen_port=listen_port, hostnames=hostnames,
        drain_timeout_s=float(e.get("drain_timeout_s", 30.0)),
        urls=core.urls(edges, listen_port, hostnames, settings.edge_http_port),
        upstreams=upstreams,
    )
