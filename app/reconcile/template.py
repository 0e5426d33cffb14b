"""A revision's template: everything the workers need to run it, typed and versioned.

Built once, when a revision is stored, from the validated request; stored as
``to_dict()`` (JSON, with ``schema_version``); read back by the workers with
``from_dict()``. The workers never see the API's request model: a field renamed or
removed there cannot make a stored revision unloadable. Pure: no I/O, no clock.

What is *not* here, on purpose:

- ``replicas``: the deployment's, not the revision's. Scaling makes no revision, and a
  rollback restores a template, not a replica count.
- secret values and the registry password: sealed apart (``revision.secrets``,
  ``revision.registry_password``) and merged in only when a container is created.
- the template hash, which names containers: computed at apply from the public spec
  (app.services.specs) exactly as before, so no container is replaced by an upgrade.

Reading is lenient: keys it does not know are ignored (a later Moorage may add one and
then be downgraded), and keys it misses take the defaults the API has. Only a dict with
no usable ``schema_version``, one from a newer schema, or one without an image is refused
(``TemplateError``).

A field added later within a version is written only when it is not its default (like
``container.networks``), so a template that does not use it is stored, read and hashed
exactly as before the field existed; an older reader ignores it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from app.reconcile.host_access import Bind, binds_of
from app.reconcile.types import Desired, Placement, Strategy

SCHEMA_VERSION = 1

Pairs = tuple[tuple[str, str], ...]


class TemplateError(ValueError):
    """A stored template that cannot be read (not one a worker can run)."""


def _pairs(value: Mapping[str, str] | Iterable[tuple[str, str]]) -> Pairs:
    """Key-value pairs in key order: a mapping as a hashable, comparable value."""
    items = value.items() if isinstance(value, Mapping) else value
    return tuple(sorted((str(k), str(v)) for k, v in items))


def _argv(value: Iterable[str] | None) -> tuple[str, ...] | None:
    return None if value is None else tuple(str(a) for a in value)


# ---- the parts -----------------------------------------------------------------------


@dataclass(frozen=True)
class PortMapping:
    container_port: int
    host_port: int | None = None  # None: the engine picks a free port
    protocol: str = "tcp"  # tcp | udp
    host_ip: str = "0.0.0.0"


@dataclass(frozen=True)
class Mount:
    """A named volume (``source`` a name) or a bind of a host path (``source`` a path).
    Kept as stored: a path made before paths were checked may be one no host allows."""

    source: str
    target: str
    read_only: bool = False


@dataclass(frozen=True)
class Limits:
    cpus: float | None = None
    memory_mb: int | None = None


@dataclass(frozen=True)
class Container:
    """What a container is made from, secrets aside."""

    image: str  # the reference as written; the revision pins the id it meant
    command: tuple[str, ...] | None = None  # None: the image's own
    entrypoint: tuple[str, ...] | None = None
    env: Pairs = ()  # sorted by key; secret values are merged in at create
    ports: tuple[PortMapping, ...] = ()
    volumes: tuple[Mount, ...] = ()
    labels: Pairs = ()  # sorted by key; Moorage's own labels are added at create
    resources: Limits = field(default_factory=Limits)
    # User-defined networks it joins, sorted, each with the deployment's name as its DNS
    # alias (app.reconcile.networks). Empty: the engine's default bridge, as before.
    networks: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        # A mapping is accepted for env and labels, and kept as sorted pairs, so equal
        # templates compare (and hash) equal whatever order their keys came in.
        object.__setattr__(self, "env", _pairs(self.env))
        object.__setattr__(self, "labels", _pairs(self.labels))
        object.__setattr__(self, "command", _argv(self.command))
        object.__setattr__(self, "entrypoint", _argv(self.entrypoint))
        object.__setattr__(self, "ports", tuple(self.ports))
        object.__setattr__(self, "volumes", tuple(self.volumes))
        object.__setattr__(self, "networks", tuple(sorted(set(self.networks))))


@dataclass(frozen=True)
class HttpProbe:
    port: int
    path: str = "/"


@dataclass(frozen=True)
class TcpProbe:
    port: int


@dataclass(frozen=True)
class ExecProbe:
    argv: tuple[str, ...]

    def __post_init__(self) -> None:
        object.__setattr__(self, "argv", tuple(self.argv))


Probe = HttpProbe | TcpProbe | ExecProbe


@dataclass(frozen=True)
class HealthCheck:
    probe: Probe
    interval_s: float = 5.0
    timeout_s: float = 2.0
    retries: int = 3
    start_period_s: float = 0.0


@dataclass(frozen=True)
class UpdateStrategy:
    max_surge: int = 1
    max_unavailable: int = 0
    min_ready_s: float = 0.0
    progress_deadline_s: float = 600.0
    auto_rollback: bool = True


@dataclass(frozen=True)
class PlacementRules:
    constraints: tuple[str, ...] = ()  # "key==value" / "key!=value", as the scheduler reads
    max_per_host: int | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "constraints", tuple(self.constraints))


@dataclass(frozen=True)
class Footprint:
    """What one replica takes from a host: capacity, fixed ports, host paths."""

    cpus: float = 0.0
    memory_bytes: int = 0
    host_ports: tuple[tuple[int, str], ...] = ()  # fixed (port, protocol), sorted
    binds: tuple[Bind, ...] = ()


@dataclass(frozen=True)
class Template:
    container: Container
    health_check: HealthCheck | None = None
    restart_policy: str = "always"  # always | on-failure | never
    update_strategy: UpdateStrategy = field(default_factory=UpdateStrategy)
    placement: PlacementRules = field(default_factory=PlacementRules)
    # Whose credentials pull the image: the username of the deployment's own (its
    # password is sealed in the revision); None: the global ones for the registry, if any.
    registry_username: str | None = None

    # -- what the planner needs -----------------------------------------------------

    @property
    def footprint(self) -> Footprint:
        c = self.container
        return Footprint(
            cpus=c.resources.cpus or 0.0,
            memory_bytes=(c.resources.memory_mb or 0) * 1024 * 1024,
            host_ports=tuple(sorted(
                (p.host_port, p.protocol) for p in c.ports if p.host_port is not None)),
            binds=binds_of({"source": m.source, "read_only": m.read_only} for m in c.volumes),
        )

    def desired(
        self,
        name: str,
        revision: int,
        replicas: int,
        template_hash: str,
        *,
        deleting: bool = False,
        settle_s: float = 0.0,
    ) -> Desired:
        """The planner's view. ``replicas`` is the deployment's count (never the
        template's: it has none). ``settle_s`` is a floor under min_ready_s: a container
        that dies at once must not look ready in the instant between start and exit."""
        s, fp = self.update_strategy, self.footprint
        return Desired(
            deployment=name,
            revision=revision,
            template_hash=template_hash,
            replicas=replicas,
            restart_policy=self.restart_policy,
            strategy=Strategy(s.max_surge, s.max_unavailable, max(s.min_ready_s, settle_s)),
            placement=Placement(
                constraints=self.placement.constraints,
                max_per_host=self.placement.max_per_host,
                host_ports=fp.host_ports,
                cpus=fp.cpus,
                memory_bytes=fp.memory_bytes,
                binds=fp.binds,
            ),
            deleting=deleting,
        )

    # -- stored form ----------------------------------------------------------------

    def to_dict(self) -> dict[str, Any]:
        """The stored form, at the current ``SCHEMA_VERSION`` (plain JSON values)."""
        c = self.container
        container: dict[str, Any] = {
            "image": c.image,
            "command": list(c.command) if c.command is not None else None,
            "entrypoint": list(c.entrypoint) if c.entrypoint is not None else None,
            "env": dict(c.env),
            "ports": [{"container_port": p.container_port, "host_port": p.host_port,
                       "protocol": p.protocol, "host_ip": p.host_ip} for p in c.ports],
            "volumes": [{"source": m.source, "target": m.target, "read_only": m.read_only}
                        for m in c.volumes],
            "labels": dict(c.labels),
            "resources": {"cpus": c.resources.cpus, "memory_mb": c.resources.memory_mb},
        }
        if c.networks:
            # Only when there are some: a template without networks is stored exactly as
            # before the field existed.
            container["networks"] = list(c.networks)
        return {
            "schema_version": SCHEMA_VERSION,
            "container": container,
            "health_check": _health_to_dict(self.health_check),
            "restart_policy": self.restart_policy,
            "update_strategy": {
                "max_surge": self.update_strategy.max_surge,
                "max_unavailable": self.update_strategy.max_unavailable,
                "min_ready_s": self.update_strategy.min_ready_s,
                "progress_deadline_s": self.update_strategy.progress_deadline_s,
                "auto_rollback": self.update_strategy.auto_rollback,
            },
            "placement": {"constraints": list(self.placement.constraints),
                          "max_per_host": self.placement.max_per_host},
            "registry_username": self.registry_username,
        }


def _health_to_dict(check: HealthCheck | None) -> dict[str, Any] | None:
    if check is None:
        return None
    p = check.probe
    if isinstance(p, HttpProbe):
        probe: dict[str, Any] = {"http": {"port": p.port, "path": p.path}}
    elif isinstance(p, TcpProbe):
        probe = {"tcp": {"port": p.port}}
    else:
        probe = {"exec": list(p.argv)}
    return {**probe, "interval_s": check.interval_s, "timeout_s": check.timeout_s,
            "retries": check.retries, "start_period_s": check.start_period_s}


# ---- reading a stored template ---------------------------------------------------------

# One step per schema version, from version N to N+1. A v2 adds ``1: _v1_to_v2`` here (a
# function of the v1 dict that returns the v2 dict), bumps SCHEMA_VERSION and makes
# ``_read_current`` read v2; every stored v1 template then still loads, upgraded on read.
_UPGRADES: dict[int, Callable[[dict[str, Any]], dict[str, Any]]] = {}


def from_dict(data: Mapping[str, Any]) -> Template:
    """A stored template, whatever schema version wrote it (upgraded step by step)."""
    if not isinstance(data, Mapping):
        raise TemplateError(f"a template is a JSON object, not {type(data).__name__}")
    version = data.get("schema_version")
    if isinstance(version, bool) or not isinstance(version, int) or version < 1:
        raise TemplateError(f"a template needs a schema_version (1..{SCHEMA_VERSION}), "
                            f"not {version!r}")
    if version > SCHEMA_VERSION:
        raise TemplateError(f"template schema_version {version} is newer than this Moorage "
                            f"reads ({SCHEMA_VERSION}): upgrade it")
    current = dict(data)
    for step in range(version, SCHEMA_VERSION):
        current = _UPGRADES[step](current)
    try:
        return _read_current(current)
    except (KeyError, TypeError, ValueError) as exc:
        raise TemplateError(f"unreadable template: {exc!r}") from exc


def _obj(value: Any) -> Mapping[str, Any]:
    """A nested object, or {} when it is missing (null): its fields take defaults."""
    return value if isinstance(value, Mapping) else {}


def _opt_float(value: Any) -> float | None:
    return None if value is None else float(value)


def _opt_int(value: Any) -> int | None:
    return None if value is None else int(value)


def _read_current(data: Mapping[str, Any]) -> Template:
    """Read a dict at SCHEMA_VERSION (1). Unknown keys are ignored, missing ones default."""
    c = _obj(data.get("container"))
    image = c.get("image")
    if not isinstance(image, str) or not image:
        raise TemplateError("a template's container needs an image")
    resources = _obj(c.get("resources"))
    container = Container(
        image=image,
        command=c.get("command"),
        entrypoint=c.get("entrypoint"),
        env=_obj(c.get("env")),
        ports=tuple(
            PortMapping(int(p["container_port"]), _opt_int(p.get("host_port")),
                        str(p.get("protocol") or "tcp"), str(p.get("host_ip") or "0.0.0.0"))
            for p in c.get("ports") or ()),
        volumes=tuple(
            Mount(str(v.get("source", "")), str(v.get("target", "")), bool(v.get("read_only")))
            for v in c.get("volumes") or ()),
        labels=_obj(c.get("labels")),
        resources=Limits(_opt_float(resources.get("cpus")),
                         _opt_int(resources.get("memory_mb"))),
        networks=tuple(str(n) for n in c.get("networks") or ()),
    )
    s = _obj(data.get("update_strategy"))
    defaults = UpdateStrategy()
    placement = _obj(data.get("placement"))
    return Template(
        container=container,
        health_check=_read_health(data.get("health_check")),
        restart_policy=str(data.get("restart_policy") or "always"),
        update_strategy=UpdateStrategy(
            max_surge=int(s.get("max_surge", defaults.max_surge)),
            max_unavailable=int(s.get("max_unavailable", defaults.max_unavailable)),
            min_ready_s=float(s.get("min_ready_s", defaults.min_ready_s)),
            progress_deadline_s=float(s.get("progress_deadline_s", defaults.progress_deadline_s)),
            auto_rollback=bool(s.get("auto_rollback", defaults.auto_rollback)),
        ),
        placement=PlacementRules(
            constraints=tuple(str(x) for x in placement.get("constraints") or ()),
            max_per_host=_opt_int(placement.get("max_per_host")),
        ),
        registry_username=data.get("registry_username"),
    )


def _read_health(value: Any) -> HealthCheck | None:
    if not isinstance(value, Mapping):
        return None
    probe: Probe
    if isinstance(value.get("http"), Mapping):
        http = value["http"]
        probe = HttpProbe(int(http["port"]), str(http.get("path") or "/"))
    elif isinstance(value.get("tcp"), Mapping):
        probe = TcpProbe(int(value["tcp"]["port"]))
    elif value.get("exec"):
        probe = ExecProbe(tuple(str(a) for a in value["exec"]))
    else:
        return None  # no probe at all: no health check (as an API spec without one)
    defaults = HealthCheck(probe)
    return HealthCheck(
        probe=probe,
        interval_s=float(value.get("interval_s", defaults.interval_s)),
        timeout_s=float(value.get("timeout_s", defaults.timeout_s)),
        retries=int(value.get("retries", defaults.retries)),
        start_period_s=float(value.get("start_period_s", defaults.start_period_s)),
    )
