"""A thin client per Docker host, speaking in Moorage's terms."""

from __future__ import annotations

import shutil
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import docker
import requests
from docker import errors as derr
from docker.tls import TLSConfig
from docker.transport import UnixHTTPAdapter

from app.caches import BoundedCache
from app.dockerhost import keyfiles, ssh
from app.dockerhost.errors import (
    ContainerGone,
    EngineError,
    EngineUnreachable,
    ImageMissing,
    NetworkMissing,
    PermanentEngineError,
    TemporaryEngineError,
    classify_api_error,
)
from app.dockerhost.pulls import PullProgress, progress_interval, pull_failure_is_temporary
from app.reconcile.types import ObservedContainer
from app.reconcile.usage import CpuCounters, StatsReading

LABEL_PREFIX = "moorage."
L_MANAGED = "moorage.managed"
L_DEPLOYMENT = "moorage.deployment"
L_DEPLOYMENT_ID = "moorage.deployment-id"
L_REVISION = "moorage.revision"
L_SLOT = "moorage.slot"
L_TEMPLATE = "moorage.template-hash"
L_INSTALLATION = "moorage.installation"

# Container events that mean its deployment may have drifted from what was planned.
_DRIFT_EVENTS = ("die", "destroy", "oom", "pause", "rename")
@dataclass(frozen=True)
class EngineInfo:
    version: str
    cpus: float
    memory_bytes: int
    containers: int
    system_time: datetime | None = None  # the engine's clock, for asking about events
    root_dir: str | None = None  # DockerRootDir: where the engine keeps its data


@dataclass(frozen=True)
class ContainerRequest:
    name: str
    image: str
    labels: dict[str, str]
    env: dict[str, str] = field(default_factory=dict)
    command: list[str] | None = None
    entrypoint: list[str] | None = None
    ports: list[dict] = field(default_factory=list)
    cpus: float | None = None
    memory_mb: int | None = None
    volumes: list[dict] = field(default_factory=list)
    # User-defined networks to join (they must exist: app.dockerhost.networks.ensure),
    # each with ``network_alias`` as the container's DNS name there. None: the default
    # bridge.
    networks: list[str] = field(default_factory=list)
    network_alias: str | None = None
    # A stack's service is known on its networks by its service name too (`db`, beside
    # the deployment's `shop-db`), as Compose has it. Only stack networks are joined by
    # a stack's services, so the short name cannot clash with another stack's.
    service_alias: str | None = None

    @property
    def aliases(self) -> list[str] | None:
        names = [a for a in (self.network_alias, self.service_alias) if a]
        return names or None


@dataclass(frozen=True)
class ImageInfo:
    """An image a host has: its id (what a revision pins) and, when it came from a
    registry, ``repository@sha256:...`` references that name exactly this content."""

    id: str
    repo_digests: tuple[str, ...] = ()

    def repo_digest_for(self, ref: str) -> str | None:
        """The digest reference of ``ref``'s repository, to pull exactly this image."""
        name = ref.split("@", 1)[0]
        if ":" in name.rsplit("/", 1)[-1]:
            name = name.rsplit(":", 1)[0]
        for digest_ref in self.repo_digests:
            if digest_ref.split("@", 1)[0] == name:
                return digest_ref
        return None


def _engine_message(exc: derr.APIError) -> str:
    explanation = exc.explanation
    if isinstance(explanation, bytes):
        explanation = explanation.decode(errors="replace")
    return str(explanation or exc)


@contextmanager
def classified(host: str, what: str, *, container_op: bool = False) -> Iterator[None]:
    """Translate docker/requests errors into engine errors by the engine's status code
    (``classify_api_error``); ``container_op``: a 404 means the container vanished."""
    try:
        yield
    except EngineError:
        raise
    except derr.APIError as exc:
        message = f"{host}: {what}: {_engine_message(exc)}"
        kind = classify_api_error(exc.status_code, message,
                                  container_op=container_op and not isinstance(exc, derr.ImageNotFound))
        raise kind(message) from exc
    except (requests.exceptions.RequestException, derr.DockerException, OSError) as exc:
        raise EngineUnreachable(f"{host}: {what}: engine unreachable ({exc})") from exc
    except ValueError as exc:  # the SDK's answer to a URL it cannot parse
        raise PermanentEngineError(f"{host}: {what}: {exc}") from exc


def _parse_time(value: str | None) -> datetime | None:
    if not value or value.startswith("0001-"):
        return None
    # Docker prints nanoseconds; Python takes microseconds.
    head, _, rest = value.partition(".")
    frac = "".join(ch for ch in rest if ch.isdigit())[:6]
    tz = "+00:00" if value.endswith("Z") else rest[len(rest.rstrip("+-:0123456789")) :]
    try:
        return datetime.fromisoformat(f"{head}.{frac or '0'}{tz or '+00:00'}").astimezone(UTC)
    except ValueError:
        return None


def _counters(cpu: dict | None, read: str | None) -> CpuCounters | None:
    usage = (cpu or {}).get("cpu_usage") or {}
    if not usage.get("total_usage"):
        return None  # a one-shot's empty precpu, or a container that has not run
    online = cpu.get("online_cpus") or len(usage.get("percpu_usage") or ()) or 1  # type: ignore[union-attr]
    system = cpu.get("system_cpu_usage")  # type: ignore[union-attr]
    return CpuCounters(int(usage["total_usage"]), int(system) if system else None,
                       int(online), _parse_time(read))


def _reading(raw: dict) -> StatsReading:
    """The engine's stats answer as a reading (cgroup v1 and v2 field names both)."""
    memory = raw.get("memory_stats") or {}
    figures = memory.get("stats") or {}
    # What `docker stats` subtracts: page cache the kernel may drop at will.
    inactive = figures.get("total_inactive_file", figures.get("inactive_file", 0))
    cpu = _counters(raw.get("cpu_stats"), raw.get("read"))
    return StatsReading(
        cpu=cpu or CpuCounters(0, None, 1, _parse_time(raw.get("read"))),
        precpu=_counters(raw.get("precpu_stats"), raw.get("preread")),
        memory_usage_bytes=int(memory["usage"]) if memory.get("usage") is not None else None,
        memory_inactive_file_bytes=int(inactive or 0),
        memory_limit_bytes=int(memory["limit"]) if memory.get("limit") else None,
    )


@dataclass(frozen=True)
class EngineAddress:
    """How to reach one engine. TLS material is PEM text, as stored with the host."""

    name: str
    url: str
    tls_ca_cert: str | None = None
    tls_client_cert: str | None = None
    tls_client_key: str | None = None
    # For ssh:// engines: the private key (OpenSSH or PEM text) and known_hosts lines.
    ssh_private_key: str | None = None
    ssh_known_hosts: str | None = None

    @property
    def uses_tls(self) -> bool:
        return bool(self.tls_client_cert or self.tls_ca_cert)

    @property
    def uses_ssh_key(self) -> bool:
        return bool(self.ssh_private_key and self.ssh_known_hosts)


def _secrets_folder(address: EngineAddress) -> Path:
    """One folder per set of TLS or ssh material, not per host name."""
    return keyfiles.folder_for(
        address.url, address.tls_ca_cert or "", address.tls_client_cert or "",
        address.tls_client_key or "", address.ssh_private_key or "",
        address.ssh_known_hosts or "")


def _tls_config(address: EngineAddress, folder: Path):
    """The SDK wants files: write the PEMs."""
    paths = {}
    for field_name in ("tls_ca_cert", "tls_client_cert", "tls_client_key"):
        pem = getattr(address, field_name)
        if pem:
            paths[field_name] = keyfiles.write_private(folder, f"{field_name}.pem", pem)
    client_cert = None
    if "tls_client_cert" in paths and "tls_client_key" in paths:
        client_cert = (paths["tls_client_cert"], paths["tls_client_key"])
    return TLSConfig(client_cert=client_cert, ca_cert=paths.get("tls_ca_cert"),
                     verify=paths.get("tls_ca_cert") or True)


class _OnePoolUnixAdapter(UnixHTTPAdapter):
    """The SDK's Unix-socket adapter keys its connection pools by the whole URL, so every
    container's inspect, start or stop and every label filter (each deployment's listing)
    opened a connection of its own, and past 25 URLs closed another's pool. One pool per
    socket, as requests keeps one per host for a TCP engine."""

    def get_connection(self, url, proxies=None):
        return super().get_connection(self.socket_path, proxies)


class _APIClient(docker.APIClient):
    """requests lets REQUESTS_CA_BUNDLE or CURL_CA_BUNDLE in the environment replace a
    session's own CA (`verify`); a host's CA must win, or its engine never verifies.
    On a Unix socket, connections are kept per socket (`_OnePoolUnixAdapter`)."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        sdk = getattr(self, "_custom_adapter", None)
        if type(sdk) is UnixHTTPAdapter:
            self._custom_adapter = _OnePoolUnixAdapter(
                sdk.socket_path, sdk.timeout, max_pool_size=sdk.max_pool_size)
            self.mount("http+docker://", self._custom_adapter)
            sdk.close()  # its one pool, from the version check

    def merge_environment_settings(self, url, proxies, stream, verify, cert):
        settings = super().merge_environment_settings(url, proxies, stream, verify, cert)
        if isinstance(self.verify, str):  # the host's CA file (see _tls_config)
            settings["verify"] = self.verify
        return settings


class EngineClient:
    def __init__(self, address: EngineAddress, timeout: float = 30.0) -> None:
        self.address = address
        self.name = address.name
        self.url = address.url
        self.timeout = timeout
        self._client: docker.APIClient | None = None
        self._inspected: dict[str, dict] = {}

    @property
    def api(self) -> docker.APIClient:
        # Connecting negotiates the API version, so it happens on first use, where
        # callers already classify errors, and is retried until it succeeds.
        if self._client is None:
            with classified(self.name, "connect"):
                if self.url.startswith("ssh://"):
                    self._client = ssh.api_client(_APIClient, self._ssh_target(), self.timeout)
                else:
                    options: dict = {"base_url": self.url, "timeout": self.timeout,
                                     "max_pool_size": 32}
                    if self.address.uses_tls:
                        options["tls"] = _tls_config(self.address, _secrets_folder(self.address))
                    self._client = _APIClient(**options)
        return self._client

    def _ssh_target(self) -> ssh.SSHTarget:
        # Not the SDK's ssh:// support: it needs paramiko, and its shell-out mode can name
        # no key or known_hosts. Without stored ones, the process's own ssh config is used.
        if not self.address.uses_ssh_key:
            return ssh.SSHTarget.from_url(self.url)
        folder = _secrets_folder(self.address)
        key_file, known_hosts_file = folder / "ssh_private_key", folder / "ssh_known_hosts"

        def write_files() -> None:  # again if gone: ssh reads them at every connection
            if key_file.is_file() and known_hosts_file.is_file():
                return
            # OpenSSH refuses a key whose last line lacks its newline ("invalid format").
            keyfiles.write_private(folder, key_file.name,
                           (self.address.ssh_private_key or "").rstrip("\n") + "\n")
            keyfiles.write_private(folder, known_hosts_file.name, self.address.ssh_known_hosts or "")

        return ssh.SSHTarget.from_url(self.url, str(key_file), str(known_hosts_file),
                                      write_files)

    def close_connections(self) -> None:
        """Close the kept-alive connections (the client stays usable): the next call opens
        a new one, so its answer says the engine accepts connections now."""
        if self._client is not None:
            self._client.close()  # closes the adapters' pools; requests makes new ones

    def close(self) -> None:
        if self._client is not None:
            self._client.close()
        if self.address.uses_tls or self.address.uses_ssh_key:
            # The private key must not outlive the client that needed it.
            shutil.rmtree(_secrets_folder(self.address), ignore_errors=True)

    # -- engine ----------------------------------------------------------------------

    def info(self) -> EngineInfo:
        with classified(self.name, "info"):
            info = self.api.info()  # one round trip: it carries the version too
        return EngineInfo(
            version=str(info.get("ServerVersion", "")),
            cpus=float(info.get("NCPU") or 0),
            memory_bytes=int(info.get("MemTotal") or 0),
            containers=int(info.get("Containers") or 0),
            system_time=_parse_time(info.get("SystemTime")),
            root_dir=str(info.get("DockerRootDir") or "") or None,
        )

    def drifted_deployments(self, installation: str, since: datetime, until: datetime) -> set[str]:
        """Ids of deployments whose containers (this installation's) died, were removed,
        paused or renamed between ``since`` and ``until``, on the engine's clock. A hint
        to look now; the periodic drift check still catches whatever this misses."""
        with classified(self.name, "events"):
            stream = self.api.events(
                since=since.timestamp(), until=until.timestamp(), decode=True,
                filters={"type": "container", "event": list(_DRIFT_EVENTS),
                         "label": [f"{L_INSTALLATION}={installation}"]},
            )
            try:
                return {
                    deployment_id for event in stream
                    if (deployment_id := ((event.get("Actor") or {}).get("Attributes") or {})
                        .get(L_DEPLOYMENT_ID))
                }
            finally:
                stream.close()

    def ping(self) -> None:
        with classified(self.name, "ping"):
            self.api.ping()

    # -- observe ---------------------------------------------------------------------

    def list_owned(self, deployment_id: str) -> list[ObservedContainer]:
        """Every container labelled as this deployment's. Nothing else is ever seen."""
        with classified(self.name, "list containers"):
            summaries = self.api.containers(
                all=True, filters={"label": f"{L_DEPLOYMENT_ID}={deployment_id}"}
            )
            observed = []
            for s in summaries:
                # Running: StartedAt (the summary's Created is whole seconds and earlier)
                # gates readiness; inspected once per run. Otherwise exit code and finish
                # time drive the crash back-off; those are few and inspected each time.
                try:
                    if s.get("State") == "running":
                        details = self.inspect_cached(s["Id"])
                    else:
                        self._inspected.pop(s["Id"], None)
                        details = self.api.inspect_container(s["Id"])
                except (derr.NotFound, ContainerGone):
                    continue  # removed since the list: it is simply not there
                observed.append(self._observed(s, details))
        return observed

    def list_managed(self, installation: str) -> list[tuple[str, str]]:
        """(container id, deployment id) of every container this installation made."""
        with classified(self.name, "list containers"):
            summaries = self.api.containers(
                all=True, filters={"label": [f"{L_MANAGED}=true", f"{L_INSTALLATION}={installation}"]}
            )
        return [(s["Id"], (s.get("Labels") or {}).get(L_DEPLOYMENT_ID, "")) for s in summaries]

    def managed_states(self, installation: str) -> list[tuple[str, str, str]]:
        """(container id, deployment id, state) of every container this installation
        made: one list call, whatever the number of deployments (the drift check's)."""
        with classified(self.name, "list containers"):
            summaries = self.api.containers(
                all=True, filters={"label": [f"{L_MANAGED}=true", f"{L_INSTALLATION}={installation}"]}
            )
        return [(s["Id"], (s.get("Labels") or {}).get(L_DEPLOYMENT_ID, ""), s.get("State", ""))
                for s in summaries]

    def _observed(self, summary: dict, details: dict | None) -> ObservedContainer:
        labels = summary.get("Labels") or {}
        state = summary.get("State", "unknown")
        exit_code = finished = started = None
        if details is not None:
            st = details.get("State", {})
            exit_code = st.get("ExitCode") if state != "running" else None
            finished = _parse_time(st.get("FinishedAt"))
            started = _parse_time(st.get("StartedAt"))
        name = (summary.get("Names") or ["/?"])[0].lstrip("/")
        published = tuple(
            (p["PrivatePort"], p.get("IP", ""), p["PublicPort"], p.get("Type", "tcp"))
            for p in summary.get("Ports") or []
            if p.get("PublicPort")
        )
        return ObservedContainer(
            container_id=summary["Id"],
            name=name,
            host=self.name,
            slot=int(labels.get(L_SLOT, -1)),
            template_hash=labels.get(L_TEMPLATE, ""),
            revision=int(labels.get(L_REVISION, 0)),
            state=state,
            exit_code=exit_code,
            started_at=started,
            finished_at=finished,
            host_ports=tuple(sorted({(p[2], p[3]) for p in published})),
            published=published,
        )

    def inspect_cached(self, container_id: str) -> dict:
        """Inspect a running container once: its start time, address and ports hold until
        it stops. Details of a container that is not running are never kept."""
        details = self._inspected.get(container_id)
        if details is None:
            with classified(self.name, "inspect", container_op=True):
                details = self.api.inspect_container(container_id)
            if details.get("State", {}).get("Running"):
                if len(self._inspected) > 4096:
                    self._inspected.clear()
                self._inspected[container_id] = details
        return details

    # -- act -------------------------------------------------------------------------

    def create_and_start(self, req: ContainerRequest) -> str:
        with classified(self.name, f"create {req.name}"):
            try:
                container_id = self._create(req)
            except derr.ImageNotFound as exc:
                raise ImageMissing(f"{self.name}: image {req.image} is not present") from exc
            except derr.APIError as exc:
                if exc.status_code != 409:
                    raise
                # An earlier attempt (perhaps by a worker that died) made it already.
                existing = self.api.inspect_container(req.name)
                if existing["Config"]["Labels"].get(L_DEPLOYMENT_ID) != req.labels[
                    L_DEPLOYMENT_ID
                ]:
                    raise PermanentEngineError(
                        f"{self.name}: a container named {req.name} exists and is not ours"
                    ) from exc
                container_id = existing["Id"]
                if existing["State"]["Running"]:
                    return container_id
                # That attempt may have ended before it joined every network.
                joined = (existing.get("NetworkSettings") or {}).get("Networks") or {}
                self._join(container_id, req, [n for n in req.networks if n not in joined])
            try:
                self.api.start(container_id)
            except derr.NotFound as exc:
                if not req.networks or "network" not in _engine_message(exc):
                    raise
                raise NetworkMissing(
                    f"{self.name}: start {req.name}: {_engine_message(exc)}") from exc
            return container_id

    def _join(self, container_id: str, req: ContainerRequest, networks: list[str]) -> None:
        """Connect a created container to more networks before it starts (an engine older
        than API 1.44 takes only one network at create)."""
        for network in networks:
            try:
                self.api.connect_container_to_network(
                    container_id, network,
                    aliases=req.aliases)
            except derr.NotFound as exc:
                raise NetworkMissing(
                    f"{self.name}: join {req.name} to {network}: {_engine_message(exc)}") from exc
            except derr.APIError as exc:
                # Joined already (a retry after a connect whose answer was lost).
                if "already exists" not in _engine_message(exc):
                    raise

    def _create(self, req: ContainerRequest) -> str:
        port_bindings: dict[str, list[tuple[str, int] | tuple[str]]] = {}
        exposed = []
        for p in req.ports:
            key = f"{p['container_port']}/{p['protocol']}"
            exposed.append((p["container_port"], p["protocol"]))
            binding = (p["host_ip"], p["host_port"]) if p.get("host_port") else (p["host_ip"],)
            port_bindings.setdefault(key, []).append(binding)
        host_config = self.api.create_host_config(
            port_bindings={k: v if len(v) > 1 else v[0] for k, v in port_bindings.items()},
            restart_policy={"Name": "no"},  # Moorage restarts, with back-off and events
            mem_limit=f"{req.memory_mb}m" if req.memory_mb else None,
            nano_cpus=int(req.cpus * 1e9) if req.cpus else None,
            binds=[
                f"{v['source']}:{v['target']}:{'ro' if v.get('read_only') else 'rw'}"
                for v in req.volumes
            ] or None,
            network_mode=req.networks[0] if req.networks else None,
        )
        networking = None
        if req.networks:
            networking = self.api.create_networking_config(
                {req.networks[0]: self.api.create_endpoint_config(aliases=req.aliases)})
        created = self.api.create_container(
            image=req.image,
            name=req.name,
            command=req.command,
            entrypoint=req.entrypoint,
            environment=req.env,
            labels=req.labels,
            ports=exposed or None,
            host_config=host_config,
            networking_config=networking,
        )
        self._join(created["Id"], req, req.networks[1:])
        return created["Id"]

    def start(self, container_id: str) -> None:
        with classified(self.name, "start", container_op=True):
            try:
                self.api.start(container_id)
            except derr.NotFound as exc:
                # A network it joins is gone (removed by hand): not the container.
                if "network" in _engine_message(exc) and "container" not in _engine_message(exc):
                    raise NetworkMissing(f"{self.name}: start: {_engine_message(exc)}") from exc
                raise

    def remove(self, container_id: str, stop_timeout: int = 10) -> None:
        with classified(self.name, "remove", container_op=True):
            try:
                self.api.stop(container_id, timeout=stop_timeout)
                self.api.remove_container(container_id, v=True, force=True)
            except derr.NotFound:
                return  # already gone: the goal is reached

    def remove_volume(self, name: str) -> bool:
        """Remove the named volume; False when this host has none of that name. One still
        in use is an error the engine calls a conflict (retried later)."""
        with classified(self.name, f"remove volume {name}"):
            try:
                self.api.remove_volume(name)
            except derr.NotFound:
                return False
            return True

    def image(self, ref: str) -> ImageInfo | None:
        """The image this host has for ``ref`` (a tag, digest reference or image id)."""
        with classified(self.name, f"inspect image {ref}"):
            try:
                details = self.api.inspect_image(ref)
            except derr.NotFound:  # ImageNotFound is a NotFound
                return None
        return ImageInfo(details["Id"], tuple(details.get("RepoDigests") or ()))

    def pull(
        self,
        ref: str,
        auth_config: dict[str, str] | None = None,
        on_progress: Callable[[str], None] | None = None,
        progress_every_s: float = 2.0,
    ) -> ImageInfo:
        """Pull ``ref``, calling ``on_progress`` with a summary at most every
        ``progress_every_s`` (less often as the pull drags on: ``progress_interval``).
        A refusal (no such image, bad credentials) is permanent; a registry that is down
        or busy is temporary."""
        progress = PullProgress()
        with classified(self.name, f"pull {ref}"):
            try:
                # The SDK splits name:tag and name@digest itself.
                stream = self.api.pull(ref, stream=True, decode=True, auth_config=auth_config)
                last, reported = time.monotonic(), 0
                for message in stream:
                    progress.feed(message)
                    if progress.error:
                        break
                    if on_progress is not None and (
                            time.monotonic() - last >= progress_interval(reported, progress_every_s)):
                        on_progress(progress.summary())
                        last, reported = time.monotonic(), reported + 1
            except derr.APIError as exc:  # refused before the stream began
                progress.error = _engine_message(exc)
            if progress.error:
                raise self._pull_failed(ref, progress.error)
            pulled = self.image(ref)
        if pulled is None:
            raise TemporaryEngineError(f"{self.name}: pulled {ref}, but the engine does not have it")
        return pulled

    def _pull_failed(self, ref: str, message: str) -> EngineError:
        text = f"{self.name}: image {ref} could not be pulled: {message}"
        return TemporaryEngineError(text) if pull_failure_is_temporary(message) else (
            PermanentEngineError(text))

    def stats(self, container_id: str) -> StatsReading:
        """One reading of a container's stats, without waiting for the engine's second
        sample (``one-shot``; engines before API 1.41 take their usual two). The engine
        answers at its collector's next tick, about a second: callers ask about many
        containers at once, not one after another."""
        with classified(self.name, "stats", container_op=True):
            if docker.utils.version_lt(self.api.api_version, "1.41"):
                raw = self.api.stats(container_id, stream=False)
            else:
                raw = self.api.stats(container_id, stream=False, one_shot=True)
        return _reading(raw)

    def logs(self, container_id: str, tail: int,
             since: datetime | None = None) -> list[tuple[datetime | None, str]]:
        with classified(self.name, "logs"):
            raw = self.api.logs(container_id, tail=tail, timestamps=True, since=_since(since))
        return [_log_line(line) for line in raw.decode(errors="replace").splitlines()]

    def follow_logs(self, container_id: str, tail: int | str,
                    since: datetime | None = None) -> LogStream:
        """The container's output as it comes, until it stops or the stream is closed
        (from any thread). Use a client without a short read timeout (``client_for(…,
        FOLLOW_TIMEOUT_S)``): a quiet container sends nothing for a long time."""
        with classified(self.name, "logs"):
            raw = self.api.logs(container_id, stream=True, follow=True, timestamps=True,
                                tail=tail, since=_since(since))
        return LogStream(raw)


def _since(value: datetime | None) -> float | None:
    # A float keeps the fraction (the SDK rounds a datetime down to the second); a time
    # without a zone is UTC, as every time in the API is.
    if value is None:
        return None
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    # Every line is at or after a time before 1970; Docker reads no such time (nor a
    # float Python writes as 1e-06), so none is sent.
    stamp = value.timestamp()
    return stamp if stamp >= 1 else None


def _log_line(line: str) -> tuple[datetime | None, str]:
    stamp, _, text = line.partition(" ")
    return _parse_time(stamp), text


class LogStream:
    """A followed container log: iterate for (time, line); ``close()`` ends it."""

    def __init__(self, raw) -> None:
        self._raw = raw  # the SDK's CancellableStream of output frames

    def __iter__(self) -> Iterator[tuple[datetime | None, str]]:
        # Frames are not lines: a long line can come in pieces, several lines in one.
        pending = b""
        try:
            for chunk in self._raw:
                pending += chunk
                *complete, pending = pending.split(b"\n")
                for raw in complete:
                    yield _log_line(raw.decode(errors="replace"))
        except (requests.exceptions.RequestException, derr.DockerException, OSError, ValueError):
            return  # closed under us, or the engine went away
        if pending:
            yield _log_line(pending.decode(errors="replace"))

    def close(self) -> None:
        with suppress(Exception):  # closed already, or the socket is gone
            self._raw.close()


# A followed log is quiet for as long as its container is: no read timeout to speak of.
FOLLOW_TIMEOUT_S = 7 * 24 * 3600.0


# One client (and connection pool) per host and timeout, per process; a host whose address
# changed leaves its old client behind, so the cache is bounded and closes what it drops.
_clients: BoundedCache[tuple[EngineAddress, float], EngineClient] = BoundedCache(
    512, on_evict=lambda client: client.close())


def client_for(address: EngineAddress, timeout: float = 30.0) -> EngineClient:
    """One client (and connection pool) per host and timeout, per process."""
    return _clients.get_or_make((address, timeout), lambda: EngineClient(address, timeout))


def drop_client(address: EngineAddress) -> None:
    for client in _clients.pop_where(lambda key: key[0] != address):
        client.close()
