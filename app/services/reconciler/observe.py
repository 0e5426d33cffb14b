"""Observe: what the engines run for a deployment, its replicas' health, its image."""

from __future__ import annotations

import dataclasses

from app.config import Settings
from app.db import session_scope, utcnow
from app.dockerhost import EngineError
from app.dockerhost.probes import probe as probe_container
from app.models import Revision
from app.reconcile import health as health_rules
from app.reconcile.health import HealthCheckSpec, HealthState
from app.reconcile.types import HostState, ObservedContainer
from app.repositories import events as event_repo
from app.services import fleet, images
from app.services.reconciler.context import Context, Observation, client, docker_pool


def observe(ctx: Context, settings: Settings) -> Observation:
    reachable = [v for v in ctx.views if v.reachable]
    futures = {
        v.name: docker_pool().submit(
            client(settings, ctx.hosts[v.name]).list_owned, str(ctx.deployment_id)
        )
        for v in reachable
    }
    containers: list[ObservedContainer] = []
    unreachable: dict[str, str] = {}
    for name, future in futures.items():
        try:
            containers += future.result()
        except EngineError as exc:
            unreachable[name] = str(exc)
    views = [
        dataclasses.replace(v, state=HostState.UNREACHABLE) if v.name in unreachable else v
        for v in ctx.views
    ]
    # What we last knew of hosts we cannot see now holds their slots.
    blind = {v.name for v in views if not v.reachable}
    containers += [
        fleet.observed_from_record(r, host, "running" if r.state == "running" else "exited")
        for (host, _), r in ctx.known.items() if host in blind
    ]
    return Observation(containers, views, unreachable)


def probe(ctx: Context, obs: Observation, settings: Settings) -> None:
    """Probe the current template's running replicas that are due; set their health.

    Older replicas keep the health last recorded for them: they are on their way out,
    and judging them by a check written for the new template could take them down."""
    check = ctx.health_check
    if not check:
        return
    spec = HealthCheckSpec(check.interval_s, check.timeout_s, check.retries,
                           check.start_period_s)
    now = utcnow()
    states: dict[tuple[str, str], HealthState] = {}
    due: list[ObservedContainer] = []
    for c in obs.containers:
        key = (c.host, c.name)
        record = ctx.known.get(key)
        state = HealthState(
            record.health if record and record.health != "none" else "starting",
            record.probe_failures if record else 0,
            record.last_probe_at if record else None,
            (record.last_probe or "") if record else "",
        )
        states[key] = state
        if (c.template_hash == ctx.desired.template_hash and c.state == "running"
                and c.host not in obs.unreachable and health_rules.is_due(state, spec, now)):
            due.append(c)
    futures = {
        (c.host, c.name): docker_pool().submit(
            probe_container, client(settings, ctx.hosts[c.host]), c.container_id, check
        )
        for c in due
    }
    by_key = {(c.host, c.name): c for c in obs.containers}
    failed_now = set()
    for key, future in futures.items():
        result = future.result()
        before = states[key]
        states[key] = health_rules.after_probe(
            before, result.ok, result.output, spec, by_key[key].started_at, utcnow()
        )
        if states[key].failures > before.failures:
            failed_now.add(key)
    obs.health = states
    obs.failed_now = frozenset(failed_now)
    def health_of(c: ObservedContainer) -> str:
        if c.template_hash == ctx.desired.template_hash:
            return states[(c.host, c.name)].health
        record = ctx.known.get((c.host, c.name))
        return record.health if record else "none"

    obs.containers = [
        dataclasses.replace(c, health=health_of(c)) if c.state == "running" else c
        for c in obs.containers
    ]
    pending = [
        health_rules.next_probe_at(states[(c.host, c.name)], spec)
        for c in obs.containers
        if c.template_hash == ctx.desired.template_hash and c.state == "running"
        and states[(c.host, c.name)].health != "healthy"
    ]
    pending = [t for t in pending if t is not None]
    obs.next_probe_at = min(pending) if pending else None


def pin_image(ctx: Context, obs: Observation, settings: Settings) -> None:
    """Record the image id the tag means now; every replica of the revision runs it."""
    assert ctx.image_source is not None
    reachable = [client(settings, ctx.hosts[v.name]) for v in obs.views if v.reachable]
    if not reachable:
        return
    ref = ctx.image_source.ref
    image = images.resolve(reachable, ctx.image_source, ctx.revision.pin_from_registry)
    pull_ref = image.repo_digest_for(ref)
    with session_scope() as session:
        rev = session.get(Revision, ctx.revision.id)
        if rev is not None and rev.image_digest is None:
            rev.image_digest, rev.image_pull_ref = image.id, pull_ref
            event_repo.record(
                session, ctx.deployment_id, "ImagePinned",
                f"revision {rev.number}: {ref} is {image.id}"
                + (f" (hosts pull {pull_ref})" if pull_ref else ""),
            )
    ctx.revision.image_digest, ctx.revision.image_pull_ref = image.id, pull_ref
