"""From an API spec to what is stored (revision) and what is planned (Desired)."""

from __future__ import annotations

import hashlib
import json
from typing import Any

from app.reconcile.host_access import binds_of
from app.reconcile.types import Desired, Placement, Strategy
from app.schemas.deployments import DeploymentSpec

# What a container is made from. Replicas, placement, health checks, restart policy and
# the update strategy are Moorage's business, so changing them replaces no container.
TEMPLATE_FIELDS = ("image", "command", "entrypoint", "env", "ports", "resources", "labels", "volumes")


def _digest(value: Any) -> str:
    return hashlib.sha256(json.dumps(value, sort_keys=True, separators=(",", ":")).encode()).hexdigest()


def public_spec(spec: DeploymentSpec) -> dict[str, Any]:
    """The spec without its write-only values (secret values, the registry password)."""
    public = spec.model_dump(mode="json", exclude={"secrets": True, "registry_auth": {"password"}})
    if public.get("registry_auth") is None:
        # Absent rather than null, so revisions made before the field existed hash alike.
        public.pop("registry_auth", None)
    return public


def registry_password(spec: DeploymentSpec) -> str | None:
    return spec.registry_auth.password if spec.registry_auth else None


def stored_spec(public: dict[str, Any], secrets: dict[str, str], password: str | None) -> dict:
    """The full spec again, write-only values included (a merge-patch base)."""
    full: dict[str, Any] = {**public, "secrets": dict(secrets)}
    if public.get("registry_auth") is not None and password is not None:
        full["registry_auth"] = {**public["registry_auth"], "password": password}
    return full


def template_hash(public: dict[str, Any], secrets: dict[str, str], nonce: str = "") -> str:
    """Registry credentials are not part of it: a new password replaces no container."""
    template = {k: public.get(k) for k in TEMPLATE_FIELDS}
    return _digest({"template": template, "secrets": secrets, "nonce": nonce})


def spec_hash(public: dict[str, Any], secrets: dict[str, str], password: str | None = None) -> str:
    hidden: dict[str, Any] = {"spec": public, "secrets": secrets}
    if password is not None:
        hidden["registry_password"] = password
    return _digest(hidden)


def to_desired(
    name: str,
    revision: int,
    public: dict[str, Any],
    t_hash: str,
    *,
    deleting: bool = False,
    settle_s: float = 0.0,
) -> Desired:
    """``settle_s`` is a floor under min_ready_s: a container that dies at once must not
    look ready in the instant between its start and its exit."""
    # Volumes are read as stored, not validated again: a revision made before host paths
    # were checked may hold one that is no longer valid, and then no host may bind it.
    spec = DeploymentSpec.model_validate(
        {k: v for k, v in public.items() if k not in ("registry_auth", "volumes")})
    strategy = spec.update_strategy
    fixed_ports = tuple(
        sorted((p.host_port, p.protocol) for p in spec.ports if p.host_port is not None)
    )
    return Desired(
        deployment=name,
        revision=revision,
        template_hash=t_hash,
        replicas=spec.replicas,
        restart_policy=spec.restart_policy,
        strategy=Strategy(
            strategy.max_surge, strategy.max_unavailable, max(strategy.min_ready_s, settle_s)
        ),
        placement=Placement(
            constraints=tuple(spec.placement.constraints),
            max_per_host=spec.placement.max_per_host,
            host_ports=fixed_ports,
            cpus=spec.resources.cpus or 0.0,
            memory_bytes=(spec.resources.memory_mb or 0) * 1024 * 1024,
            binds=binds_of(public.get("volumes") or []),
        ),
        deleting=deleting,
    )


def diff(old: Any, new: Any, path: str = "") -> list[tuple[str, Any, Any]]:
    """Field-by-field differences between two JSON values, as (path, old, new)."""
    if isinstance(old, dict) and isinstance(new, dict):
        out: list[tuple[str, Any, Any]] = []
        for key in sorted(set(old) | set(new)):
            sub = f"{path}.{key}" if path else str(key)
            out += diff(old.get(key), new.get(key), sub)
        return out
    return [] if old == new else [(path, old, new)]


def merge_patch(target: Any, patch: Any) -> Any:
    """RFC 7396 JSON merge patch."""
    if not isinstance(patch, dict):
        return patch
    result = dict(target) if isinstance(target, dict) else {}
    for key, value in patch.items():
        if value is None:
            result.pop(key, None)
        else:
            result[key] = merge_patch(result.get(key), value)
    return result
