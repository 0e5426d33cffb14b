"""From an API spec to what is stored (revision) and what is planned (Desired)."""

from __future__ import annotations

import hashlib
import hmac
import json
from typing import Any

from app.reconcile.host_access import binds_of
from app.reconcile.types import Desired, Placement, Strategy
from app.schemas.deployments import DeploymentSpec

# What a container is made from. Replicas, placement, health checks, restart policy and
# the update strategy are Moorage's business, so changing them replaces no container.
TEMPLATE_FIELDS = ("image", "command", "entrypoint", "env", "ports", "resources", "labels", "volumes")


def _canonical(value: Any) -> bytes:
    return json.dumps(value, sort_keys=True, separators=(",", ":")).encode()


def _keyed(key: bytes, value: Any) -> str:
    return hmac.new(key, _canonical(value), hashlib.sha256).hexdigest()


def _unkeyed(value: Any) -> str:
    return hashlib.sha256(_canonical(value)).hexdigest()


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


def _template(public: dict[str, Any], secrets: dict[str, str], nonce: str) -> dict[str, Any]:
    template = {k: public.get(k) for k in TEMPLATE_FIELDS}
    return {"template": template, "secrets": secrets, "nonce": nonce}


def _hidden(public: dict[str, Any], secrets: dict[str, str], password: str | None) -> dict:
    hidden: dict[str, Any] = {"spec": public, "secrets": secrets}
    if password is not None:
        hidden["registry_password"] = password
    return hidden


def template_hash(
    key: bytes, public: dict[str, Any], secrets: dict[str, str], nonce: str = ""
) -> str:
    """What names a container (a prefix of it) and labels it. Keyed with the
    installation's hash key: it covers secret values, and a reader sees container names,
    so it must be nothing a guess at a secret can be checked against. Registry
    credentials are not part of it: a new password replaces no container."""
    return _keyed(key, _template(public, secrets, nonce))


def spec_hash(
    key: bytes, public: dict[str, Any], secrets: dict[str, str], password: str | None = None
) -> str:
    """Equal for equal specs (write-only values included); keyed like template_hash."""
    return _keyed(key, _hidden(public, secrets, password))


def unkeyed_template_hash(
    public: dict[str, Any], secrets: dict[str, str], nonce: str = ""
) -> str:
    """The template hash of revisions made before 0012 (a bare SHA-256, which a wordlist
    could be tried against). Only to recognise those revisions; never made for a new one."""
    return _unkeyed(_template(public, secrets, nonce))


def unkeyed_spec_hash(
    public: dict[str, Any], secrets: dict[str, str], password: str | None = None
) -> str:
    """The spec hash of revisions made before 0012; only to recognise them."""
    return _unkeyed(_hidden(public, secrets, password))


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
