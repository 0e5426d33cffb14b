"""A live Moorage: real API, worker and beat processes, a real Postgres, Redis and dockerd."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.conftest import AUTH, service_env, unavailable
from tests.support import dockerd
from tests.support.parallel import engine_index
from tests.support.ports import free_port

VENV_BIN = Path(sys.executable).parent
E2E_ENGINE = engine_index(5)  # its own engine: other suites stop and start engines 1-3
# Engines of their own: other suites stop and start 1-3 and 5.
FLEET = tuple(map(engine_index, (11, 12, 13)))
GRACE_S = 4  # the fleet stack's host grace period

# Short periods so drift and lost jobs are found in seconds, not minutes.
FAST = {
    "MOORAGE_RESYNC_INTERVAL_S": "1",
    "MOORAGE_HEARTBEAT_INTERVAL_S": "1",
    "MOORAGE_RECONCILE_LEASE_S": "6",
    "MOORAGE_BACKOFF_BASE_S": "0.5",
    "MOORAGE_BACKOFF_MAX_S": "8",
    "MOORAGE_READY_SETTLE_S": "0.5",
    "MOORAGE_PROCESS_HEARTBEAT_INTERVAL_S": "1",
    "MOORAGE_PROCESS_STALE_AFTER_S": "3",
    "MOORAGE_LOG_LEVEL": "INFO",
    # One API process per stack: a stack starts and stops its API several times a test, and
    # uvicorn's multi-process supervisor takes ~2 s to stop (one process: 0.2 s). The
    # default (one per core) ran the whole e2e suite green on 2026-12-01 (4f31da1).
    "MOORAGE_API_WORKERS": "1",
}


def wait_for(check: Callable[[], Any], timeout: float, what: str, interval: float = 0.1) -> Any:
    deadline = time.monotonic() + timeout
    last: Any = None
    while time.monotonic() < deadline:
        try:
            last = check()
        except (httpx.HTTPError, subprocess.CalledProcessError) as exc:
            last = exc
        else:
            if last:
                return last
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout}s waiting for {what}; last: {last!r}")


@pytest.fixture(scope="session")
def engine() -> dockerd.Engine:
    try:
        dockerd.require_tools()
        eng = dockerd.Engine(E2E_ENGINE)
        eng.start()
        dockerd.build_test_images(eng)
    except dockerd.EngineUnavailable as exc:
        unavailable(str(exc))
    return eng


@dataclass
class Stack:
    engine: dockerd.Engine
    workdir: Path
    env: dict[str, str]
    port: int
    procs: dict[str, subprocess.Popen] = field(default_factory=dict)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def client(self) -> httpx.Client:
        """A client with the run's admin token."""
        return httpx.Client(base_url=self.url, timeout=30, headers=AUTH)

    def api_up(self) -> bool:
        """Whether this stack's API answers: its process alive and /healthz Moorage's own
        answer (not something else that came to listen on the port)."""
        api = self.procs.get("api")
        if api is not None and api.poll() is not None:
            raise AssertionError(f"the API exited with {api.returncode}\n{self.logs()}")
        r = httpx.get(f"{self.url}/healthz")
        return r.status_code == 200 and r.headers.get("content-type") == "application/json" \
            and r.json() == {"status": "ok"}

    def start(self, role: str, *args: str) -> subprocess.Popen:
        log = open(self.workdir / f"{role}.log", "ab")  # noqa: SIM115  (closed with the process)
        proc = subprocess.Popen(
            [str(VENV_BIN / "moorage"), *args], env=self.env, stdout=log, stderr=log,
            start_new_session=True,  # its own process group: SIGKILL takes the whole worker
        )
        self.procs[role] = proc
        return proc

    def start_worker(self) -> subprocess.Popen:
        return self.start("worker", "worker", "--concurrency", "2")

    def kill(self, role: str, sig: int = signal.SIGKILL) -> None:
        proc = self.procs.pop(role)
        with suppress(ProcessLookupError):
            os.killpg(proc.pid, sig)
        proc.wait(timeout=30)

    def stop_all(self) -> None:
        # All asked at once, then waited for: a worker's warm shutdown (finishing its task)
        # then overlaps the API's and beat's instead of adding to them.
        for proc in self.procs.values():
            with suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGTERM)
        deadline = time.monotonic() + 15
        for role in list(self.procs):
            try:
                self.procs[role].wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                self.kill(role)
            self.procs.pop(role, None)

    def logs(self) -> str:
        return "\n".join(
            f"--- {p.name} ---\n{p.read_text(errors='replace')[-4000:]}"
            for p in sorted(self.workdir.glob("*.log"))
        )

    # -- what tests look at --------------------------------------------------------

    def containers(
        self, deployment: str, all_states: bool = False, engine: dockerd.Engine | None = None
    ) -> list[dict[str, str]]:
        args = ["ps", "--filter", f"label=moorage.deployment={deployment}",
                "--format", "{{.ID}}\t{{.Names}}\t{{.State}}\t{{.Label \"moorage.slot\"}}"]
        if all_states:
            args.insert(1, "-a")
        out = (engine or self.engine).docker(*args).stdout
        rows = []
        for line in out.splitlines():
            cid, name, state, slot = line.split("\t")
            rows.append({"id": cid, "name": name, "state": state, "slot": slot})
        return rows

    def deployment(self, name: str) -> dict[str, Any]:
        with self.client() as c:
            r = c.get(f"/v1/deployments/{name}")
            r.raise_for_status()
            return r.json()

    def wait_rollout(self, rollout_id: str, timeout: float = 60) -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        with self.client() as c:
            while True:
                r = c.get(f"/v1/rollouts/{rollout_id}", params={"wait": 5})
                r.raise_for_status()
                body = r.json()
                if body["state"] not in ("pending", "in_progress"):
                    return body
                if time.monotonic() > deadline:
                    raise AssertionError(f"rollout still {body['state']}: {body}\n{self.logs()}")


@contextmanager
def running_stack(
    tmp_path: Path, hosts: dict[str, dockerd.Engine], labels: dict[str, dict] | None = None,
    engine: dockerd.Engine | None = None, **settings: str,
) -> Iterator[Stack]:
    """API, worker and beat processes, with ``hosts`` registered under those names.

    ``stack.engine`` is ``engine``, else the first host's; with no ``hosts`` the test
    registers its own (and cleans up after them).
    """
    env = {**os.environ, **service_env(), **FAST, **settings,
           "MOORAGE_DATA_DIR": str(tmp_path / "data")}
    env.pop("DOCKER_HOST", None)
    first = engine or next(iter(hosts.values()))
    s = Stack(engine=first, workdir=tmp_path, env=env, port=free_port())
    s.start("api", "api", "--port", str(s.port))
    s.start_worker()
    s.start("beat", "beat")
    try:
        wait_for(s.api_up, 30, "the API")
        with s.client() as c:
            for name, eng in hosts.items():
                body = {"name": name, "url": eng.url, "labels": (labels or {}).get(name, {})}
                r = c.post("/v1/hosts", json=body)
                assert r.status_code == 201, r.text
        yield s
    finally:
        s.stop_all()
        for eng in hosts.values():
            if eng.is_up():
                eng.remove_all_containers()
                eng.remove_managed_networks()


@pytest.fixture
def stack(clean_db, engine: dockerd.Engine, tmp_path: Path) -> Iterator[Stack]:
    with running_stack(tmp_path, {"e2e": engine}) as s:
        yield s


@pytest.fixture(scope="module")
def fleet_engines(engine: dockerd.Engine) -> list[dockerd.Engine]:
    try:
        engines = [dockerd.Engine(i) for i in FLEET]
        for e in engines:
            e.start()
            dockerd.copy_images(engine, e)  # nothing can be pulled: save | load
    except dockerd.EngineUnavailable as exc:
        unavailable(str(exc))
    return engines


@pytest.fixture
def fleet(clean_db, fleet_engines, tmp_path: Path) -> Iterator[Stack]:
    for e in fleet_engines:
        e.start()  # a previous test may have stopped one
    hosts = {f"h{i}": e for i, e in enumerate(fleet_engines, 1)}
    labels = {"h1": {"region": "eu"}, "h2": {"region": "us"}, "h3": {"region": "us"}}
    with running_stack(tmp_path, hosts, labels, MOORAGE_HOST_GRACE_S=str(GRACE_S)) as s:
        s.hosts = hosts  # type: ignore[attr-defined]
        yield s
