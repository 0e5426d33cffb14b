"""Desired state: apply, patch, roll back and delete deployments; read them back."""

from __future__ import annotations

import dataclasses
import uuid
from dataclasses import dataclass
from typing import Any

from pydantic import ValidationError
from sqlalchemy.orm import Session

from app import jobs
from app.config import get_settings
from app.db import utcnow
from app.errors import Conflict, Invalid
from app.image_refs import registry_of
from app.models import Deployment, Host, Replica, Revision, Rollout
from app.reconcile import autoscale as autoscale_rules
from app.reconcile import template as tpl
from app.reconcile.host_access import Bind
from app.reconcile.planner import plan
from app.reconcile.scheduler import bind_refusals
from app.reconcile.types import Create, Remove, Start
from app.reconcile.vocabulary import Phase, RolloutState, observed_state
from app.repositories import autoscaler as autoscaler_repo
from app.repositories import deployments as deployment_repo
from app.repositories import events as event_repo
from app.repositories import hosts as host_repo
from app.repositories import replicas as replica_repo
from app.repositories import rollouts as rollout_repo
from app.repositories import stacks as stack_repo
from app.schemas.deployments import (
    IMAGE_REF,
    DeploymentSpec,
    DryRunResult,
    FieldChange,
    PlannedAction,
)
from app.services import endpoints, fleet, installation, specs
from app.services.preconditions import check_if_match
from app.services.rollouts import transition


@dataclass
class ApplyResult:
    deployment: Deployment
    created: bool
    rollout: Rollout | None
    # The deployment's current revision once applied (None: not at hand; an unchanged
    # apply, a delete).
    revision: Revision | None = None


@dataclass(frozen=True)
class Wanted:
    """What an apply asks for: a revision's content (public spec, typed template,
    write-only values) and, apart from it, the deployment's replica count. Made from a
    validated request, or from a stored revision without validating it again (a
    rollback, a restart: the request model may have changed since it was stored)."""

    public: dict[str, Any]
    template: tpl.Template
    secrets: dict[str, str]
    password: str | None
    replicas: int
    # The deployment's autoscale policy (spec.autoscale as JSON), like replicas not a
    # revision's.
    autoscale: dict[str, Any] | None = None

    @classmethod
    def from_spec(cls, spec: DeploymentSpec) -> Wanted:
        return cls(specs.public_spec(spec), specs.template(spec), dict(spec.secrets),
                   specs.registry_password(spec), spec.replicas,
                   spec.autoscale.model_dump(mode="json") if spec.autoscale else None)

    @classmethod
    def from_revision(cls, revision: Revision, replicas: int,
                      autoscale: dict[str, Any] | None = None) -> Wanted:
        return cls(dict(revision.spec), tpl.from_dict(revision.template),
                   dict(revision.secrets), revision.registry_password, replicas, autoscale)


def current_revision(session: Session, deployment: Deployment) -> Revision:
    return deployment_repo.revision(session, deployment.id, deployment.revision)


def _describe(changes: list[tuple[str, Any, Any]]) -> str:
    parts = []
    for path, old, new in changes[:5]:
        if path.startswith(("secrets", "registry_auth.password")):
            parts.append(f"{path} changed")
        else:
            parts.append(f"{path}: {old!r} → {new!r}")
    more = f" (+{len(changes) - 5} more)" if len(changes) > 5 else ""
    return "; ".join(parts) + more


def _secret_changes(
    previous: Revision | None, secrets: dict[str, str], password: str | None
) -> list[tuple[str, Any, Any]]:
    # Values never leave the server: a diff names the key and says how it changed.
    old = previous.secrets if previous else {}
    out = []
    for key in sorted(set(old) | set(secrets)):
        if key not in old:
            out.append((f"secrets.{key}", None, "(set)"))
        elif key not in secrets:
            out.append((f"secrets.{key}", "(set)", None))
        elif old[key] != secrets[key]:
            out.append((f"secrets.{key}", "(set)", "(changed)"))
    old_password = previous.registry_password if previous else None
    if old_password != password:
        out.append(("registry_auth.password", "(set)" if old_password else None,
                    ("(changed)" if old_password else "(set)") if password else None))
    return out


def _supersede_active(session: Session, deployment: Deployment, by: Rollout) -> None:
    for rollout in rollout_repo.active(session, deployment.id):
        if rollout.id == by.id:
            continue
        transition(session, rollout, "superseded",
                   f"superseded by rollout {by.id} ({by.kind} to revision {by.to_revision})")


def _start_rollout(
    session: Session, deployment: Deployment, kind: str, from_rev: int | None, replicas: int
) -> Rollout:
    rollout = Rollout(
        deployment_id=deployment.id,
        deployment_name=deployment.name,
        kind=kind,
        from_revision=from_rev,
        to_revision=deployment.revision,
        state=RolloutState.PENDING,
        desired=replicas,
        created_at=utcnow(),
    )
    session.add(rollout)
    session.flush()
    _supersede_active(session, deployment, rollout)
    return rollout


def _mark_desired_changed(deployment: Deployment) -> None:
    deployment.generation += 1
    deployment.resource_version += 1
    deployment.updated_at = utcnow()
    deployment.next_reconcile_at = None
    deployment.phase = Phase.DELETING if deployment.deleting else Phase.PROGRESSING


def same_spec(revision: Revision, wanted: Wanted) -> bool:
    """Whether ``revision`` already is what ``wanted`` asks for, the replica count aside
    (that is the deployment's). Compared directly, typed template against typed
    template, plus the secret values and the registry password (opened from their
    sealed columns), not by spec hash: a hash covered ``replicas``, revisions made
    before 0012 hold unkeyed ones, and a template converted from an old, sparser spec
    (defaults filled in) equals the one the same spec makes today."""
    return (_template_of(revision) == wanted.template
            and dict(revision.secrets) == wanted.secrets
            and revision.registry_password == wanted.password)


def _template_of(revision: Revision) -> tpl.Template | None:
    """A stored revision's template; None when it cannot be read (from a newer Moorage,
    or damaged): it then equals nothing an apply asks for."""
    try:
        return tpl.from_dict(revision.template)
    except tpl.TemplateError:
        return None


def _template_hash(
    session: Session,
    public: dict[str, Any],
    secrets: dict[str, str],
    nonce: str,
    earlier: list[Revision | None],
) -> str:
    """The keyed template hash; but a template an earlier revision (made before 0012)
    holds under its unkeyed hash keeps that one, so a change that leaves the template
    alone (a new registry password, a rollback to it) replaces no container. That hash
    is already in those containers' names: reusing it tells a reader nothing new, and
    no new template is ever hashed unkeyed."""
    unkeyed = specs.unkeyed_template_hash(public, secrets, nonce)
    if any(r is not None and r.template_hash == unkeyed for r in earlier):
        return unkeyed
    return specs.template_hash(installation.hash_key(session), public, secrets, nonce)


def _record_revision(
    session: Session,
    deployment: Deployment,
    wanted: Wanted,
    nonce: str,
    earlier: list[Revision | None],
    number: int,
    pinned: Revision | None = None,
    repin: bool = False,
) -> Revision:
    """Revision ``number`` (the next one: the caller read the last under the
    deployment's lock). ``pinned``: the revision whose resolved image this one keeps (its
    digest and pull reference), set before the insert so it is one statement."""
    public, secrets, password = wanted.public, wanted.secrets, wanted.password
    rev = Revision(
        deployment_id=deployment.id,
        number=number,
        spec=public,
        template=wanted.template.to_dict(),
        secrets=secrets,
        registry_password=password,
        template_hash=_template_hash(session, public, secrets, nonce, earlier),
        spec_hash=specs.spec_hash(installation.hash_key(session), public, secrets, password),
        restart_nonce=nonce,
        image_digest=pinned.image_digest if pinned else None,
        image_pull_ref=pinned.image_pull_ref if pinned else None,
        pin_from_registry=repin,
        created_at=utcnow(),
    )
    session.add(rev)
    session.flush()
    return rev


def apply(
    session: Session,
    name: str,
    spec: DeploymentSpec,
    *,
    if_match: str | None = None,
    must_create: bool = False,
    kind: str | None = None,
    repin: bool = False,
) -> ApplyResult:
    """Make ``spec`` the desired state. A spec equal to the current one changes nothing;
    one that differs from it only in ``replicas`` is a scale (no revision).

    ``repin``: the image reference may be unchanged but its tag has moved (a registry
    said so): make a revision anyway, resolve the reference afresh and replace every
    replica with the image it means now."""
    return _apply(session, name, Wanted.from_spec(spec), if_match=if_match,
                  must_create=must_create, kind=kind, repin=repin)


def check_owner(session: Session, deployment: Deployment | None,
                owner: uuid.UUID | None = None, name: str | None = None) -> None:
    """A stack's service is changed only through its stack (409 naming it), also before
    its release has made it (``name``: the deployment's, when there is none yet); and a
    stack never takes over a deployment, or a name, that is not its own."""
    if deployment is None:
        claimant = stack_repo.claiming(session, name) if name is not None else None
        if claimant is not None and claimant.id != owner:
            raise Conflict(f"deployment {name!r} is a service of stack {claimant.name!r}: "
                           f"change it through /v1/stacks/{claimant.name}")
        return
    if deployment.stack_id == owner:
        return
    if deployment.stack_id is None:
        raise Conflict(f"deployment {deployment.name!r} exists and is no stack's service: "
                       "rename the service, or delete that deployment first")
    stack = stack_repo.find(session, deployment.stack_id)
    stack_name = stack.name if stack else str(deployment.stack_id)
    raise Conflict(f"deployment {deployment.name!r} belongs to stack {stack_name!r}: change "
                   f"it through /v1/stacks/{stack_name}")


def apply_owned(session: Session, name: str, wanted: Wanted, stack_id: uuid.UUID,
                kind: str | None = None) -> ApplyResult:
    """Apply a stack's service (app.services.stacks): its deployment belongs to the stack
    and is made so. ``wanted`` is the stack revision's stored content, not re-validated.
    A ``rollback`` runs the very image the deployment last ran with that template (as a
    deployment's own rollback does), even if its tag has moved since."""
    image_of = None
    if kind == "rollback" and (deployment := deployment_repo.find_by_name(session, name)):
        image_of = _last_with_template(session, deployment, wanted.template)
    return _apply(session, name, wanted, kind=kind, owner=stack_id, image_of=image_of)


def _last_with_template(session: Session, deployment: Deployment, template: tpl.Template,
                        look_back: int = 50) -> Revision | None:
    """The newest of the deployment's last ``look_back`` revisions made from ``template``."""
    rows, _ = deployment_repo.revisions_page(session, deployment.id, look_back, None)
    return next((r for r in rows if _template_of(r) == template), None)


def _admit(session: Session, name: str, deployment: Deployment | None, *,
           if_match: str | None = None, must_create: bool = False,
           owner: uuid.UUID | None = None) -> None:
    """Whether an apply may go ahead, before its content is looked at: the same for the
    apply and its dry run, which must refuse whatever the apply would."""
    if must_create and deployment is not None:
        raise Conflict(f"deployment {name!r} already exists")
    check_owner(session, deployment, owner, name)
    check_if_match(if_match, deployment.resource_version if deployment else None)
    if deployment is not None and deployment.deleting:
        raise Conflict(f"deployment {name!r} is being deleted")


def _apply(
    session: Session,
    name: str,
    wanted: Wanted,
    *,
    if_match: str | None = None,
    must_create: bool = False,
    kind: str | None = None,
    restart: bool = False,
    repin: bool = False,
    image_of: Revision | None = None,
    refused_as: str = "",
    owner: uuid.UUID | None = None,
) -> ApplyResult:
    """``image_of``: run the very image that revision pinned (a rollback goes back to what
    ran, even if its tag has moved since). ``refused_as``: what a refusal says the
    spec is (a stored revision's, not the caller's). ``owner``: the stack applying it
    (a deployment of a stack is changed only by it)."""
    deployment = deployment_repo.find_by_name(session, name, for_update=True)
    _admit(session, name, deployment, if_match=if_match, must_create=must_create, owner=owner)
    check_host_paths(session, wanted.template.footprint.binds, refused_as)
    wanted = _autoscaled(deployment, wanted)
    previous, last_number = None, 0
    if deployment is not None:  # locked: the last number is read in the same statement
        previous, last_number = deployment_repo.revision_and_last_number(
            session, deployment.id, deployment.revision)
    fresh = restart or repin
    if previous is not None and not fresh and same_spec(previous, wanted):
        assert deployment is not None
        if deployment.autoscale != wanted.autoscale:
            _set_autoscale(session, deployment, wanted.autoscale)
        if deployment.replicas == wanted.replicas:
            return ApplyResult(deployment, created=False, rollout=None)
        return _scale(session, deployment, previous, wanted.replicas)

    created = deployment is None
    if deployment is None:
        now = utcnow()
        deployment = Deployment(
            name=name, labels=dict(wanted.template.container.labels), revision=0,
            generation=0, resource_version=0, replicas=wanted.replicas, created_at=now,
            updated_at=now, slot_restarts={}, autoscale=wanted.autoscale, stack_id=owner,
        )
        session.add(deployment)
        session.flush()

    changes = _changes(previous, deployment.replicas if previous else None,
                       deployment.autoscale if previous else None, wanted)
    # The restart nonce carries over, so a later change does not undo a restart's work.
    nonce = uuid.uuid4().hex if fresh else (previous.restart_nonce if previous else "")
    pinned = image_of or previous
    # The same reference keeps its pinned image: only a new apply of a new reference (or
    # a webhook) moves a deployment to whatever a tag means now.
    keeps_image = (pinned is not None and not repin
                   and (held := _template_of(pinned)) is not None
                   and held.container.image == wanted.template.container.image)
    rev = _record_revision(session, deployment, wanted, nonce, earlier=[previous, image_of],
                           number=last_number + 1, pinned=pinned if keeps_image else None,
                           repin=repin)
    kind = kind or ("create" if created else "update")

    deployment.revision = rev.number
    endpoints.assign_listen_port(session, deployment, wanted.template.endpoint, get_settings())
    deployment.labels = dict(wanted.template.container.labels)
    deployment.replicas = wanted.replicas
    if deployment.autoscale != wanted.autoscale:
        deployment.autoscale = wanted.autoscale  # the revision's message lists the change
        if wanted.autoscale is None:
            autoscaler_repo.forget(session, deployment.id)
    _mark_desired_changed(deployment)
    rollout = _start_rollout(
        session, deployment, kind, previous.number if previous else None, wanted.replicas
    )
    message = f"revision {rev.number} ({kind})"
    if previous is not None:
        described = _describe(changes)
        if repin and not described:
            described = f"{wanted.template.container.image} moved; the image is resolved again"
        message += f": {described}"
    event_repo.record(session, deployment.id, "RevisionCreated", message, rollout_id=rollout.id)
    jobs.enqueue_reconcile_locked(session, deployment)
    return ApplyResult(deployment, created=created, rollout=rollout, revision=rev)


def _changes(
    previous: Revision | None, replicas: int | None, autoscale: dict[str, Any] | None,
    wanted: Wanted,
) -> list[tuple[str, Any, Any]]:
    """What differs from the current revision, replica count and autoscaling, field by
    field."""
    old = ({**previous.spec, "replicas": replicas, "autoscale": autoscale}
           if previous is not None else {})
    changes = specs.diff(old, {**wanted.public, "replicas": wanted.replicas,
                               "autoscale": wanted.autoscale})
    return changes + _secret_changes(previous, wanted.secrets, wanted.password)


def _scale(
    session: Session, deployment: Deployment, current: Revision, replicas: int,
    why: str | None = None,
) -> ApplyResult:
    """Only the replica count changed: the deployment's, so no revision is made. The
    rollout (kind ``scale``) goes from the current revision to itself. ``why``: the
    autoscaler's reason, which its event tells."""
    was = deployment.replicas
    deployment.replicas = replicas
    _mark_desired_changed(deployment)
    rollout = _start_rollout(session, deployment, "scale", current.number, replicas)
    message = f"autoscaler: {why}" if why else f"replicas {was} → {replicas}"
    event_repo.record(session, deployment.id, "Scaled", message, rollout_id=rollout.id)
    jobs.enqueue_reconcile_locked(session, deployment)
    return ApplyResult(deployment, created=False, rollout=rollout, revision=current)


def autoscale_to(session: Session, deployment: Deployment, replicas: int, why: str) -> ApplyResult:
    """The autoscaler's scale (the deployment locked by the caller): the path an apply's
    scale takes, a ``Scaled`` event with the autoscaler's reason and a ``scale`` rollout."""
    return _scale(session, deployment, current_revision(session, deployment), replicas, why)


def _autoscaled(deployment: Deployment | None, wanted: Wanted) -> Wanted:
    """While autoscale is set, the autoscaler owns the count: an apply's ``replicas`` is
    only where it starts (a new deployment, or autoscale newly set); after that the
    count stays the autoscaler's, within the policy's bounds."""
    if wanted.autoscale is None:
        return wanted
    policy = autoscale_rules.Policy.from_dict(wanted.autoscale)
    owned = deployment is not None and deployment.autoscale is not None
    start = deployment.replicas if owned and deployment is not None else wanted.replicas
    return dataclasses.replace(wanted, replicas=policy.clamp(start))


def _set_autoscale(session: Session, deployment: Deployment, policy: dict[str, Any] | None) -> None:
    """A new autoscale policy and nothing else: no revision, no container replaced."""
    deployment.autoscale = policy
    deployment.resource_version += 1
    deployment.updated_at = utcnow()
    if policy is None:
        autoscaler_repo.forget(session, deployment.id)
        message = f"autoscale off: replicas stay at {deployment.replicas}"
    else:
        p = autoscale_rules.Policy.from_dict(policy)
        memory = (f", memory {p.target_memory_percent:g}%" if p.target_memory_percent else "")
        message = (f"autoscale {p.min_replicas}–{p.max_replicas} replicas, targets CPU "
                   f"{p.target_cpu_percent:g}%{memory}; windows up {p.scale_up_window_s:g} s, "
                   f"down {p.scale_down_window_s:g} s")
    event_repo.record(session, deployment.id, "AutoscaleChanged", message)


class HostPathRefused(Invalid):
    """Host paths (bind mounts) that no admin allows: each named by its field."""

    def __init__(self, refusals: list[tuple[int | None, str]], refused_as: str = "") -> None:
        def loc(index: int | None) -> list[str | int]:
            return ["body", "volumes"] if index is None else ["body", "volumes", index, "source"]

        first_index, first = refusals[0]
        field = ".".join(str(p) for p in loc(first_index)[1:])
        prefix = f"{refused_as}: " if refused_as else ""
        super().__init__(f"{prefix}{field}: {first}", loc=loc(first_index))
        self.extra["errors"] = [{"loc": loc(i), "msg": why, "type": "host_path_refused"}
                                for i, why in refusals]


def check_host_paths(session: Session, binds: tuple[Bind, ...], refused_as: str = "") -> None:
    """Refuse (422) binds of host paths that no admin allows: not the global entries,
    not any host's (and any bind that is not a usable path at all, stored before paths
    were checked). The same rule for every token; the reconciler checks again when it
    places replicas (app.reconcile.scheduler)."""
    if not binds:
        return
    global_allow = get_settings().bind_allow
    views = fleet.views(host_repo.all_hosts(session), global_allow)
    if refusals := bind_refusals(binds, global_allow, views):
        raise HostPathRefused(refusals, refused_as)


def stored_spec(revision: Revision, replicas: int,
                autoscale: dict[str, Any] | None = None) -> dict[str, Any]:
    """The full spec of a revision (with secret values) at the deployment's replica
    count and autoscaling, as a merge-patch base."""
    return specs.stored_spec(revision.spec, revision.secrets, revision.registry_password,
                             replicas, autoscale)


def patched_spec(session: Session, name: str, patch: Any) -> DeploymentSpec:
    if not isinstance(patch, dict):
        raise Invalid("a merge patch must be a JSON object", loc=["body"])
    # Locked: the patch must merge into the revision current when it is applied, or a
    # concurrent change would be silently undone.
    deployment = deployment_repo.get_by_name(session, name, for_update=True)
    check_owner(session, deployment)
    current = current_revision(session, deployment)
    base = stored_spec(current, deployment.replicas, deployment.autoscale)
    merged = specs.merge_patch(base, patch)
    given = isinstance(patch.get("registry_auth"), dict) and "password" in patch["registry_auth"]
    if merged.get("registry_auth") is not None and not given and isinstance(merged.get("image"), str):
        _keep_credentials_with_their_registry(current, merged["image"])
    try:
        return DeploymentSpec.model_validate(merged)
    except ValidationError as exc:
        raise RequestInvalid(exc) from exc


def _keep_credentials_with_their_registry(current: Revision, image: str) -> None:
    """A deployment's own registry password was given for the registry of the image it
    came with. A change that keeps the password without giving it again (a patch, a
    webhook's new image) must not send it to another registry: whoever may deploy could
    otherwise point the image at a registry of theirs and read the password from its
    login. Refused instead: give registry_auth again, or null to pull without it."""
    if current.registry_password is None:
        return
    was = registry_of(current.spec["image"])
    now = registry_of(image) if IMAGE_REF.match(image) else was  # the spec check says why
    if now != was:
        raise Invalid(f"the deployment's registry_auth was given for {was}; an image from {now} "
                      "needs registry_auth given again (with its password), or null to pull "
                      "without it", loc=["body", "registry_auth"])


class RequestInvalid(Invalid):
    """A validation error found after parsing (e.g. a merge patch's result)."""

    def __init__(self, exc: ValidationError, detail: str = "the resulting spec is invalid") -> None:
        super().__init__(detail)
        self.extra = {
            "errors": [
                {"loc": ["body", *e["loc"]], "msg": e["msg"], "type": e["type"]}
                for e in exc.errors(include_url=False, include_input=False)
            ]
        }


def rollback(
    session: Session, name: str, to_revision: int | None, if_match: str | None = None
) -> ApplyResult:
    deployment = deployment_repo.get_by_name(session, name, for_update=True)
    check_owner(session, deployment)
    check_if_match(if_match, deployment.resource_version)
    if to_revision is None:
        to_revision = deployment.revision - 1
        if to_revision < 1:
            raise Conflict(f"deployment {name!r} has no previous revision")
    if to_revision == deployment.revision:
        raise Conflict(f"revision {to_revision} is already the current one")
    target = deployment_repo.revision(session, deployment.id, to_revision)
    current = current_revision(session, deployment)
    if same_spec(current, _wanted_from(target, deployment)):
        # Applying it would change nothing, so there would be no rollout to answer with.
        raise Conflict(
            f"revision {to_revision} has the same spec as the current revision "
            f"{deployment.revision}"
        )
    return roll_back_to(session, deployment, to_revision)


def roll_back_to(session: Session, deployment: Deployment, to_revision: int) -> ApplyResult:
    """Make revision ``to_revision``'s template current again, as a new revision and a
    ``rollback`` rollout. Also what a worker writes when the reconcile core settled a
    failed rollout as rolled back (app.reconcile.decide.settle judged it possible).

    The target's template, at the current replica count: a rollback restores what ran,
    not how many. Not validated again by the request model (which may have changed
    since); host paths are checked."""
    target = deployment_repo.revision(session, deployment.id, to_revision)
    return _apply(session, deployment.name, _wanted_from(target, deployment),
                  kind="rollback", image_of=target, owner=deployment.stack_id,
                  refused_as=f"revision {to_revision}'s spec is no longer valid")


def _wanted_from(revision: Revision, deployment: Deployment) -> Wanted:
    """A stored revision as an apply's content, at the deployment's replica count and
    autoscaling; one whose template cannot be read (from a newer Moorage, or damaged) is
    a conflict that names it, never a server error."""
    try:
        return Wanted.from_revision(revision, deployment.replicas, deployment.autoscale)
    except tpl.TemplateError as exc:
        raise Conflict(f"revision {revision.number} cannot be read: {exc}") from exc


def update_image(session: Session, name: str, image: str, *, repin: bool) -> ApplyResult:
    """The current revision with another image reference (a webhook's push): the stored
    template and public spec with only the image replaced, never re-validated by the
    request model (which may have changed since the revision was stored). ``repin``: the
    reference is the same but its tag moved: resolve it afresh."""
    if not IMAGE_REF.match(image) or len(image) > 512:
        raise Invalid(f"{image!r} is not a valid image reference", loc=["body"])
    deployment = deployment_repo.get_by_name(session, name, for_update=True)
    revision = current_revision(session, deployment)
    _keep_credentials_with_their_registry(revision, image)
    current = _wanted_from(revision, deployment)
    template = dataclasses.replace(
        current.template, container=dataclasses.replace(current.template.container, image=image))
    wanted = dataclasses.replace(current, public={**current.public, "image": image},
                                 template=template)
    return _apply(session, name, wanted, kind="update", repin=repin,
                  refused_as=f"revision {deployment.revision}'s spec is no longer valid")


def restart(session: Session, name: str, if_match: str | None = None) -> ApplyResult:
    """Replace every replica with a fresh container of the same spec, rolling."""
    deployment = deployment_repo.get_by_name(session, name, for_update=True)
    check_if_match(if_match, deployment.resource_version)
    if deployment.deleting:
        raise Conflict(f"deployment {name!r} is being deleted")
    current = current_revision(session, deployment)
    return _apply(session, name, _wanted_from(current, deployment),
                  kind="restart", restart=True,
                  refused_as=f"revision {current.number}'s spec is no longer valid")


def delete(session: Session, name: str, if_match: str | None = None,
           owner: uuid.UUID | None = None) -> Rollout:
    """``owner``: the stack deleting its own service (anyone else gets a 409 naming it)."""
    deployment = deployment_repo.get_by_name(session, name, for_update=True)
    check_owner(session, deployment, owner)
    check_if_match(if_match, deployment.resource_version)
    if deployment.deleting:
        existing = [r for r in rollout_repo.active(session, deployment.id) if r.kind == "delete"]
        if existing:
            return existing[0]
    deployment.deleting = True
    _mark_desired_changed(deployment)
    rollout = _start_rollout(session, deployment, "delete", deployment.revision, 0)
    event_repo.record(session, deployment.id, "DeleteRequested", "removing every replica",
                      rollout_id=rollout.id)
    jobs.enqueue_reconcile(session, deployment.id)
    return rollout


# ---- dry run --------------------------------------------------------------------------


def _observed_from_records(replicas: list[Replica], hosts: dict[uuid.UUID, Host]):
    for r in replicas:
        host = hosts.get(r.host_id)
        if host is not None:
            # Read back exactly as a real pass recorded it (one mapping, both ways).
            yield fleet.observed_from_record(r, host.name, observed_state(r.state))


def dry_run(session: Session, name: str, spec: DeploymentSpec,
            if_match: str | None = None) -> DryRunResult:
    """What apply would do, from the last observation, without changing anything; what
    apply would refuse (a stack's service, one being deleted, a stale If-Match) it
    refuses alike."""
    _admit(session, name, deployment_repo.find_by_name(session, name), if_match=if_match)
    return dry_run_wanted(session, name, Wanted.from_spec(spec))


def dry_run_wanted(session: Session, name: str, wanted: Wanted) -> DryRunResult:
    """The same for content already made (a stack's service: its stack's dry run has
    admitted it, as its apply does)."""
    deployment = deployment_repo.find_by_name(session, name)
    wanted = _autoscaled(deployment, wanted)
    check_host_paths(session, wanted.template.footprint.binds)
    endpoints.check_listen_port(wanted.template.endpoint, get_settings())
    previous = current_revision(session, deployment) if deployment else None
    changes = _changes(previous, deployment.replicas if deployment else None,
                       deployment.autoscale if deployment else None, wanted)
    new_revision = previous is None or not same_spec(previous, wanted)
    number = (previous.number + 1 if new_revision else previous.number) if previous else 1
    if previous is not None and not new_revision:
        t_hash = previous.template_hash  # a scale: the very containers that run now
    else:
        t_hash = _template_hash(session, wanted.public, wanted.secrets,
                                previous.restart_nonce if previous else "", [previous])
    desired = wanted.template.desired(name, number, wanted.replicas, t_hash)

    all_hosts = host_repo.all_hosts(session)
    records = replica_repo.for_deployment(session, deployment.id) if deployment else []
    observed = list(_observed_from_records(records, {h.id: h for h in all_hosts}))
    result = plan(desired, observed, fleet.views(all_hosts, get_settings().bind_allow),
                  now=utcnow())
    actions = []
    for a in result.actions:
        if isinstance(a, Create):
            actions.append(PlannedAction(action="create", host=a.host, slot=a.slot, reason=a.reason))
        elif isinstance(a, (Remove, Start)):
            verb = "remove" if isinstance(a, Remove) else "start"
            actions.append(
                PlannedAction(action=verb, host=a.container.host, slot=a.container.slot,
                              reason=a.reason)
            )
    return DryRunResult(
        new_revision=new_revision,
        revision=number,
        changes=[FieldChange(path=p, old=o, new=n) for p, o, n in changes],
        actions=actions,
        pending=list(result.pending),
    )
