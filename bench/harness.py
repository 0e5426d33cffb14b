"""What the benchmarks share: a real Moorage stack, private engines, Swarm, and the clocks.

* `MoorageStack`: the production topology as real processes. A fresh Postgres database
  per run, Redis with a queue of its own, ``moorage migrate``, ``moorage token create
  --scope admin``, then ``moorage api``, ``moorage worker`` and ``moorage beat`` as
  separate process groups; the given engines are registered with ``POST /v1/hosts``.
  Extra ``MOORAGE_*`` settings go to every process; everything else stays at its default.
  The processes run in the stack's work directory, not the caller's: ``moorage worker``
  and ``beat`` exec ``python -m celery``, which imports from its current directory first,
  so started from a checkout they would run that checkout's ``app`` and ``workers``
  instead of the code installed in `VENV_BIN`'s venv (which is what a run under another
  venv's python, e.g. the old code's, means to measure).
* `prepare_engine`: a private engine (`tests.support.dockerd.Engine`) running with
  ``DOCKER_SERVICE_PREFER_OFFLINE_IMAGE=1``, so that Swarm never tries to pull an image
  it already has; `registry_attempts` greps the engine's log afterwards to prove that
  nothing reached for a registry.
* `Swarm`: single-engine swarm mode on loopback, with its own listen port and (on
  request) its own docker_gwbridge, so it cannot collide with another engine's swarm.

Network: 127.0.0.1 (Postgres, Redis, the API), the engines' unix sockets, and the
bridges and containers the benchmarks create. Nothing else.
"""

from __future__ import annotations

import base64
import os
import re
import signal
import socket
import statistics
import subprocess
import sys
import time
import uuid
from collections.abc import Callable
from contextlib import suppress
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import docker
import httpx

from tests.support import dockerd

VENV_BIN = Path(sys.executable).parent
PG_ADMIN_URL = os.environ.get(
    "MOORAGE_BENCH_PG_ADMIN_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
)
REDIS_URL = os.environ.get("MOORAGE_BENCH_REDIS_URL", "redis://127.0.0.1:6379/0")
OFFLINE_ENV = "DOCKER_SERVICE_PREFER_OFFLINE_IMAGE"
REGISTRY_TRACE = re.compile(r"registry-1\.docker\.io|pulling image|Attempting next endpoint")


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


def med(values: list[float]) -> float:
    return statistics.median(values) if values else float("nan")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# -- machine load ----------------------------------------------------------------------


def system_ticks() -> tuple[int, int]:
    """(busy, total) jiffies over all CPUs."""
    parts = [int(x) for x in Path("/proc/stat").read_text().splitlines()[0].split()[1:]]
    idle = parts[3] + parts[4]
    total = sum(parts[:8])
    return total - idle, total


def background_load(seconds: float = 5.0) -> float:
    """Fraction of all cores busy while the benchmark itself does nothing."""
    a = system_ticks()
    time.sleep(seconds)
    b = system_ticks()
    return (b[0] - a[0]) / max(1, b[1] - a[1])


def load_average() -> str:
    one, five, fifteen = os.getloadavg()
    return f"{one:.2f} {five:.2f} {fifteen:.2f}"


# -- observing an engine -----------------------------------------------------------------


def container_ids(api: docker.APIClient, label: str) -> list[str]:
    return [c["Id"] for c in api.containers(all=True, quiet=True, filters={"label": label})]


def wait_gone(api: docker.APIClient, label: str, timeout: float = 120) -> None:
    wait_until(lambda: not container_ids(api, label), timeout, f"containers {label} to be gone", 0.1)


def remove_labelled(api: docker.APIClient, label: str) -> None:
    for cid in container_ids(api, label):
        with suppress(docker.errors.NotFound):
            api.remove_container(cid, force=True, v=True)


def docker_ts(value: str) -> float | None:
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
            if (c := docker_ts(d.get("Created", ""))) is not None:
                created.append(c - t0_wall)
            if (s := docker_ts(d.get("State", {}).get("StartedAt", ""))) is not None:
                started.append(s - t0_wall)
    out = {}
    if created:
        out |= {"first_created": min(created), "last_created": max(created)}
    if started:
        out |= {"first_started": min(started), "last_started": max(started)}
    return out


# -- engines -------------------------------------------------------------------------------


def engine_offline(engine: dockerd.Engine) -> bool:
    """Whether the engine's dockerd runs with OFFLINE_ENV=1 (swarm then skips its pulls)."""
    pid = engine.pid()
    try:
        environ = Path(f"/proc/{pid}/environ").read_bytes().split(b"\0") if pid else []
    except OSError:
        return False
    return f"{OFFLINE_ENV}=1".encode() in environ


def prepare_engine(index: int, offline: bool = True) -> tuple[dockerd.Engine, bool]:
    """Engine `index`, up, with the test images; (engine, whether we started it).

    With `offline`, the daemon must run with OFFLINE_ENV=1 (it reads it from the
    environment it inherits); one already running without it is restarted."""
    dockerd.require_tools()
    engine = dockerd.Engine(index)
    if offline:
        os.environ[OFFLINE_ENV] = "1"
        if engine.is_up() and not engine_offline(engine):
            log(f"restarting engine {engine.name} with {OFFLINE_ENV}=1 (swarm would pull otherwise)")
            engine.stop()
    started = not engine.is_up()
    engine.start()
    return engine, started


def registry_attempts(engine: dockerd.Engine, offset: int) -> list[str]:
    """Lines the engine logged since `offset` that show it reaching for a registry."""
    try:
        with engine.logfile.open("rb") as f:
            f.seek(offset)
            text = f.read().decode(errors="replace")
    except OSError:
        return []
    return [line for line in text.splitlines() if REGISTRY_TRACE.search(line)]


def log_offset(engine: dockerd.Engine) -> int:
    return engine.logfile.stat().st_size if engine.logfile.exists() else 0


def release_data_root(engine: dockerd.Engine) -> None:
    """dockerd bind-mounts its data root onto itself; a SIGKILLed daemon leaves that mount
    behind (its successor's clean stop keeps it). Once the daemon is down, undo it."""
    # (os.path.ismount cannot see a bind mount on the same filesystem: ask the kernel.)
    mounts = [line.split()[1] for line in Path("/proc/mounts").read_text().splitlines()]
    while engine.pid() is None and str(engine.data_dir) in mounts:
        if subprocess.run(["umount", str(engine.data_dir)], capture_output=True).returncode:
            break
        mounts.remove(str(engine.data_dir))


def remove_bridge(name: str) -> None:
    """Delete a bridge interface this benchmark created (no error if it is gone)."""
    subprocess.run(["ip", "link", "del", name], capture_output=True)


# -- Moorage: the production topology ----------------------------------------------------


@dataclass
class MoorageStack:
    engine: dockerd.Engine
    workdir: Path
    # Extra MOORAGE_* settings for every process (the rest stay at their defaults).
    settings: dict[str, str] = field(default_factory=dict)
    # Hosts to register, by name; None means the one engine, as "bench".
    hosts: dict[str, dockerd.Engine] | None = None
    # argv for the worker instead of `moorage worker` (bench.whatif experiments only).
    worker_argv: list[str] | None = None
    # Where that worker runs (None: this checkout). bench.trace's runs in the work
    # directory, so that it imports the venv's `app`, not this checkout's.
    worker_cwd: Path | None = None
    run_id: str = field(default_factory=lambda: uuid.uuid4().hex[:8])
    port: int = field(default_factory=free_port)
    procs: dict[str, subprocess.Popen] = field(default_factory=dict)
    db_created: bool = False
    # The API makes this admin token at startup (MOORAGE_BOOTSTRAP_TOKEN); `start`
    # replaces it with one from `moorage token create --scope admin`.
    token: str = field(default_factory=lambda: f"mrg_bench_{uuid.uuid4().hex}{uuid.uuid4().hex}")
    # Production mode seals secrets at rest and so needs a key (a throwaway one here).
    secret_key: str = field(
        default_factory=lambda: base64.urlsafe_b64encode(os.urandom(32)).decode())

    @property
    def db_name(self) -> str:
        return f"moorage_bench_{self.run_id}"

    @property
    def database_url(self) -> str:
        return PG_ADMIN_URL.rsplit("/", 1)[0] + f"/{self.db_name}"

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
            "MOORAGE_DATABASE_URL": self.database_url,
            "MOORAGE_BROKER_URL": REDIS_URL,
            "MOORAGE_QUEUE": self.queue,
            "MOORAGE_DATA_DIR": str(self.workdir / "data"),
            "MOORAGE_LOG_LEVEL": "INFO",
            "MOORAGE_BOOTSTRAP_TOKEN": self.token,
            "MOORAGE_SECRET_KEYS": self.secret_key,
        } | self.settings

    def _admin(self):
        import sqlalchemy as sa

        return sa, sa.create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")

    def create_database(self) -> None:
        """A fresh database, migrated (also usable without the processes)."""
        sa, admin = self._admin()
        with admin.connect() as conn:
            conn.execute(sa.text(f'CREATE DATABASE "{self.db_name}"'))
        admin.dispose()
        self.db_created = True
        self.workdir.mkdir(parents=True, exist_ok=True)
        subprocess.run([str(VENV_BIN / "moorage"), "migrate"], env=self.env, check=True,
                       capture_output=True, timeout=120, cwd=self.workdir)

    def start(self, register: bool = True) -> None:
        self.workdir.mkdir(parents=True, exist_ok=True)
        self.create_database()
        self.token = self._admin_token() or self.token
        self._spawn("api", "api", "--port", str(self.port))
        if self.worker_argv:
            self._spawn("worker", argv=self.worker_argv, cwd=self.worker_cwd)
        else:
            self._spawn("worker", "worker")  # its default --concurrency, as in docker-compose.yml
        self._spawn("beat", "beat")
        wait_until(self._healthy, 60, "the Moorage API", 0.1)
        if register:
            self.register_hosts()

    def register_hosts(self) -> None:
        hosts = self.hosts if self.hosts is not None else {"bench": self.engine}
        with self.client() as c:
            for name, eng in hosts.items():
                # Not an edge: an edge host runs Moorage's proxy whether or not any
                # deployment has an endpoint, and (its image absent, as on these engines)
                # the engine tries to pull it every heartbeat: a DNS lookup off this
                # machine every 5 s, and engine work that is no part of any benchmark.
                r = c.post("/v1/hosts", json={"name": name, "url": eng.url, "edge": False})
                if r.status_code != 201:
                    raise RuntimeError(f"registering {name} failed: {r.status_code} {r.text}")
            for name in hosts:
                wait_until(lambda n=name: c.get(f"/v1/hosts/{n}").json()["state"] == "ready",
                           60, f"host {name} to be ready", 0.2)

    def _admin_token(self) -> str | None:
        """An admin token from `moorage token create` (None if this Moorage has no auth)."""
        proc = subprocess.run(
            [str(VENV_BIN / "moorage"), "token", "create", "--scope", "admin", "--name", "bench"],
            env=self.env, capture_output=True, text=True, timeout=60, cwd=self.workdir,
        )
        if proc.returncode != 0:
            if "No such command" in proc.stderr:
                return None
            raise RuntimeError(f"moorage token create failed: {proc.stderr.strip()}")
        return proc.stdout.strip().splitlines()[-1]

    def _spawn(self, role: str, *args: str, argv: list[str] | None = None,
               cwd: Path | None = None) -> None:
        out = open(self.workdir / f"{role}.log", "ab")  # noqa: SIM115  (lives with the process)
        # `moorage ...` runs in the work directory (see the module's docstring); a custom
        # argv (bench.whatif's worker) imports from this checkout, so it stays here.
        self.procs[role] = subprocess.Popen(
            argv or [str(VENV_BIN / "moorage"), *args], env=self.env, stdout=out, stderr=out,
            start_new_session=True, cwd=cwd if argv else self.workdir,
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

    def teardown(self) -> None:
        """``stop`` then ``drop``, each tried whatever the other did: a benchmark's
        ``finally`` must not lose the rest of its cleanup (or its report) to one failure."""
        for step in (self.stop, self.drop):
            try:
                step()
            except Exception as exc:
                log(f"cleanup: {step.__qualname__} failed: {exc}")

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
            # Both queues, kombu's lists for priorities 3/6/9 and its exchange bindings.
            for queue in (self.queue, f"{self.queue}.periodic"):
                client.delete(queue, *(f"{queue}\x06\x16{p}" for p in (3, 6, 9)),
                              f"_kombu.binding.{queue}", f"_kombu.binding_permanent.{queue}")
        finally:
            client.close()


# How often a rollout the API had just announced (PUT answered 201/200 with its id) was
# still 404 when asked for at once: the API sends its answer before its transaction
# commits (get_session commits after the yield, which FastAPI runs after the response).
STALE_READS = {"rollout_404": 0}


def wait_rollout(c: httpx.Client, rollout_id: str, deadline: float, wait: float = 30) -> dict[str, Any]:
    """Long-poll ``GET /v1/rollouts/{id}?wait=`` until the rollout is terminal."""
    misses = 0
    while True:
        rr = c.get(f"/v1/rollouts/{rollout_id}", params={"wait": wait})
        if rr.status_code == 404 and misses < 100:  # not committed yet: see STALE_READS
            misses += 1
            STALE_READS["rollout_404"] += 1
            time.sleep(0.02)
            continue
        rr.raise_for_status()
        rollout = rr.json()
        if rollout["state"] not in ("pending", "in_progress"):
            return rollout
        if time.monotonic() > deadline:
            raise TimeoutError(f"rollout {rollout_id} still {rollout['state']}")


def parse_api_time(value: str | None) -> float | None:
    return datetime.fromisoformat(value).timestamp() if value else None


def events_since(stack: MoorageStack, name: str, t0_wall: float) -> list[dict[str, Any]]:
    """The deployment's events, oldest first, each with "t" = seconds from t0."""
    with stack.client() as c:
        items = c.get(f"/v1/deployments/{name}/events", params={"limit": 500}).json()["items"]
    out = [dict(e, t=parse_api_time(e["time"]) - t0_wall) for e in items]
    return sorted((e for e in out if e["t"] >= -0.5), key=lambda e: e["t"])


_CELERY_LINE = re.compile(
    r"^\[(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3}): \w+/[\w-]+\] "
    r"Task ([\w.]+)\[([0-9a-f-]+)\] (received|succeeded in ([\d.]+)s)"
)


def worker_tasks(logfile: Path, start_wall: float, end_wall: float,
                 task: str = "deployments.reconcile") -> list[dict[str, Any]]:
    """`task` runs the worker logged between the two times (its log is local time)."""
    tasks: dict[str, dict[str, Any]] = {}
    for line in logfile.read_text(errors="replace").splitlines():
        m = _CELERY_LINE.match(line)
        if not m or m.group(2) != task:
            continue
        at = datetime.strptime(m.group(1), "%Y-%m-%d %H:%M:%S,%f").timestamp()
        if m.group(4) == "received":
            if start_wall - 0.01 <= at <= end_wall:
                tasks[m.group(3)] = {"received": at - start_wall}
        elif m.group(3) in tasks:
            tasks[m.group(3)]["ran_s"] = float(m.group(5))
            tasks[m.group(3)]["finished"] = at - start_wall
    return sorted(tasks.values(), key=lambda t: t["received"])


# -- Swarm -------------------------------------------------------------------------------


@dataclass
class Swarm:
    engine: dockerd.Engine
    listen_port: int = 2377
    # (bridge interface name, subnet) for a docker_gwbridge of our own, made before
    # `swarm init`; None lets swarm make its default one (bridge "docker_gwbridge").
    gwbridge: tuple[str, str] | None = None
    active: bool = False
    advertise: str = ""

    def init(self) -> None:
        if self.gwbridge is not None and self.engine.docker(
                "network", "inspect", "docker_gwbridge", check=False).returncode != 0:
            iface, subnet = self.gwbridge
            self.engine.docker(
                "network", "create", "--driver", "bridge", "--subnet", subnet,
                "--opt", "com.docker.network.bridge.enable_icc=false",
                "--opt", "com.docker.network.bridge.enable_ip_masquerade=false",
                "--opt", f"com.docker.network.bridge.name={iface}", "docker_gwbridge")
        # Loopback first; if swarm refuses it, the engine's own bridge (ours alone).
        for addr in ("127.0.0.1", self.engine.bridge_address.split("/")[0]):
            proc = self.engine.docker("swarm", "init", "--advertise-addr", f"{addr}:{self.listen_port}",
                                      "--listen-addr", f"{addr}:{self.listen_port}", check=False)
            if proc.returncode == 0:
                self.active, self.advertise = True, addr
                return
            log(f"swarm init --advertise-addr {addr} refused: {proc.stderr.strip()}")
        self.engine.docker("network", "rm", "docker_gwbridge", check=False)
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
        if not self.active and self.gwbridge is None:
            return
        if self.active:
            for svc in self.engine.docker("service", "ls", "-q", check=False).stdout.split():
                self.engine.docker("service", "rm", svc, check=False)
            self.engine.docker("swarm", "leave", "--force", check=False)
            self.active = False
        # swarm init leaves its gateway bridge behind; it is ours, so it goes too.
        self.engine.docker("network", "rm", "docker_gwbridge", check=False)


def proc_stats() -> list[tuple[int, int, int, int]]:
    """(pid, parent pid, process group, CPU ticks so far) of every live process, from
    /proc/<pid>/stat: what the benchmarks that measure CPU read."""
    out = []
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            raw = Path(f"/proc/{entry.name}/stat").read_text()
        except OSError:
            continue
        fields = raw[raw.rindex(")") + 2:].split()
        out.append((int(entry.name), int(fields[1]), int(fields[2]), int(fields[11]) + int(fields[12])))
    return out
