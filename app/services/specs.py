"""From an API spec to what a revision stores: its public spec (what the API shows and
merges patches into), its typed template (what the workers run: app.reconcile.template)
and the hashes that name its containers."""

from __future__ import annotations

import hashlib
import hmac
import json
from typing import Any

from app.reconcile import template as tpl
from app.schemas.deployments import DeploymentSpec

# What a container is made from. Replicas, placement, health checks, restart policy and
# the update strategy are Moorage's business, so changing them replaces no container.
TEMPLATE_FIELDS = ("image", "command", "entrypoint", "env", "ports", "resources", "labels", "volumes")
# Template fields added later: part of the hash only when set, so every container of a
# spec that does not use them keeps its name (and is not replaced) across the upgrade.
# A change of networks replaces containers (rolling): they join networks when created.
OPTIONAL_TEMPLATE_FIELDS = ("networks",)


def _canonical(value: Any) -> bytes:
    return json.dumps(value, sort_keys=True, separators=(",", ":")).encode()


def _keyed(key: bytes, value: Any) -> str:
    return hmac.new(key, _canonical(value), hashlib.sha256).hexdigest()


def _unkeyed(value: Any) -> str:
    return hashlib.sha256(_canonical(value)).hexdigest()


def public_spec(spec: DeploymentSpec) -> dict[str, Any]:
    """What a revision stores of a spec, as the API shows it: not its write-only values
    (secret values, the registry password), and not ``replicas``, which is the
    deployment's (scaling makes no revision)."""
    public = spec.model_dump(
        mode="json", exclude={"replicas": True, "secrets": True, "registry_auth": {"password"}})
    if public.get("registry_auth") is None:
        # Absent rather than null, so revisions made before the field existed hash alike.
        public.pop("registry_auth", None)
    if not public.get("networks"):
        public.pop("networks", None)  # the same: absent rather than []
    return public


def registry_password(spec: DeploymentSpec) -> str | None:
    return spec.registry_auth.password if spec.registry_auth else None


def stored_spec(
    public: dict[str, Any], secrets: dict[str, str], password: str | None, replicas: int
) -> dict:
    """The full spec again, write-only values and the deployment's replica count
    included (a merge-patch base)."""
    full: dict[str, Any] = {**public, "replicas": replicas, "secrets": dict(secrets)}
    if public.get("registry_auth") is not None and password is not None:
        full["registry_auth"] = {**public["registry_auth"], "password": password}
    return full


def _template(public: dict[str, Any], secrets: dict[str, str], nonce: str) -> dict[str, Any]:
    template = {k: public.get(k) for k in TEMPLATE_FIELDS}
    template.update({k: public[k] for k in OPTIONAL_TEMPLATE_FIELDS if public.get(k)})
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


def template(spec: DeploymentSpec) -> tpl.Template:
    """The typed template of a validated spec: what a revision stores for the workers
    (they never read the request model). Secret values and the registry password are
    not in it; neither is ``replicas``."""
    health = None
    if (check := spec.health_check) is not None:
        probe: tpl.Probe
        if check.http is not None:
            probe = tpl.HttpProbe(check.http.port, check.http.path)
        elif check.tcp is not None:
            probe = tpl.TcpProbe(check.tcp.port)
        else:
            assert check.exec is not None  # the model requires exactly one
            probe = tpl.ExecProbe(tuple(check.exec))
        health = tpl.HealthCheck(probe, check.interval_s, check.timeout_s, check.retries,
                                 check.start_period_s)
    s = spec.update_strategy
    return tpl.Template(
        container=tpl.Container(
            image=spec.image,
            command=spec.command,
            entrypoint=spec.entrypoint,
            env=spec.env,
            ports=tuple(tpl.PortMapping(p.container_port, p.host_port, p.protocol, p.host_ip)
                        for p in spec.ports),
            volumes=tuple(tpl.Mount(v.source, v.target, v.read_only) for v in spec.volumes),
            labels=spec.labels,
            resources=tpl.Limits(spec.resources.cpus, spec.resources.memory_mb),
            networks=tuple(spec.networks),
        ),
        health_check=health,
        restart_policy=spec.restart_policy,
        update_strategy=tpl.UpdateStrategy(s.max_surge, s.max_unavailable, s.min_ready_s,
                                           s.progress_deadline_s, s.auto_rollback),
        placement=tpl.PlacementRules(tuple(spec.placement.constraints),
                                     spec.placement.max_per_host),
        registry_username=spec.registry_auth.username if spec.registry_auth else None,
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
