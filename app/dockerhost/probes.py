"""Health probes, run by the worker from outside the container where possible.

``http`` and ``tcp`` go to the container's own address on its bridge, so they work for
images that contain no tools at all (FROM scratch). A published port is no substitute:
docker-proxy accepts a TCP connection even when nothing listens inside. For engines on
other machines (tcp://, ssh://) the container's bridge is not routable from here, so the
probe goes to the host's published port instead. ``exec`` runs inside the container.
"""

from __future__ import annotations

import socket
import threading
from dataclasses import dataclass
from urllib.parse import urlparse

import httpx

from app.dockerhost.engine import EngineClient, classified
from app.dockerhost.errors import EngineError
from app.reconcile.template import ExecProbe, HealthCheck, HttpProbe, TcpProbe

MAX_OUTPUT = 400
_local = threading.local()


def _http() -> httpx.Client:
    # A client per thread: building one per probe cost ~50 ms of CPU (measured).
    client = getattr(_local, "client", None)
    if client is None:
        client = _local.client = httpx.Client(follow_redirects=False)
    return client


@dataclass(frozen=True)
class ProbeResult:
    ok: bool
    output: str


def _short(text: str) -> str:
    text = " ".join(text.split())
    return text if len(text) <= MAX_OUTPUT else text[: MAX_OUTPUT - 1] + "…"


def _target(client: EngineClient, container_id: str, port: int) -> tuple[str, int]:
    details = client.inspect_cached(container_id)
    if client.url.startswith("unix://"):
        networks = details.get("NetworkSettings", {}).get("Networks") or {}
        for net in networks.values():
            if net.get("IPAddress"):
                return net["IPAddress"], port
    host = urlparse(client.url).hostname or "127.0.0.1"
    bindings = (details.get("NetworkSettings", {}).get("Ports") or {}).get(f"{port}/tcp") or []
    for b in bindings:
        if b.get("HostPort"):
            return host, int(b["HostPort"])
    raise EngineError(f"container port {port} is neither reachable nor published")


def probe(client: EngineClient, container_id: str, check: HealthCheck) -> ProbeResult:
    """Run a revision's health check (its typed template's) once against a container."""
    timeout = check.timeout_s
    spec = check.probe
    try:
        if isinstance(spec, HttpProbe):
            ip, port = _target(client, container_id, spec.port)
            url = f"http://{ip}:{port}{spec.path}"
            response = _http().get(url, timeout=timeout)
            ok = 200 <= response.status_code < 400
            return ProbeResult(ok, _short(f"HTTP {response.status_code} from {url}"))
        if isinstance(spec, TcpProbe):
            ip, port = _target(client, container_id, spec.port)
            with socket.create_connection((ip, port), timeout=timeout):
                return ProbeResult(True, f"connected to {ip}:{port}")
        if isinstance(spec, ExecProbe):
            return _exec(client, container_id, list(spec.argv), timeout)
    except httpx.HTTPError as exc:
        return ProbeResult(False, _short(f"{exc.__class__.__name__}: {exc}"))
    except OSError as exc:
        return ProbeResult(False, _short(f"connection failed: {exc}"))
    except EngineError as exc:
        return ProbeResult(False, _short(str(exc)))
    return ProbeResult(True, "no check")


def _exec(client: EngineClient, container_id: str, argv: list[str], timeout: float) -> ProbeResult:
    with classified(client.name, "exec probe", container_op=True):
        exec_id = client.api.exec_create(container_id, argv, stdout=True, stderr=True)["Id"]
        output = client.api.exec_start(exec_id).decode(errors="replace")
        code = client.api.exec_inspect(exec_id).get("ExitCode")
    return ProbeResult(code == 0, _short(f"exit {code}: {output}"))
