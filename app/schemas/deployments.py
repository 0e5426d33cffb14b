from __future__ import annotations

import ipaddress
import re
import uuid
from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, Field, ValidationInfo, field_validator, model_validator

from app.reconcile import host_access
from app.reconcile import networks as network_rules
from app.reconcile.scheduler import Constraint
from app.reconcile.vocabulary import Phase, ReplicaHealth, ReplicaState, RolloutKind, RolloutState
from app.schemas.common import DNS_LABEL, LABEL_KEY, Strict
from app.schemas.registries import PORT_NUMBER, Password, Username

# The Docker reference grammar (distribution/reference), lower-case repository paths.
_COMPONENT = r"[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*"
_HOSTPART = r"[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?"
_DOMAIN = rf"(?:{_HOSTPART}(?:\.{_HOSTPART})*|\[[0-9a-fA-F:]+\])(?::{PORT_NUMBER})?"
IMAGE_REF = re.compile(
    rf"^(?:{_DOMAIN}/)?{_COMPONENT}(?:/{_COMPONENT})*(?::[\w][\w.-]{{0,127}})?(?:@sha256:[a-f0-9]{{64}})?$"
)
ENV_KEY = r"^[A-Za-z_][A-Za-z0-9_]{0,254}$"
# A process gets env and argv as C strings: a NUL would cut them, so the engine refuses it.
NO_NUL = r"^[^\x00]*$"
EnvKey = Annotated[str, Field(pattern=ENV_KEY)]
EnvValue = Annotated[str, Field(max_length=32_768, pattern=NO_NUL)]
Arg = Annotated[str, Field(max_length=4096, pattern=NO_NUL)]
Port = Annotated[int, Field(ge=1, le=65535)]


class PortSpec(Strict):
    container_port: Port
    host_port: Port | None = Field(None, description="null picks any free port")
    protocol: Literal["tcp", "udp"] = "tcp"
    host_ip: str = "0.0.0.0"

    @field_validator("host_ip")
    @classmethod
    def _ip(cls, v: str) -> str:
        ipaddress.ip_address(v)
        return v


class HttpCheck(Strict):
    path: Annotated[str, Field(pattern=r"^/[\x21-\x7e]*$", max_length=2048)] = "/"
    port: Port


class TcpCheck(Strict):
    port: Port


class HealthCheck(Strict):
    http: HttpCheck | None = None
    tcp: TcpCheck | None = None
    exec: Annotated[list[Arg], Field(min_length=1, max_length=64)] | None = None
    interval_s: Annotated[float, Field(gt=0, le=3600)] = 5.0
    timeout_s: Annotated[float, Field(gt=0, le=600)] = 2.0
    retries: Annotated[int, Field(ge=1, le=100)] = 3
    start_period_s: Annotated[float, Field(ge=0, le=3600)] = 0.0

    @model_validator(mode="after")
    def _exactly_one(self) -> HealthCheck:
        kinds = [k for k in ("http", "tcp", "exec") if getattr(self, k) is not None]
        if len(kinds) != 1:
            raise ValueError("set exactly one of http, tcp or exec")
        return self


class Resources(Strict):
    cpus: Annotated[float, Field(gt=0, le=1024)] | None = None
    memory_mb: Annotated[int, Field(ge=6, le=4_194_304)] | None = None


class PlacementSpec(Strict):
    constraints: Annotated[list[Annotated[str, Field(max_length=512, pattern=NO_NUL)]],
                           Field(max_length=32)] = []
    max_per_host: Annotated[int, Field(ge=1, le=1000)] | None = None

    @field_validator("constraints")
    @classmethod
    def _parse(cls, v: list[str]) -> list[str]:
        for c in v:
            Constraint.parse(c)
        return v


class UpdateStrategy(Strict):
    max_surge: Annotated[int, Field(ge=0, le=1000)] = 1
    max_unavailable: Annotated[int, Field(ge=0, le=1000)] = 0
    min_ready_s: Annotated[float, Field(ge=0, le=3600)] = 0.0
    progress_deadline_s: Annotated[float, Field(gt=0, le=86_400)] = 600.0
    auto_rollback: bool = True

    @model_validator(mode="after")
    def _can_progress(self) -> UpdateStrategy:
        if self.max_surge == 0 and self.max_unavailable == 0:
            raise ValueError("max_surge and max_unavailable cannot both be 0")
        return self


class AutoscaleSpec(Strict):
    """Scale on usage (Kubernetes' HPA rule). While set, the autoscaler owns the replica
    count: `replicas` is only where it starts (when the deployment is made or autoscale
    is first set), clamped to [min_replicas, max_replicas]. The deployment's, like
    `replicas`: changing it makes no revision and replaces no container."""

    min_replicas: Annotated[int, Field(ge=1, le=1000)]
    max_replicas: Annotated[int, Field(ge=1, le=1000)]
    target_cpu_percent: Annotated[float, Field(
        gt=0, le=102_400, description="Average CPU per replica to aim at, as a percentage "
                                      "of one core (as the replicas' usage shows it)")]
    target_memory_percent: Annotated[float, Field(
        gt=0, le=100, description="Average memory per replica to aim at, as a percentage "
                                  "of its limit; the higher of the two counts wins")] | None = None
    scale_up_window_s: Annotated[float, Field(
        ge=0, le=3600, description="Scale up only to the lowest recommendation of this "
                                   "window (0: at once)")] = 0.0
    scale_down_window_s: Annotated[float, Field(
        ge=0, le=3600, description="Scale down only to the highest recommendation of this "
                                   "window, so a dip in load does not remove replicas the "
                                   "next spike needs")] = 300.0

    @model_validator(mode="after")
    def _ordered(self) -> AutoscaleSpec:
        if self.min_replicas > self.max_replicas:
            raise ValueError("min_replicas is more than max_replicas")
        return self


VOLUMES_DESCRIPTION = (
    "Named volumes (a `source` that is a name) are open to any `deploy` token. A `source` "
    "that is a path binds that host path into the container, as root, and is refused (422 "
    "naming `volumes.N.source`) unless an admin allows it: `MOORAGE_ALLOWED_BIND_PREFIXES` "
    "for every host, or a host's `allowed_bind_prefixes` (the deployment is then placed only "
    "on hosts that allow it). No path is allowed by default, and the rule is the same for "
    "every token, admin included. Escalation paths (the Docker socket, /proc, /sys, /dev, "
    "/etc, /run, /var/lib/docker, ...) are never unlocked by a broader entry."
)


NETWORKS_DESCRIPTION = (
    "User-defined networks this deployment joins, e.g. `[\"shop\"]`. Members of a network "
    "reach each other by deployment name and container port (`db:5432`): Moorage makes a "
    "Docker bridge network of that name on each host where a member runs (and removes it "
    "when no container there uses it), and every replica joins it with the deployment's "
    "name as its DNS alias. **Names resolve only among members on the same host**: a "
    "bridge network is one host's, so a member on another host is not reachable by name "
    "(the deployment's status and a `NetworkSpansHosts` event say so when members run on "
    "several hosts). Across hosts, call a deployment at an address that works across "
    "hosts (its `endpoint` on the edge hosts, or its published `ports`), or keep the "
    "members on one host with `placement`. Names are DNS labels; `bridge`, `host`, `none`, "
    "`default`, `ingress` and `container` are the engine's. A network of that name that "
    "Moorage did not make is never used or removed: creating a replica on that host fails "
    "(the rollout's message says why). Stored sorted; a change replaces the replicas "
    "(rolling), and containers Moorage does not own are never attached or detached."
)


def _network_name(name: str) -> str:
    if problem := network_rules.name_problem(name):
        raise ValueError(problem)
    return name


# Checked per item, so a bad name's error names it: `body.networks.N`.
NetworkName = Annotated[str, Field(min_length=1, max_length=63, examples=["shop"]),
                        AfterValidator(_network_name)]


class VolumeSpec(Strict):
    source: Annotated[str, Field(
        min_length=1, max_length=4096, pattern=r"^(/[^\x00]*|[A-Za-z0-9][A-Za-z0-9_.-]*)$",
        description="A volume name (any `deploy` token), or an absolute host path (only "
                    "where an admin allows it). A path is normalised (`//` and `/./` "
                    "collapse, a trailing `/` goes) and stored so; `..` and `:` are refused.",
        examples=["web-data", "/srv/web"])]
    target: Annotated[str, Field(min_length=2, max_length=4096, pattern=r"^/[^\x00:]*$",
                                 description="Where it appears in the container")]
    read_only: bool = False

    @field_validator("source")
    @classmethod
    def _host_path(cls, v: str) -> str:
        # What is checked against the allow lists must be what the engine mounts.
        return host_access.normalise(v) if v.startswith("/") else v


class VolumeRead(BaseModel):
    """A volume as stored (revisions made before host paths were checked included)."""

    source: str
    target: str
    read_only: bool = False


Argv = Annotated[list[Arg], Field(max_length=256)]

# A DNS name for Host matching, optionally a leading wildcard label ("*.example.com").
Hostname = Annotated[str, Field(
    max_length=253,
    pattern=r"^(\*\.)?([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)*[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$",
    examples=["shop.example.com"])]

ENDPOINT_DESCRIPTION = (
    "One stable HTTP address for the deployment, across its replicas and hosts: every "
    "*edge* host's proxy (Caddy, run by Moorage) serves it at `listen_port`, and at the "
    "edges' shared HTTP port for requests whose `Host` is one of `hostnames`. Traffic "
    "follows readiness: a replica joins only once its health check passes, and one that "
    "leaves (update, scale-down, drain, delete) is taken out and drained before it is "
    "stopped. The proxy reaches replicas at their published addresses on their hosts "
    "(`port` is published on a free host port when `ports` does not already publish it), "
    "so it works across hosts wherever the edge can reach those addresses. Changing only "
    "the endpoint replaces no container (unless `port` is newly published).")


class EndpointSpec(Strict):
    port: Annotated[Port, Field(description="The container port the proxy sends requests to")]
    hostnames: Annotated[list[Hostname], Field(
        max_length=32, description="Also served on the edges' shared HTTP port "
                                   "(MOORAGE_EDGE_HTTP_PORT) for these Host names")] = []
    listen_port: Annotated[Port | None, Field(
        description="The port every edge serves the deployment on; null: Moorage chooses "
                    "one once (MOORAGE_ENDPOINT_PORT_RANGE) and keeps it")] = None
    drain_timeout_s: Annotated[float, Field(
        ge=0, le=3600, description="How long requests in flight to a leaving replica may "
                                   "take to finish before it is stopped anyway")] = 30.0

    @field_validator("hostnames")
    @classmethod
    def _unique(cls, v: list[str]) -> list[str]:
        return list(dict.fromkeys(v))


class RegistryAuth(Strict):
    """Credentials for the registry ``image`` is pulled from. They win over the global
    ones for that registry (``/v1/registries``). The password is write-only."""

    username: Username
    password: Password


class RegistryAuthRead(BaseModel):
    username: str


class DeploymentSpec(Strict):
    image: Annotated[str, Field(min_length=1, max_length=512, examples=["nginx:1.27"])]
    replicas: Annotated[int, Field(ge=0, le=1000)] = 1
    command: Argv | None = None
    entrypoint: Argv | None = None
    env: Annotated[dict[EnvKey, EnvValue], Field(max_length=512)] = {}
    secrets: Annotated[
        dict[EnvKey, EnvValue],
        Field(max_length=512, description="Write-only: passed as env, never returned"),
    ] = {}
    ports: Annotated[list[PortSpec], Field(max_length=64)] = []
    health_check: HealthCheck | None = None
    resources: Resources = Resources()
    restart_policy: Literal["always", "on-failure", "never"] = "always"
    labels: Annotated[
        dict[Annotated[str, Field(pattern=LABEL_KEY)],
             Annotated[str, Field(max_length=256, pattern=NO_NUL)]],
        Field(max_length=64),
    ] = {}
    placement: PlacementSpec = PlacementSpec()
    update_strategy: UpdateStrategy = UpdateStrategy()
    volumes: Annotated[list[VolumeSpec], Field(max_length=64, description=VOLUMES_DESCRIPTION)] = []
    registry_auth: RegistryAuth | None = None
    networks: Annotated[list[NetworkName], Field(
        max_length=network_rules.MAX_PER_DEPLOYMENT, description=NETWORKS_DESCRIPTION)] = []
    autoscale: AutoscaleSpec | None = Field(
        None, description="Scale on usage; the deployment's, not part of a revision")
    endpoint: Annotated[EndpointSpec | None, Field(description=ENDPOINT_DESCRIPTION)] = None

    @field_validator("image")
    @classmethod
    def _image(cls, v: str) -> str:
        if not IMAGE_REF.match(v):
            raise ValueError("not a valid image reference (name:tag or name@sha256:digest)")
        return v

    @field_validator("labels")
    @classmethod
    def _no_reserved_labels(cls, v: dict[str, str]) -> dict[str, str]:
        if any(k.startswith("moorage.") for k in v):
            raise ValueError("label keys starting with 'moorage.' are reserved")
        return v

    # Field validators, not one model validator, so an error's `loc` names the field.
    @field_validator("secrets")
    @classmethod
    def _not_also_env(cls, v: dict[str, str], info: ValidationInfo) -> dict[str, str]:
        # env is declared first, so it is in info.data unless it was invalid itself.
        if overlap := sorted(set(info.data.get("env") or {}) & set(v)):
            raise ValueError(f"keys in both env and secrets: {', '.join(overlap)}")
        return v

    @field_validator("networks")
    @classmethod
    def _network_names(cls, v: list[str]) -> list[str]:
        if duplicates := sorted({n for n in v if v.count(n) > 1}):
            raise ValueError(f"networks listed twice: {', '.join(duplicates)}")
        return sorted(v)  # the order means nothing: equal sets are equal specs

    @field_validator("ports")
    @classmethod
    def _unique_ports(cls, v: list[PortSpec]) -> list[PortSpec]:
        seen: set[tuple[int, str]] = set()
        fixed: set[tuple[str, int, str]] = set()
        for p in v:
            if (p.container_port, p.protocol) in seen:
                raise ValueError(f"container_port {p.container_port}/{p.protocol} listed twice")
            seen.add((p.container_port, p.protocol))
            if p.host_port is not None:
                if (p.host_ip, p.host_port, p.protocol) in fixed:
                    raise ValueError(f"host_port {p.host_port}/{p.protocol} listed twice")
                fixed.add((p.host_ip, p.host_port, p.protocol))
        return v


class RevisionSpecRead(BaseModel):
    """A revision's spec as the API returns it: secret values are replaced by their
    names. No `replicas`: that is the deployment's (scaling makes no revision)."""

    image: str
    command: list[str] | None = None
    entrypoint: list[str] | None = None
    env: dict[str, str] = {}
    secret_keys: list[str] = Field([], description="Names of the secrets; values are write-only")
    ports: list[PortSpec] = []
    health_check: HealthCheck | None = None
    resources: Resources = Resources()
    restart_policy: str = "always"
    labels: dict[str, str] = {}
    placement: PlacementSpec = PlacementSpec()
    update_strategy: UpdateStrategy = UpdateStrategy()
    volumes: list[VolumeRead] = []
    registry_auth: RegistryAuthRead | None = Field(
        None, description="The username only; the password is write-only")
    networks: list[str] = Field([], description=NETWORKS_DESCRIPTION)
    endpoint: EndpointSpec | None = None


class SpecRead(RevisionSpecRead):
    """A deployment's spec as the API returns it: its current revision's, at the
    deployment's replica count."""

    replicas: int = Field(description="The desired replica count: the deployment's own, "
                                      "not part of a revision (scaling makes no revision)")
    autoscale: AutoscaleSpec | None = Field(
        None, description="The deployment's autoscaling, if any (not part of a revision)")


class DeploymentCreate(DeploymentSpec):
    name: Annotated[str, Field(pattern=DNS_LABEL, examples=["web"])]


class Condition(BaseModel):
    type: str
    status: bool
    reason: str = ""
    message: str = ""


class ReplicaUsage(BaseModel):
    """A replica's newest kept usage sample: it stands until the next one (a reading
    within its dead-band is not written), for the keep-alive and three ticks more."""

    cpu_percent: float | None = Field(
        description="CPU as a percentage of one core (two busy cores read 200); null until "
                    "a container has been sampled twice")
    memory_bytes: int | None = Field(description="Memory in use, less droppable page cache "
                                                 "(as `docker stats` counts it)")
    memory_percent: float | None = Field(description="memory_bytes as a percentage of the "
                                                     "container's limit (the host's memory "
                                                     "when it has none)")
    sampled_at: datetime


class UsageTotals(BaseModel):
    """The newest samples of a deployment's replicas, summed."""

    cpu_percent: float = Field(description="Summed over the replicas, each of one core")
    memory_bytes: int
    replicas: int = Field(description="Replicas with a sample (those sampled recently)")
    sampled_at: datetime | None = Field(description="The newest of the samples summed")


class AutoscalerStatus(BaseModel):
    """The autoscaler's last look at the deployment."""

    current_replicas: int = Field(description="The count it looked at")
    desired_replicas: int = Field(description="The count it decided on")
    recommendation: int = Field(description="What usage alone asked for, before the "
                                            "stabilization windows and limits")
    last_decision: str = Field(description='Why, e.g. "CPU 180% of a 50% target over 30 s: 2 → 6"')
    decided_at: datetime


class DeploymentStatus(BaseModel):
    phase: Phase
    replicas: int
    ready_replicas: int
    updated_replicas: int
    unavailable_replicas: int
    observed_revision: int | None
    message: str
    conditions: list[Condition] = []
    usage: UsageTotals | None = Field(
        None, description="What the replicas consume, from their newest samples; null "
                          "when none has been sampled recently")
    autoscaler: AutoscalerStatus | None = Field(
        None, description="With `spec.autoscale` set, once the autoscaler has looked")


class RolloutProgress(BaseModel):
    desired: int
    updated: int
    ready: int
    unavailable: int


class RolloutRead(BaseModel):
    id: uuid.UUID
    deployment: str
    kind: RolloutKind
    from_revision: int | None
    to_revision: int
    state: RolloutState
    progress: RolloutProgress
    message: str
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None


class UpstreamRead(BaseModel):
    host: str
    replica: str = Field(description="The replica's container name")
    address: str = Field(description="Where the edges send to: its published address on its host")
    revision: int
    state: Literal["serving", "draining"] = Field(
        description="serving: in the edges' upstreams; draining: taken out, its requests in "
                    "flight finishing before it is stopped")


class EndpointRead(BaseModel):
    port: int
    listen_port: int | None = Field(description="The port every edge serves it on (kept)")
    hostnames: list[str] = []
    drain_timeout_s: float
    urls: list[str] = Field(description="Full URLs a caller can use: each edge at listen_port, "
                                        "then each hostname on the edges' shared HTTP port")
    upstreams: list[UpstreamRead] = Field(
        description="The replicas the edges send to, as the reconciler last set them")


class DeploymentRead(BaseModel):
    name: str
    stack: str | None = Field(None, description="The stack it is a service of: then it "
                                               "changes only through the stack (else 409)")
    spec: SpecRead
    revision: int
    resource_version: int
    status: DeploymentStatus
    current_rollout: RolloutRead | None
    endpoint: EndpointRead | None = None
    created_at: datetime
    updated_at: datetime


class FieldChange(BaseModel):
    path: str
    old: Any = None
    new: Any = None


class PlannedAction(BaseModel):
    action: Literal["create", "start", "remove"]
    host: str
    slot: int
    reason: str


class DryRunResult(BaseModel):
    dry_run: Literal[True] = True
    new_revision: bool
    revision: int
    changes: list[FieldChange]
    actions: list[PlannedAction]
    pending: list[str] = Field(
        [], description="Why replicas could not be placed (no host matches, or allows a "
                        "host path), from the last observation")


class RevisionRead(BaseModel):
    number: int
    spec: RevisionSpecRead
    image_digest: str | None
    created_at: datetime


class ReplicaPort(BaseModel):
    container_port: int
    host_ip: str | None
    host_port: int | None


class ReplicaRead(BaseModel):
    id: uuid.UUID
    host: str
    slot: int
    container_id: str | None
    container_name: str
    revision: int
    state: ReplicaState
    health: ReplicaHealth
    ports: list[ReplicaPort]
    started_at: datetime | None
    restart_count: int
    exit_code: int | None = None
    last_probe: str | None = None
    usage: ReplicaUsage | None = Field(
        None, description="Its newest usage sample; null when it has none (not running, "
                          "or not sampled yet)")


class UsagePoint(BaseModel):
    at: datetime = Field(description="A sampling tick that kept a sample")
    cpu_percent: float = Field(description="Summed over the replicas, % of one core, each "
                                           "with its latest kept sample then")
    memory_bytes: int
    replicas: int = Field(description="Replicas with a sample standing then")


class UsageSeries(BaseModel):
    """A deployment's recent usage for a chart: a point at each sampling tick that kept a
    sample and every interval between them up to now. A replica's reading within the
    dead-band of its latest kept sample is not written: that one stands for it until the
    next."""

    interval_s: float
    retention_s: float
    points: list[UsagePoint]


class EventRead(BaseModel):
    id: int
    deployment: str = Field(description="The deployment's name")
    time: datetime
    type: Literal["normal", "warning"]
    reason: str
    message: str
    rollout_id: uuid.UUID | None
    replica_id: uuid.UUID | None


class RollbackRequest(Strict):
    # Strict: `true` is not revision 1. Bounded like the column (a 32-bit INTEGER).
    revision: Annotated[int, Field(ge=1, le=2**31 - 1, strict=True)] | None = None


class LogLine(BaseModel):
    replica: str
    host: str
    time: datetime | None
    line: str


def spec_read(spec: dict[str, Any], secret_keys: list[str], replicas: int,
              autoscale: dict[str, Any] | None = None) -> SpecRead:
    return SpecRead.model_validate(
        {**spec, "replicas": replicas, "autoscale": autoscale, "secret_keys": sorted(secret_keys)})


def revision_spec_read(spec: dict[str, Any], secret_keys: list[str]) -> RevisionSpecRead:
    return RevisionSpecRead.model_validate({**spec, "secret_keys": sorted(secret_keys)})
