"""Stacks: apply a Compose file as one release, roll it back, delete it; and the step that
drives a release.

A stack revision stores, per service, what its deployment is applied with (public spec,
typed template, replicas, sealed secret values), made once from the validated file: a
rollback applies that again, never re-validated by the request model. A release is a
``StackRollout``; ``step`` (run by the ``stacks.step`` job, again and again while a
release is under way, and by the resync as a safety net) reads the services' deployments
from the database, asks the core (app.reconcile.stacks) what to do, and applies the
services whose dependencies are met through app.services.deployments. The
per-deployment reconciler does the rest, as for any deployment. Every step is
idempotent: it decides from what is stored, under the stack's row lock.
"""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import Session

from app import jobs
from app.config import get_settings
from app.db import session_scope, utcnow
from app.dockerhost import EngineError, client_for
from app.errors import Conflict, Invalid
from app.models import Deployment, Stack, StackRevision, StackRollout
from app.reconcile import stacks as core
from app.reconcile import template as tpl
from app.reconcile.vocabulary import Phase, RolloutState
from app.repositories import deployments as deployment_repo
from app.repositories import hosts as host_repo
from app.repositories import stacks as stack_repo
from app.schemas.stacks import StackDryRun, StackServicePlan
from app.services import deployments, endpoints, fleet
from app.services.preconditions import check_if_match
from app.services.rollouts import stamp
from app.stacks import compose

log = logging.getLogger(__name__)

# While a release is under way its stack is stepped this often.
STEP_S = 1.0
# A stack not yet made owns no deployment (a dry run's owner for the ownership check).
_NO_STACK = uuid.UUID(int=0)


class ComposeRefused(Invalid):
    """Every problem of the file, each named by where it is (``loc``)."""

    def __init__(self, exc: compose.ComposeInvalid, prefix: list[str | int]) -> None:
        first = exc.problems[0]
        super().__init__(f"{'.'.join(map(str, first.loc)) or 'compose'}: {first.msg}",
                         loc=[*prefix, *first.loc])
        self.extra["errors"] = [{"loc": [*prefix, *p.loc], "msg": p.msg, "type": p.type}
                                for p in exc.problems]


@dataclass(frozen=True)
class Content:
    """What a stack revision holds, made from a file (or copied from a revision)."""

    compose: str
    services: list[dict[str, Any]]  # in depends_on order
    volumes: list[str]
    networks: list[str]
    secrets: dict[str, dict[str, str]]  # service -> env name -> value
    secret_keys: tuple[str, ...] = ()

    def same_as(self, rev: StackRevision) -> bool:
        return (rev.services == self.services and rev.volumes == self.volumes
                and rev.networks == self.networks and dict(rev.secrets or {}) == self.secrets)

    @classmethod
    def of(cls, rev: StackRevision) -> Content:
        return cls(rev.compose, list(rev.services), list(rev.volumes), list(rev.networks),
                   dict(rev.secrets or {}))


def read(name: str, text: str, secrets: dict[str, str], loc: list[str | int]) -> Content:
    """A file as a revision's content; a 422 naming every problem."""
    try:
        mapped = compose.load(text, name, secrets)
    except compose.ComposeInvalid as exc:
        raise ComposeRefused(exc, loc) from exc
    graph = {s.name: [d for d, _ in s.depends_on] for s in mapped.services}
    ordered = [mapped.service(n) for wave in core.order(graph) for n in wave]
    services, values = [], {}
    for s in ordered:
        wanted = deployments.Wanted.from_spec(s.spec)
        endpoint = wanted.template.endpoint
        if endpoint is not None and endpoint.listen_port is not None and (
                why := endpoints.reserved_by_edges(endpoint.listen_port, get_settings())):
            raise Invalid(f"services.{s.name}.x-moorage.endpoint.listen_port: {why}",
                          loc=[*loc, "services", s.name, "x-moorage", "endpoint", "listen_port"])
        services.append({
            "name": s.name, "deployment": s.deployment,
            "depends_on": [list(d) for d in s.depends_on], "failure_action": s.failure_action,
            "public": wanted.public, "template": wanted.template.to_dict(),
            "replicas": wanted.replicas,
        })
        if wanted.secrets:
            values[s.name] = dict(wanted.secrets)
    return Content(text, services, list(mapped.volumes), list(mapped.networks), values,
                   tuple(sorted(secrets)))


def _wanted(entry: dict[str, Any], content_secrets: dict[str, dict[str, str]]) -> deployments.Wanted:
    try:
        template = tpl.from_dict(entry["template"])
    except tpl.TemplateError as exc:
        raise Conflict(f"service {entry['name']!r} of this stack revision cannot be read: "
                       f"{exc}") from exc
    return deployments.Wanted(dict(entry["public"]), template,
                              dict(content_secrets.get(entry["name"], {})), None,
                              int(entry["replicas"]))


def _check(session: Session, stack: Stack | None, content: Content) -> None:
    """Host paths as for any deployment; and each service's deployment name is free or
    already this stack's."""
    owner = stack.id if stack is not None else _NO_STACK
    for entry in content.services:
        binds = tpl.from_dict(entry["template"]).footprint.binds
        deployments.check_host_paths(session, binds, refused_as=f"service {entry['name']}")
        existing = deployment_repo.find_by_name(session, entry["deployment"])
        deployments.check_owner(session, existing, owner, entry["deployment"])


# ---- rollouts ---------------------------------------------------------------------------


def _start_rollout(session: Session, stack: Stack, kind: str, from_rev: int | None) -> StackRollout:
    rollout = StackRollout(stack_id=stack.id, stack_name=stack.name, kind=kind,
                           from_revision=from_rev, to_revision=stack.revision,
                           state=RolloutState.PENDING, message="", applied={},
                           created_at=utcnow())
    session.add(rollout)
    session.flush()
    for other in stack_repo.active_rollouts(session, stack.id):
        if other.id != rollout.id:
            stamp(other, RolloutState.SUPERSEDED,
                        f"superseded by stack rollout {rollout.id} ({kind} to revision "
                        f"{stack.revision})")
    stack.resource_version += 1
    stack.updated_at = utcnow()
    stack.phase = Phase.DELETING if stack.deleting else Phase.PROGRESSING
    stack.message = ""
    jobs.enqueue_stack_step(session, stack.id)
    return rollout


def _record(session: Session, stack: Stack, content: Content) -> StackRevision:
    rev = StackRevision(stack_id=stack.id, number=stack_repo.next_revision_number(session, stack.id),
                        compose=content.compose, services=content.services,
                        volumes=content.volumes, networks=content.networks,
                        secrets=content.secrets, created_at=utcnow())
    session.add(rev)
    session.flush()
    stack.revision = rev.number
    return rev


@dataclass
class ApplyResult:
    stack: Stack
    created: bool
    rollout: StackRollout | None


def apply(session: Session, name: str, content: Content, *, if_match: str | None = None) -> ApplyResult:
    """Make ``content`` the stack's desired state: a new revision and a release, unless it
    is the current revision's content already (then nothing changes)."""
    stack = stack_repo.find_by_name(session, name)
    if stack is not None:
        stack = stack_repo.get_by_name(session, name, for_update=True)
    check_if_match(if_match, stack.resource_version if stack else None)
    if stack is not None and stack.deleting:
        raise Conflict(f"stack {name!r} is being deleted")
    _check(session, stack, content)
    current = stack_repo.revision(session, stack.id, stack.revision) if stack else None
    if current is not None and content.same_as(current):
        assert stack is not None
        return ApplyResult(stack, created=False, rollout=None)
    created = stack is None
    if stack is None:
        now = utcnow()
        stack = Stack(name=name, revision=0, resource_version=0, deleting=False,
                      delete_volumes=False, phase=Phase.PENDING, message="",
                      created_at=now, updated_at=now)
        session.add(stack)
        session.flush()
    _record(session, stack, content)
    rollout = _start_rollout(session, stack, "create" if created else "update",
                             current.number if current else None)
    return ApplyResult(stack, created, rollout)


def rollback(session: Session, name: str, to_revision: int | None,
             if_match: str | None = None) -> StackRollout:
    """Revision ``to_revision`` (default: the previous one) of the whole stack, again, as
    a new revision and a release."""
    stack = stack_repo.get_by_name(session, name, for_update=True)
    check_if_match(if_match, stack.resource_version)
    if stack.deleting:
        raise Conflict(f"stack {name!r} is being deleted")
    if to_revision is None:
        to_revision = stack.revision - 1
        if to_revision < 1:
            raise Conflict(f"stack {name!r} has no previous revision")
    if to_revision == stack.revision:
        raise Conflict(f"revision {to_revision} is already the current one")
    target = stack_repo.revision(session, stack.id, to_revision)
    current = stack_repo.revision(session, stack.id, stack.revision)
    if Content.of(target).same_as(current):
        raise Conflict(f"revision {to_revision} has the same content as the current revision "
                       f"{stack.revision}")
    return _roll_back_to(session, stack, target)


def _roll_back_to(session: Session, stack: Stack, target: StackRevision) -> StackRollout:
    from_rev = stack.revision
    _record(session, stack, Content.of(target))
    return _start_rollout(session, stack, "rollback", from_rev)


def delete(session: Session, name: str, *, volumes: bool = False,
           if_match: str | None = None) -> StackRollout:
    """Remove every service (and with ``volumes`` the stack's named volumes), then the
    stack."""
    stack = stack_repo.get_by_name(session, name, for_update=True)
    check_if_match(if_match, stack.resource_version)
    if stack.deleting:
        existing = [r for r in stack_repo.active_rollouts(session, stack.id) if r.kind == "delete"]
        if existing:
            stack.delete_volumes = stack.delete_volumes or volumes
            return existing[0]
    stack.deleting = True
    stack.delete_volumes = volumes
    return _start_rollout(session, stack, "delete", stack.revision)


# ---- dry run ------------------------------------------------------------------------------


def dry_run(session: Session, name: str, content: Content) -> StackDryRun:
    """What applying ``content`` would do, per service, changing nothing."""
    stack = stack_repo.find_by_name(session, name)
    _check(session, stack, content)
    current = stack_repo.revision(session, stack.id, stack.revision) if stack else None
    new_revision = current is None or not content.same_as(current)
    plans = []
    for entry in content.services:
        wanted = _wanted(entry, content.secrets)
        plan = deployments.dry_run_wanted(session, entry["deployment"], wanted)
        existing = deployment_repo.find_by_name(session, entry["deployment"])
        change = "create" if existing is None else ("update" if plan.new_revision or plan.changes
                                                    else "unchanged")
        plans.append(StackServicePlan(service=entry["name"], deployment=entry["deployment"],
                                      change=change, plan=plan))
    wanted_names = {e["deployment"] for e in content.services}
    for d in stack_repo.services(session, [stack.id] if stack else []):
        if d.name not in wanted_names:
            plans.append(StackServicePlan(service=d.name.removeprefix(f"{name}-"),
                                          deployment=d.name, change="remove"))
    number = (current.number + 1 if new_revision else current.number) if current else 1
    return StackDryRun(new_revision=new_revision, revision=number, services=plans)


# ---- what the services show -----------------------------------------------------------------


def views(session: Session, rev: StackRevision, by_name: dict[str, Deployment],
          applied: dict[str, str | None] | None) -> list[core.ServiceView]:
    """Each service of ``rev`` as the core reads it. ``applied``: what the release has
    applied so far (None: no release, so every service counts as applied as it is)."""
    ids = [uuid.UUID(v) for v in (applied or {}).values() if v]
    rollouts = stack_repo.rollouts_by_id(session, ids)
    present = [by_name[e["deployment"]] for e in rev.services if e["deployment"] in by_name]
    done = stack_repo.completed(session, present)
    out = []
    for entry in rev.services:
        name = entry["name"]
        d = by_name.get(entry["deployment"])
        is_applied = d is not None and (applied is None or name in applied)
        rollout = None
        if applied and applied.get(name):
            rollout = rollouts.get(uuid.UUID(applied[name]))
        state = RolloutState(rollout.state) if rollout is not None else None
        if state == RolloutState.SUPERSEDED:
            is_applied, state = False, None  # something else moved it: apply it again
        out.append(core.ServiceView(
            name=name,
            depends_on=tuple((dep, cond) for dep, cond in entry["depends_on"]),
            failure_action=entry["failure_action"],
            applied=is_applied,
            rollout=state,
            rollout_message=rollout.message if rollout is not None else "",
            phase=Phase(d.phase) if d is not None else None,
            replicas=d.replicas if d is not None else int(entry["replicas"]),
            ready=d.ready_replicas if d is not None else 0,
            completed=d is not None and d.id in done,
            message=d.message if d is not None else "",
        ))
    return out


# ---- the step ---------------------------------------------------------------------------------


def step(stack_id: uuid.UUID) -> float | None:
    """One look at a stack: carry its release (or delete) one step on and write its
    status. Seconds until the next look, or None when nothing is under way."""
    with session_scope() as session:
        stack = stack_repo.lock(session, stack_id)
        if stack is None:
            return None
        active = stack_repo.active_rollouts(session, stack.id)
        rollout = active[0] if active else None
        owned = stack_repo.services(session, [stack.id])
        if stack.deleting:
            volumes = _step_delete(session, stack, rollout, owned)
            if volumes is None:
                return STEP_S
            hosts = [fleet.address(h) for h in host_repo.all_hosts(session) if h.state == "ready"]
        else:
            return _step_release(session, stack, rollout, owned)
    # Every service is gone: the volumes, outside the transaction (engine calls).
    problem = _remove_volumes(hosts, volumes)
    with session_scope() as session:
        stack = stack_repo.lock(session, stack_id)
        if stack is None:
            return None
        active = stack_repo.active_rollouts(session, stack.id)
        if problem is not None:
            if active:
                active[0].message = problem
            return STEP_S * 5
        for r in active:
            stamp(r, RolloutState.SUCCEEDED, "every service removed"
                        + (f", and volumes {', '.join(volumes)}" if volumes else ""))
        session.delete(stack)
    return None


def _step_delete(session: Session, stack: Stack, rollout: StackRollout | None,
                 owned: list[Deployment]) -> list[str] | None:
    """Delete every service; the volumes to remove once all are gone (None: not yet)."""
    if rollout is not None and rollout.state == RolloutState.PENDING:
        stamp(rollout, RolloutState.IN_PROGRESS)
    for d in owned:
        if not d.deleting:
            deployments.delete(session, d.name, owner=stack.id)
    if owned:
        if rollout is not None:
            rollout.message = f"removing {len(owned)} service(s): {', '.join(d.name for d in owned)}"
        return None
    if not stack.delete_volumes:
        return []
    return sorted({v for rev_volumes in _all_volumes(session, stack) for v in rev_volumes})


def _all_volumes(session: Session, stack: Stack) -> list[list[str]]:
    rows, _ = stack_repo.revisions_page(session, stack.id, 1000, None)
    return [list(r.volumes) for r in rows]


def _remove_volumes(hosts, volumes: list[str]) -> str | None:
    problems = []
    for address in hosts:
        client = client_for(address)
        for name in volumes:
            try:
                client.remove_volume(name)
            except EngineError as exc:
                problems.append(str(exc))
    return "; ".join(problems) or None


def _deadline_s(rev: StackRevision) -> float:
    """The longest progress deadline of the revision's services."""
    return max((float(tpl.from_dict(e["template"]).update_strategy.progress_deadline_s)
                for e in rev.services), default=600.0)


def _step_release(session: Session, stack: Stack, rollout: StackRollout | None,
                  owned: list[Deployment]) -> float | None:
    rev = stack_repo.revision(session, stack.id, stack.revision)
    by_name = {d.name: d for d in owned}
    if rollout is None:
        # Nothing under way: only the aggregate status.
        s = core.status(views(session, rev, by_name, None), releasing=False,
                        failed=stack.message if stack.phase == Phase.FAILED else None)
        stack.phase, stack.message = s.phase, s.message
        return None
    if rollout.state == RolloutState.PENDING:
        stamp(rollout, RolloutState.IN_PROGRESS)
    wanted = {e["deployment"] for e in rev.services}
    for d in owned:
        if d.name not in wanted and not d.deleting:
            deployments.delete(session, d.name, owner=stack.id)
    applied = dict(rollout.applied or {})
    seen = views(session, rev, by_name, applied)
    now = utcnow()
    mark = core.progress_mark(seen)
    if rollout.progress_mark is None or mark > rollout.progress_mark:
        rollout.progress_mark, rollout.last_progress_at = mark, now
    stalled_s = (now - (rollout.last_progress_at or now)).total_seconds()
    # A rollback that fails is not rolled back again: it fails with the truth.
    target = None if rollout.kind == "rollback" else stack_repo.last_succeeded_revision(
        session, stack.id, exclude=stack.revision)
    decision = core.decide(seen, rollback_target=target, stalled_s=stalled_s,
                           deadline_s=_deadline_s(rev))
    entries = {e["name"]: e for e in rev.services}
    for name in decision.apply:
        entry = entries[name]
        result = deployments.apply_owned(
            session, entry["deployment"], _wanted(entry, dict(rev.secrets or {})), stack.id,
            kind="rollback" if rollout.kind == "rollback" else None)
        applied[name] = str(result.rollout.id) if result.rollout is not None else None
    rollout.applied = applied
    stack.phase, stack.message = decision.status.phase, decision.status.message
    if decision.outcome is None:
        rollout.message = decision.message
        return STEP_S
    stamp(rollout, decision.outcome, decision.message)
    if decision.outcome == RolloutState.ROLLED_BACK:
        assert decision.roll_back_to is not None
        _roll_back_to(session, stack, stack_repo.revision(session, stack.id, decision.roll_back_to))
        return STEP_S
    return None
