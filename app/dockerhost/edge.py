"""An edge's proxy container (Caddy), driven through the engine alone.

Everything goes through the Docker API, so it works the same for unix://, tcp:// (TLS)
and ssh:// hosts, and nothing needs to reach the host's loopback: the config is put into
the container as an archive (``put_archive``) and loaded by ``caddy reload`` run in it
(a graceful reload: requests in flight finish on the old config). How many requests are
in flight per upstream is read from Caddy's admin API by ``wget`` inside the container
(the official image's Alpine has it, the test image's busybox too).

The container uses the host's network: the listen ports of endpoints come and go without
recreating it (a published port is fixed at create), and replicas' ports published on
the host's loopback are reachable from it. Its restart policy is ``unless-stopped``, so
the engine restarts a crashed proxy at once; Moorage then gives it its config again.
"""

from __future__ import annotations

import io
import json
import tarfile
import time
from dataclasses import dataclass

from docker import errors as derr

from app.dockerhost.engine import L_INSTALLATION, L_MANAGED, EngineClient, classified
from app.dockerhost.errors import ImageMissing, TemporaryEngineError

EDGE_CONTAINER = "moorage-edge"
CONFIG_DIR = "/etc/caddy"
CONFIG_FILE = "moorage.json"
CONFIG_PATH = f"{CONFIG_DIR}/{CONFIG_FILE}"
L_EDGE = "moorage.edge"
L_EDGE_IMAGE = "moorage.edge-image"  # the reference as configured (an upgrade changes it)
L_EDGE_ADMIN = "moorage.edge-admin"


@dataclass(frozen=True)
class EdgeContainer:
    container_id: str
    running: bool
    started_at: str  # as the engine says it: a restart changes it
    image: str  # the configured reference it was made from
    admin: str  # its admin API's address


class ProxyError(TemporaryEngineError):
    """The proxy refused a config or could not be asked (it says why)."""


def _archive(name: str, data: bytes) -> bytes:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as tar:
        info = tarfile.TarInfo(name)
        info.size, info.mode, info.mtime = len(data), 0o644, int(time.time())
        tar.addfile(info, io.BytesIO(data))
    return buf.getvalue()


class EdgeDriver:
    def __init__(self, client: EngineClient) -> None:
        self.client = client
        self.name = client.name

    def inspect(self) -> EdgeContainer | None:
        with classified(self.name, "inspect the edge proxy"):
            try:
                details = self.client.api.inspect_container(EDGE_CONTAINER)
            except derr.NotFound:
                return None
        labels = details.get("Config", {}).get("Labels") or {}
        state = details.get("State") or {}
        return EdgeContainer(
            container_id=details["Id"],
            running=bool(state.get("Running")) and not state.get("Restarting"),
            started_at=str(state.get("StartedAt") or ""),
            image=labels.get(L_EDGE_IMAGE, ""),
            admin=labels.get(L_EDGE_ADMIN, ""),
        )

    def create(self, image: str, admin: str, installation: str, config: bytes) -> str:
        """Make the proxy container with ``config`` in place, and start it."""
        api = self.client.api
        with classified(self.name, "create the edge proxy"):
            host_config = api.create_host_config(
                network_mode="host", restart_policy={"Name": "unless-stopped"})
            try:
                created = api.create_container(
                    image=image, name=EDGE_CONTAINER, host_config=host_config,
                    command=["caddy", "run", "--config", CONFIG_PATH],
                    labels={L_MANAGED: "true", L_INSTALLATION: installation, L_EDGE: "true",
                            L_EDGE_IMAGE: image, L_EDGE_ADMIN: admin},
                )
            except derr.ImageNotFound as exc:
                raise ImageMissing(f"{self.name}: image {image} is not present") from exc
            cid = created["Id"]
            self._put(cid, config)
            api.start(cid)
        return cid

    def start(self, container_id: str, config: bytes) -> None:
        with classified(self.name, "start the edge proxy", container_op=True):
            self._put(container_id, config)
            self.client.api.start(container_id)

    def remove(self, container_id: str) -> None:
        self.client.remove(container_id, stop_timeout=5)

    def _put(self, container_id: str, config: bytes) -> None:
        if not self.client.api.put_archive(container_id, CONFIG_DIR, _archive(CONFIG_FILE, config)):
            raise ProxyError(f"{self.name}: could not write the proxy's config")

    def _exec(self, container_id: str, argv: list[str], what: str) -> str:
        api = self.client.api
        with classified(self.name, what, container_op=True):
            ex = api.exec_create(container_id, argv, stdout=True, stderr=True)
            out = api.exec_start(ex["Id"]).decode(errors="replace")
            code = api.exec_inspect(ex["Id"]).get("ExitCode")
        if code != 0:
            raise ProxyError(f"{self.name}: {what} failed (exit {code}): {out.strip()[-500:]}")
        return out

    def load(self, container_id: str, config: bytes, admin: str) -> None:
        """Give the running proxy ``config``: a graceful reload (in-flight requests finish)."""
        with classified(self.name, "configure the edge proxy", container_op=True):
            self._put(container_id, config)
        self._exec(container_id, ["caddy", "reload", "--config", CONFIG_PATH, "--address", admin],
                   "reload the edge proxy")

    def migrates_requests(self, container_id: str) -> bool | None:
        """Whether the host's kernel hands connections queued on a closing listener to
        another one of the same port (``net.ipv4.tcp_migrate_req``). Caddy reloads with
        SO_REUSEPORT: a new socket, then the old one closes, and without this the kernel
        resets the connections still queued on the old one. None: cannot tell."""
        try:
            out = self._exec(container_id, ["cat", "/proc/sys/net/ipv4/tcp_migrate_req"], "read a sysctl")
        except TemporaryEngineError:
            return None
        return out.strip() == "1"

    def in_flight(self, container_id: str, admin: str) -> dict[str, int]:
        """Requests in flight per upstream address. One that has left the config is
        listed until its last request finishes."""
        out = self._exec(container_id, ["wget", "-q", "-O", "-", f"http://{admin}/reverse_proxy/upstreams"],
                         "ask the edge proxy for its upstreams")
        try:
            rows = json.loads(out or "[]") or []
        except ValueError as exc:
            raise ProxyError(f"{self.name}: the proxy's upstreams are not JSON: {out[:200]!r}") from exc
        return {str(r.get("address")): int(r.get("num_requests") or 0) for r in rows}

