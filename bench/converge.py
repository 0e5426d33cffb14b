"""Time to converge: N replicas on one engine, Moorage vs. the Docker SDK floor vs. Swarm.

    .venv/bin/python -m bench.converge [--runs 3] [--sizes 10,50]

For each N, on ONE private engine (tests.support.dockerd engine 7, which no test suite
uses), starting from nothing:

* floor     the same N containers (image moorage-test/web:v1, no ports, restart policy
            "no") created and started through the Docker SDK (``docker.APIClient``:
            create_container + start) from a ThreadPoolExecutor of 16 threads, which is
            Moorage's default docker pool size (MOORAGE_DOCKER_POOL_SIZE=16); the client's
            connection pool is 32, as Moorage's. Timed until all N are running.
* Moorage   the production topology, for real: a fresh Postgres database, Redis with a
            queue of its own, ``moorage migrate``, then ``moorage api``, ``moorage worker``
            (its default concurrency) and ``moorage beat`` as separate processes; the
            engine registered as a host with ``POST /v1/hosts``. Timed from just before
            ``PUT /v1/deployments/{name}`` (a) until all N containers are running as the
            engine sees them, and (b) until the rollout is ``succeeded`` as
            ``GET /v1/rollouts/{id}?wait=...`` reports it (the time its answer arrived).
            (b) is meant to include the readiness settle window: Moorage counts a
            replica ready only once it has run for MOORAGE_READY_SETTLE_S (default
            1.0 s, left at its default here). See RESULTS.md: as of 2026-11-25 the
            window is measured from the container's creation, not its start.
* Swarm     ``docker swarm init --advertise-addr 127.0.0.1`` on the same engine, then
            ``docker service create --detach --no-resolve-image --replicas N``, polled with
            ``docker service ls`` until it shows N/N. (--no-resolve-image: otherwise the
            CLI asks a registry for the image digest.) The engine runs with
            DOCKER_SERVICE_PREFER_OFFLINE_IMAGE=1, without which every swarm task first
            tries to pull its image from Docker Hub; the benchmark checks the engine's
            log for any registry access afterwards. It talks to nothing but 127.0.0.1,
            Postgres/Redis there, and the engine's socket.

"Running as the engine sees it" is one poller for all three: the Docker SDK listing the
running containers with the run's label every 20 ms. A poll's time is when it was
issued, so every figure is "the first poll that saw the goal was sent at t"; the same
convention is used for ``docker service ls``.

Between runs everything is removed and we wait until the engine shows none of the run's
containers. Each approach gets one untimed warm-up run first (long-lived processes in
production are warm; Swarm's first task also creates docker_gwbridge). Floor and Moorage
runs alternate; Swarm runs last, after the Moorage processes are stopped, so that a
swarm-mode engine never sits under the other two. Everything the benchmark made (the
containers, processes, database, queue, swarm, and the engine if it started it) is
removed in ``finally``.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from contextlib import suppress
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import docker
import httpx

from tests.support import dockerd

IMAGE = dockerd.WEB_V1
ENGINE_INDEX = 7  # test suites use engines 1-5
POOL_SIZE = 16  # Moorage's default MOORAGE_DOCKER_POOL_SIZE
POLL_S = 0.02
RUN_TIMEOUT_S = 300.0
VENV_BIN = Path(sys.executable).parent
PG_ADMIN_URL = os.environ.get(
    "MOORAGE_BENCH_PG_ADMIN_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
)
REDIS_URL = os.environ.get("MOORAGE_BENCH_REDIS_URL", "redis://127.0.0.1:6379/0")
BENCH_LABEL = "moorage.bench"  # floor containers
SWARM_LABEL = "com.docker.swarm.service.name"
CLK_TCK = os.sysconf("SC_CLK_TCK")


def log(msg: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {msg}", flush=True)


def wait_until(check: Callable[[], Any], timeout: float, what: str, interval: float = 0.05) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        result = check()
        if result:
            return result
        if time.monotonic() > deadline:
            raise TimeoutError(f"timed out after {timeout:.0f}s waiting for {what}")
        time.sleep(interval)


# -- observing the engine --------------------------------------------------------------


class RunningWatcher(threading.Thread):
    """Polls the engine every POLL_S for running containers carrying ``label``."""

    def __init__(self, api: docker.APIClient, label: str, n: int) -> None:
        super().__init__(daemon=True, name="watcher")
        self.api, self.label, self.n = api, label, n
        self.first_at: float | None = None  # monotonic: first poll that saw one running
        self.all_at: float | None = None  # ... that saw all n running
        self.error: BaseException | None = None
        self._stop_event = threading.Event()

    def run(self) -> None:
        deadline = time.monotonic() + RUN_TIMEOUT_S
        try:
            while not self._stop_event.is_set() and time.monotonic() < deadline:
                issued = time.monotonic()
                running = self.api.containers(
                    quiet=True, filters={"label": self.label, "status": "running"}
                )
                if running and self.first_at is None:
                    self.first_at = issued
                if len(running) >= self.n:
                    self.all_at = issued
                    return
                time.sleep(POLL_S)
        except BaseException as exc:  # reported by result()
            self.error = exc

    def result(self, timeout: float = RUN_TIMEOUT_S) -> float:
        self.join(timeout)
        if self.error is not None:
            raise self.error
        if self.all_at is None:
            raise TimeoutError(f"{self.label}: never saw {self.n} running containers")
        return self.all_at

    def stop(self) -> None:
        self._stop_event.set()


def container_ids(api: docker.APIClient, label: str) -> list[str]:
    return [c["Id"] for c in api.containers(all=True, quiet=True, filters={"label": label})]


def wait_gone(api: docker.APIClient, label: str, timeout: float = 120) -> None:
    wait_until(lambda: not container_ids(api, label), timeout, f"containers {label} to be gone", 0.1)


def remove_labelled(api: docker.APIClient, label: str) -> None:
    for cid in container_ids(api, label):
        with suppress(docker.errors.NotFound):
            api.remove_container(cid, force=True, v=True)


def _ts(value: str) -> float | None:
    """Docker's RFC 3339 nanosecond timestamp -> epoch seconds."""
    if not value or value.startswith("0001-"):
        return None
    head, _, rest = value.rstrip("Z").partition(".")
    frac = "".join(ch for ch in rest if ch.isdigit())[:6]
    return datetime.fromisoformat(f"{head}.{frac or '0'}+00:00").timestamp()


def engine_timeline(api: docker.APIClient, label: str, t0_wall: float) -> dict[str, float]:
    """When the engine says the run's containers were created and started, from t0."""
    created, started = [], []
    for cid in container_ids(api, label):
        with suppress(docker.errors.NotFound):
            d = api.inspect_container(cid)
            if (c := _ts(d.get("Created", ""))) is not None:
                created.append(c - t0_wall)
            if (s := _ts(d.get("State", {}).get("StartedAt", ""))) is not None:
                started.append(s - t0_wall)
    out = {}
    if created:
        out |= {"first_created": min(created), "last_created": max(created)}
    if started:
        out |= {"first_started": min(started), "last_started": max(started)}
    return out


# -- CPU accounting (where the two cores went during a run) ----------------------------


def _proc_stat(pid: int) -> tuple[str, int, int, int] | None:
    """(comm, ppid, pgrp, utime+stime ticks)."""
    try:
        raw = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    comm = raw[raw.index("(") + 1 : raw.rindex(")")]
    fields = raw[raw.rindex(")") + 2 :].split()
    return comm, int(fields[1]), int(fields[2]), int(fields[11]) + int(fields[12])


def _cmdline(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
    except OSError:
        return ""


def _system_ticks() -> tuple[int, int]:
    """(busy, total) jiffies over all CPUs."""
    parts = [int(x) for x in Path("/proc/stat").read_text().splitlines()[0].split()[1:]]
    idle = parts[3] + parts[4]
    total = sum(parts[:8])
    return total - idle, total


def background_load(seconds: float = 5.0) -> float:
    """Fraction of all cores busy while the benchmark itself does nothing."""
    a = _system_ticks()
    time.sleep(seconds)
    b = _system_ticks()
    return (b[0] - a[0]) / max(1, b[1] - a[1])


@dataclass
class CpuSnapshot:
    at: float
    system: tuple[int, int]
    procs: dict[int, tuple[str, int, int, int]]


class CpuAccount:
    """Per-category CPU seconds between two snapshots (processes that exit in between lose
    their share to "other"; so do the short-lived runc and docker CLI processes)."""

    def __init__(self, engine: dockerd.Engine, groups: Callable[[], dict[int, str]]) -> None:
        self.engine = engine
        self.groups = groups  # process-group id -> category (the Moorage processes)

    def snapshot(self) -> CpuSnapshot:
        procs = {}
        for entry in os.scandir("/proc"):
            if entry.name.isdigit() and (st := _proc_stat(int(entry.name))) is not None:
                procs[int(entry.name)] = st
        return CpuSnapshot(time.monotonic(), _system_ticks(), procs)

    def _category(self, pid: int, comm: str, ppid: int, pgrp: int) -> str:
        dockerd_pid = self.engine.pid()
        ns = f"moorage-{self.engine.name}"
        if pid == dockerd_pid:
            return "dockerd"
        if comm == "containerd" and ppid == dockerd_pid:
            return "containerd"
        if comm.startswith("containerd-shim") and ns in _cmdline(pid):
            return "shim+containers"
        if pgrp in (groups := self.groups()):
            return groups[pgrp]
        if pid == os.getpid():
            return "bench"
        if comm in ("postgres", "redis-server"):
            return comm
        return "other"

    def diff(self, a: CpuSnapshot, b: CpuSnapshot) -> dict[str, float]:
        wall = b.at - a.at
        busy = (b.system[0] - a.system[0]) / CLK_TCK
        out: dict[str, float] = {"wall_s": wall, "busy_s": busy,
                                 "capacity_s": wall * (os.cpu_count() or 1)}
        accounted = 0.0
        for pid, (comm, ppid, pgrp, ticks) in b.procs.items():
            before = a.procs.get(pid)
            delta = (ticks - (before[3] if before and before[0] == comm else 0)) / CLK_TCK
            if delta <= 0:
                continue
            cat = self._category(pid, comm, ppid, pgrp)
            if cat == "other":
                continue
            out[cat] = out.get(cat, 0.0) + delta
            accounted += delta
        out["other"] = max(0.0, busy - accounted)
        return out


# -- the floor: the Docker SDK and a 16-thread pool ------------------------------------


def floor_run(api: docker.APIClient, watch_api: docker.APIClient, n: int, tag: str,
              cpu: CpuAccount) -> dict[str, Any]:
    label = f"{BENCH_LABEL}={tag}"
    host_config = api.create_host_config(restart_policy={"Name": "no"})

    def one(i: int) -> None:
        created = api.create_container(IMAGE, name=f"{tag}-{i}", labels={BENCH_LABEL: tag},
                                       host_config=host_config)
        api.start(created["Id"])

    watcher = RunningWatcher(watch_api, label, n)
    watcher.start()
    before = cpu.snapshot()
    t0, t0_wall = time.monotonic(), time.time()
    try:
        with ThreadPoolExecutor(POOL_SIZE, thread_name_prefix="floor") as pool:
            list(pool.map(one, range(n)))
        calls_done = time.monotonic() - t0
        running = watcher.result() - t0
    finally:
        watcher.stop()
    after = cpu.snapshot()
    result = {"running": running, "calls_done": calls_done,
              "engine": engine_timeline(watch_api, label, t0_wall), "cpu": cpu.diff(before, after)}
    remove_labelled(api, label)
    wait_gone(watch_api, label)
    return result


# -- Moorage: the production topology ----------------------------------------------------


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class MoorageStack:
    engine: dockerd.Engine
    workdir: Path
    run_id: str = field(default_factory=lambda: uuid.uuid4().hex[:8])
    port: int = field(default_factory=free_port)
    procs: dict[str, subprocess.Popen] = field(default_factory=dict)
    db_created: bool = False
    token: str | None = None
    # The API makes this admin token at startup (MOORAGE_BOOTSTRAP_TOKEN).
    token: str = field(default_factory=lambda: f"mrg_bench_{uuid.uuid4().hex}{uuid.uuid4().hex}")

    @property
    def db_name(self) -> str:
        return f"moorage_bench_{self.run_id}"

    @property
    def queue(self) -> str:
        return f"moorage-bench-{self.run_id}"

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def env(self) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith(("MOORAGE_", "DOCKER_"))}
        return env | {
            "MOORAGE_ENVIRONMENT": "production",
            "MOORAGE_DATABASE_URL": PG_ADMIN_URL.rsplit("/", 1)[0] + f"/{self.db_name}",
            "MOORAGE_BROKER_URL": REDIS_URL,
            "MOORAGE_QUEUE": self.queue,
            "MOORAGE_DATA_DIR": str(self.workdir / "data"),
            "MOORAGE_LOG_LEVEL": "INFO",
            "MOORAGE_BOOTSTRAP_TOKEN": self.token,
        }

    def _admin(self):
        import sqlalchemy as sa

        return sa, sa.create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")

    def start(self) -> None:
        sa, admin = self._admin()
        with admin.connect() as conn:
            conn.execute(sa.text(f'CREATE DATABASE "{self.db_name}"'))
        admin.dispose()
        self.db_created = True
        subprocess.run([str(VENV_BIN / "moorage"), "migrate"], env=self.env, check=True,
                       capture_output=True, timeout=120)
        self.token = self._admin_token()
        self._spawn("api", "api", "--port", str(self.port))
        self._spawn("worker", "worker")  # its default --concurrency, as in docker-compose.yml
        self._spawn("beat", "beat")
        wait_until(self._healthy, 60, "the Moorage API", 0.1)
        with self.client() as c:
            r = c.post("/v1/hosts", json={"name": "bench", "url": self.engine.url})
            if r.status_code != 201:
                raise RuntimeError(f"registering the engine failed: {r.status_code} {r.text}")
            wait_until(lambda: c.get("/v1/hosts/bench").json()["state"] == "ready", 60,
                       "the host to be ready", 0.2)

    def _admin_token(self) -> str | None:
        """An admin token from `moorage token create` (None if this Moorage has no auth)."""
        proc = subprocess.run(
            [str(VENV_BIN / "moorage"), "token", "create", "--scope", "admin", "--name", "bench"],
            env=self.env, capture_output=True, text=True, timeout=60,
        )
        if proc.returncode != 0:
            if "No such command" in proc.stderr:
                return None
            raise RuntimeError(f"moorage token create failed: {proc.stderr.strip()}")
        return proc.stdout.strip().splitlines()[-1]

    def _spawn(self, role: str, *args: str) -> None:
        out = open(self.workdir / f"{role}.log", "ab")  # noqa: SIM115  (lives with the process)
        self.procs[role] = subprocess.Popen(
            [str(VENV_BIN / "moorage"), *args], env=self.env, stdout=out, stderr=out,
            start_new_session=True,
        )

    def _healthy(self) -> bool:
        for role, proc in self.procs.items():
            if proc.poll() is not None:
                raise RuntimeError(f"moorage {role} exited with {proc.returncode}; see {self.workdir}")
        try:
            return httpx.get(f"{self.url}/readyz", timeout=2).status_code == 200
        except httpx.HTTPError:
            return False

    def client(self) -> httpx.Client:
        return httpx.Client(base_url=self.url, timeout=60,
                            headers={"Authorization": f"Bearer {self.token}"})

    def process_groups(self) -> dict[int, str]:
        return {p.pid: f"moorage-{role}" for role, p in self.procs.items() if p.poll() is None}

    def stop(self) -> None:
        for role in list(self.procs):
            proc = self.procs.pop(role)
            with suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGTERM)
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                with suppress(ProcessLookupError):
                    os.killpg(proc.pid, signal.SIGKILL)
                proc.wait(timeout=10)

    def drop(self) -> None:
        if self.db_created:
            sa, admin = self._admin()
            with admin.connect() as conn:
                conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{self.db_name}" WITH (FORCE)'))
            admin.dispose()
            self.db_created = False
        import redis

        client = redis.Redis.from_url(REDIS_URL)
        try:
            client.delete(self.queue)
        finally:
            client.close()


def _parse_api_time(value: str | None) -> float | None:
    return datetime.fromisoformat(value).timestamp() if value else None


_CELERY_LINE = re.compile(
    r"^\[(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3}): \w+/[\w-]+\] "
    r"Task deployments\.reconcile\[([0-9a-f-]+)\] (received|succeeded in ([\d.]+)s)"
)


def worker_tasks(logfile: Path, start_wall: float, end_wall: float) -> list[dict[str, Any]]:
    """Reconcile tasks the worker logged between the two times (its log is local time)."""
    tasks: dict[str, dict[str, Any]] = {}
    for line in logfile.read_text(errors="replace").splitlines():
        m = _CELERY_LINE.match(line)
        if not m:
            continue
        at = datetime.strptime(m.group(1), "%Y-%m-%d %H:%M:%S,%f").timestamp()
        if m.group(3) == "received":
            if start_wall - 0.01 <= at <= end_wall:
                tasks[m.group(2)] = {"received": at - start_wall}
        elif m.group(2) in tasks:
            tasks[m.group(2)]["ran_s"] = float(m.group(4))
            tasks[m.group(2)]["finished"] = at - start_wall
    return sorted(tasks.values(), key=lambda t: t["received"])


def moorage_run(stack: MoorageStack, watch_api: docker.APIClient, n: int, name: str,
                cpu: CpuAccount) -> dict[str, Any]:
    label = f"moorage.deployment={name}"
    watcher = RunningWatcher(watch_api, label, n)
    watcher.start()
    with stack.client() as c:
        before = cpu.snapshot()
        t0, t0_wall = time.monotonic(), time.time()
        try:
            r = c.put(f"/v1/deployments/{name}", json={"image": IMAGE, "replicas": n})
            put_s = time.monotonic() - t0
            if r.status_code != 201:
                raise RuntimeError(f"PUT {name}: {r.status_code} {r.text}")
            rollout_id = r.json()["current_rollout"]["id"]
            running = watcher.result() - t0
            cpu_running = cpu.diff(before, cpu.snapshot())
            deadline = t0 + RUN_TIMEOUT_S
            while True:
                issued = time.monotonic()
                rr = c.get(f"/v1/rollouts/{rollout_id}", params={"wait": 30})
                rr.raise_for_status()
                rollout = rr.json()
                if rollout["state"] not in ("pending", "in_progress"):
                    break
                if issued > deadline:
                    raise TimeoutError(f"rollout {rollout_id} still {rollout['state']}")
            # The wait answers within WAIT_POLL_S (0.2 s) of the end; the poll that saw
            # it was answered now, so its end time is the conservative figure.
            succeeded = time.monotonic() - t0
            if rollout["state"] != "succeeded":
                raise RuntimeError(f"rollout {rollout_id} {rollout['state']}: {rollout['message']}")
            cpu_rollout = cpu.diff(before, cpu.snapshot())
        finally:
            watcher.stop()
        end_wall = time.time()
        events = c.get(f"/v1/deployments/{name}/events", params={"limit": 500}).json()["items"]
        timeline = engine_timeline(watch_api, label, t0_wall)
        server = {
            "rollout_started": _parse_api_time(rollout["started_at"]) - t0_wall,
            "rollout_finished": _parse_api_time(rollout["finished_at"]) - t0_wall,
        }
        for e in events:
            key = f"event_{e['reason']}"
            at = _parse_api_time(e["time"]) - t0_wall
            server[key] = min(server.get(key, at), at)
            server[key + "_last"] = max(server.get(key + "_last", at), at)
        warnings: dict[str, int] = {}
        for e in events:
            if e["type"] == "warning":
                key = f"{e['reason']}: {e['message']}"
                warnings[key] = warnings.get(key, 0) + 1
        time.sleep(0.3)  # let the worker log the task's end
        tasks = worker_tasks(stack.workdir / "worker.log", t0_wall, end_wall)
        result = {"put_s": put_s, "running": running, "succeeded": succeeded,
                  "engine": timeline, "server": server, "tasks": tasks, "warnings": warnings,
                  "cpu_running": cpu_running, "cpu_rollout": cpu_rollout}
        d = c.delete(f"/v1/deployments/{name}")
        if d.status_code != 202:
            raise RuntimeError(f"DELETE {name}: {d.status_code} {d.text}")
        wait_gone(watch_api, label)
        wait_until(lambda: c.get(f"/v1/deployments/{name}").status_code == 404, 120,
                   f"deployment {name} to be deleted", 0.1)
    return result


# -- Swarm -------------------------------------------------------------------------------

OFFLINE_ENV = "DOCKER_SERVICE_PREFER_OFFLINE_IMAGE"
REGISTRY_TRACE = re.compile(r"registry-1\.docker\.io|pulling image|Attempting next endpoint")


def _engine_offline(engine: dockerd.Engine) -> bool:
    """Whether the engine's dockerd runs with OFFLINE_ENV=1 (swarm then skips its pulls)."""
    pid = engine.pid()
    try:
        environ = Path(f"/proc/{pid}/environ").read_bytes().split(b"\0") if pid else []
    except OSError:
        return False
    return f"{OFFLINE_ENV}=1".encode() in environ


def registry_attempts(engine: dockerd.Engine, offset: int) -> list[str]:
    """Lines the engine logged since `offset` that show it reaching for a registry."""
    try:
        with engine.logfile.open("rb") as f:
            f.seek(offset)
            text = f.read().decode(errors="replace")
    except OSError:
        return []
    return [line for line in text.splitlines() if REGISTRY_TRACE.search(line)]


@dataclass
class Swarm:
    engine: dockerd.Engine
    active: bool = False
    advertise: str = ""

    def init(self) -> None:
        # Loopback first; if swarm refuses it, the engine's own bridge (ours alone).
        for addr in ("127.0.0.1", self.engine.bridge_address.split("/")[0]):
            proc = self.engine.docker("swarm", "init", "--advertise-addr", addr,
                                      "--listen-addr", f"{addr}:2377", check=False)
            if proc.returncode == 0:
                self.active, self.advertise = True, addr
                return
            log(f"swarm init --advertise-addr {addr} refused: {proc.stderr.strip()}")
        raise RuntimeError("swarm init failed on both addresses")

    def service_replicas(self, name: str) -> str:
        out = self.engine.docker("service", "ls", "--filter", f"name={name}",
                                 "--format", "{{.Name}} {{.Replicas}}").stdout
        for line in out.splitlines():
            svc, _, replicas = line.partition(" ")
            if svc == name:
                return replicas.strip()
        return ""

    def leave(self) -> None:
        if not self.active:
            return
        for svc in self.engine.docker("service", "ls", "-q", check=False).stdout.split():
            self.engine.docker("service", "rm", svc, check=False)
        self.engine.docker("swarm", "leave", "--force", check=False)
        self.active = False
        # swarm init leaves its gateway bridge behind; it is ours, so it goes too.
        self.engine.docker("network", "rm", "docker_gwbridge", check=False)


def swarm_run(swarm: Swarm, watch_api: docker.APIClient, n: int, name: str,
              cpu: CpuAccount) -> dict[str, Any]:
    label = f"{SWARM_LABEL}={name}"
    watcher = RunningWatcher(watch_api, label, n)
    watcher.start()
    before = cpu.snapshot()
    t0, t0_wall = time.monotonic(), time.time()
    try:
        swarm.engine.docker("service", "create", "--detach", "--no-resolve-image",
                            "--replicas", str(n), "--name", name, IMAGE)
        create_s = time.monotonic() - t0
        deadline = t0 + RUN_TIMEOUT_S
        while True:
            issued = time.monotonic()
            if swarm.service_replicas(name) == f"{n}/{n}":
                converged = issued - t0
                break
            if issued > deadline:
                raise TimeoutError(f"service {name} never reached {n}/{n}")
            time.sleep(POLL_S)
        running = watcher.result() - t0
    finally:
        watcher.stop()
    after = cpu.snapshot()
    result = {"converged": converged, "running": running, "create_cli_s": create_s,
              "engine": engine_timeline(watch_api, label, t0_wall), "cpu": cpu.diff(before, after)}
    swarm.engine.docker("service", "rm", name)
    wait_gone(watch_api, label)
    return result


# -- the report --------------------------------------------------------------------------


def med(values: list[float]) -> float:
    return statistics.median(values)


def table(results: dict[int, dict[str, list[dict[str, Any]]]]) -> str:
    head = ("| N | floor (s) | Moorage running (s) | Moorage rollout succeeded (s) | Swarm N/N (s) "
            "| Moorage/floor | Moorage/Swarm |")
    rows = [head, "|" + "---|" * 7]
    for n, r in sorted(results.items()):
        floor = med([x["running"] for x in r["floor"]])
        running = med([x["running"] for x in r["moorage"]])
        succeeded = med([x["succeeded"] for x in r["moorage"]])
        swarm = med([x["converged"] for x in r["swarm"]]) if r.get("swarm") else float("nan")
        rows.append(
            f"| {n} | {floor:.2f} | {running:.2f} | {succeeded:.2f} | {swarm:.2f} "
            f"| {running / floor:.2f}× (succeeded {succeeded / floor:.2f}×) "
            f"| {running / swarm:.2f}× (succeeded {succeeded / swarm:.2f}×) |"
        )
    return "\n".join(rows)


def profile(results: dict[int, dict[str, list[dict[str, Any]]]]) -> str:
    """Medians of where the time went, from the engine's own Created/StartedAt stamps,
    Moorage's events and rollout times, and the worker's Celery log."""

    def m(runs: list[dict[str, Any]], get: Callable[[dict[str, Any]], float | None]) -> str:
        values = [v for v in (get(r) for r in runs) if v is not None]
        return f"{med(values):.2f}" if values else "-"

    rows = ["| N | approach | first create | last create | first start | last start | all running seen "
            "| done | untracked CPU share |",
            "|" + "---|" * 9]
    for n, r in sorted(results.items()):
        for kind, done_key, cpu_key in (("floor", "calls_done", "cpu"),
                                        ("moorage", "succeeded", "cpu_running"),
                                        ("swarm", "converged", "cpu")):
            runs = r.get(kind) or []
            if not runs:
                continue
            rows.append(
                f"| {n} | {kind} | " + " | ".join(
                    m(runs, lambda x, k=k: x["engine"].get(k))
                    for k in ("first_created", "last_created", "first_started", "last_started")
                ) + f" | {m(runs, lambda x: x['running'])} | {m(runs, lambda x, k=done_key: x[k])} "
                f"| {m(runs, lambda x, k=cpu_key: x[k]['other'] / x[k]['capacity_s'])} |"
            )
    lines = ["Where the time went (seconds from the request; medians):", "", *rows, ""]
    for n, r in sorted(results.items()):
        runs = r.get("moorage") or []
        if not runs:
            continue
        lines.append(
            f"Moorage N={n}: PUT answered {m(runs, lambda x: x['put_s'])}; "
            f"task received {m(runs, lambda x: x['tasks'][0]['received'] if x['tasks'] else None)}; "
            f"image pinned {m(runs, lambda x: x['server'].get('event_ImagePinned'))}; "
            f"rollout started {m(runs, lambda x: x['server'].get('rollout_started'))}; "
            f"first create {m(runs, lambda x: x['engine'].get('first_created'))}; "
            f"last start {m(runs, lambda x: x['engine'].get('last_started'))}; "
            f"ReplicaCreated events {m(runs, lambda x: x['server'].get('event_ReplicaCreated'))}; "
            f"rollout finished {m(runs, lambda x: x['server'].get('rollout_finished'))} "
            f"(last start -> finished "
            f"{m(runs, lambda x: x['server']['rollout_finished'] - x['engine']['last_started'])}); "
            f"client saw succeeded {m(runs, lambda x: x['succeeded'])}; "
            f"worker CPU {m(runs, lambda x: x['cpu_rollout'].get('moorage-worker'))} s, "
            f"API {m(runs, lambda x: x['cpu_rollout'].get('moorage-api'))} s, "
            f"postgres {m(runs, lambda x: x['cpu_rollout'].get('postgres'))} s, "
            f"dockerd {m(runs, lambda x: x['cpu_rollout'].get('dockerd'))} s"
        )
    return "\n".join(lines)


def _fmt(d: dict[str, float]) -> str:
    return ", ".join(f"{k} {v:.2f}" for k, v in d.items())


def describe_run(kind: str, n: int, i: int, r: dict[str, Any]) -> str:
    lines = [f"{kind} N={n} run {i}: " + ", ".join(
        f"{k} {v:.3f}s" for k, v in r.items() if isinstance(v, float))]
    lines.append(f"    engine: {_fmt(r['engine'])}")
    if "server" in r:
        lines.append(f"    server: {_fmt(r['server'])}")
        lines.append("    worker tasks: " + "; ".join(
            f"recv {t['received']:.2f}" + (f" ran {t['ran_s']:.2f}s" if "ran_s" in t else "")
            for t in r["tasks"]))
        for message, count in r["warnings"].items():
            lines.append(f"    warning x{count}: {message[:300]}")
    for key in ("cpu", "cpu_running", "cpu_rollout"):
        if key in r:
            lines.append(f"    {key}: {_fmt(r[key])}")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=3, help="timed runs per N and approach")
    parser.add_argument("--sizes", default="10,50", help="comma-separated replica counts")
    parser.add_argument("--skip-swarm", action="store_true")
    parser.add_argument("--json", type=Path, help="also write every run's raw figures here")
    parser.add_argument("--keep-engine", action="store_true",
                        help="leave engine 7 running at the end even if this run started it")
    parser.add_argument("--keep-logs", action="store_true",
                        help="keep the Moorage processes' logs (their directory is printed)")
    args = parser.parse_args(argv)
    sizes = [int(s) for s in args.sizes.split(",") if s.strip()]

    dockerd.require_tools()
    engine = dockerd.Engine(ENGINE_INDEX)
    # Without this a swarm task tries to pull its image from a registry before it falls
    # back to the local one; dockerd reads it from its environment, which it inherits.
    os.environ[OFFLINE_ENV] = "1"
    if not args.skip_swarm and engine.is_up() and not _engine_offline(engine):
        log(f"restarting engine {engine.name} with {OFFLINE_ENV}=1 (swarm would pull otherwise)")
        engine.stop()
    started_engine = not engine.is_up()
    engine.start()
    log_offset = engine.logfile.stat().st_size if engine.logfile.exists() else 0
    dockerd.build_test_images(engine)
    api = docker.APIClient(base_url=engine.url, version="auto", max_pool_size=32, timeout=60)
    watch_api = docker.APIClient(base_url=engine.url, version="auto", timeout=60)
    workdir = Path(tempfile.mkdtemp(prefix="moorage-bench-"))
    stack = MoorageStack(engine, workdir)
    swarm = Swarm(engine)
    cpu = CpuAccount(engine, stack.process_groups)
    results: dict[int, dict[str, list[dict[str, Any]]]] = {
        n: {"floor": [], "moorage": [], "swarm": []} for n in sizes
    }
    tag = uuid.uuid4().hex[:4]
    ok = False
    busy = float("nan")
    try:
        if engine.docker("info", "--format", "{{.Swarm.LocalNodeState}}").stdout.strip() != "inactive":
            raise RuntimeError(f"engine {engine.name} is already in a swarm; not touching it")
        log(f"engine {engine.url}; Moorage logs in {workdir}")
        busy = background_load()
        log(f"background load before the runs: {busy:.0%} of {os.cpu_count()} cores busy")
        stack.start()
        log(f"Moorage up: api {stack.url}, db {stack.db_name}, queue {stack.queue}")
        log("warm-up (untimed)")
        floor_run(api, watch_api, sizes[0], f"bench-floor-{tag}-warm", cpu)
        moorage_run(stack, watch_api, sizes[0], f"bench-{tag}-warm", cpu)
        for n in sizes:
            for i in range(1, args.runs + 1):
                r = floor_run(api, watch_api, n, f"bench-floor-{tag}-{n}-{i}", cpu)
                results[n]["floor"].append(r)
                log(describe_run("floor", n, i, r))
                r = moorage_run(stack, watch_api, n, f"bench-{tag}-{n}-{i}", cpu)
                results[n]["moorage"].append(r)
                log(describe_run("moorage", n, i, r))
        stack.stop()
        if not args.skip_swarm:
            swarm.init()
            log(f"swarm active, advertising {swarm.advertise}")
            swarm_run(swarm, watch_api, sizes[0], f"bench-swarm-{tag}-warm", cpu)
            for n in sizes:
                for i in range(1, args.runs + 1):
                    r = swarm_run(swarm, watch_api, n, f"bench-swarm-{tag}-{n}-{i}", cpu)
                    results[n]["swarm"].append(r)
                    log(describe_run("swarm", n, i, r))
        ok = True
    finally:
        for step in (stack.stop, swarm.leave, stack.drop):
            try:
                step()
            except Exception as exc:
                log(f"cleanup: {step.__qualname__} failed: {exc}")
        for label in (BENCH_LABEL, "moorage.managed", SWARM_LABEL):
            with suppress(Exception):
                remove_labelled(api, label)
        api.close()
        watch_api.close()
        if started_engine and not args.keep_engine:
            engine.stop()
        if ok and not args.keep_logs:
            shutil.rmtree(workdir, ignore_errors=True)
        else:
            log(f"Moorage logs kept in {workdir}")
    if attempts := registry_attempts(engine, log_offset):
        log(f"WARNING: the engine reached for a registry {len(attempts)} times: {attempts[0][:300]}")
    else:
        log("the engine's log shows no registry access during the benchmark")
    if args.json:
        args.json.write_text(json.dumps(results, indent=1, default=str))
    print()
    print(f"{os.cpu_count()} cores; {args.runs} runs per cell; medians; "
          f"background load before the runs {busy:.0%}.")
    print(table(results))
    print()
    print(profile(results))
    return 0


if __name__ == "__main__":
    sys.exit(main())
