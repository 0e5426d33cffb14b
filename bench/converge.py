"""Time to converge: N replicas on one engine, Moorage vs. the Docker SDK floor vs. Swarm.

    .venv/bin/python -m bench.converge [--runs 3] [--sizes 10,50] [--embedded]

``--embedded``: Moorage as ``moorage dev`` runs it (EmbeddedStack: SQLite and the
filesystem broker in a private data dir, DOCKER_HOST = the private engine, nothing else
configured) instead of the production topology; no Swarm; sizes 10,20,50. Both modes
also print PUT -> first container create, from the engine's event stream
(CreateWatcher: the first ``create`` event of the run's label, its own timeNano).

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

The stack, the engine's offline setting and the Swarm helper live in ``bench.harness``,
shared with bench.rollout, bench.failover and bench.heartbeat.

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
import shutil
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from contextlib import suppress
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import docker
import httpx

from bench.harness import (
    OFFLINE_ENV,
    MoorageStack,
    Swarm,
    background_load,
    engine_timeline,
    log,
    med,
    registry_attempts,
    remove_bridge,
    remove_labelled,
    wait_gone,
    wait_until,
    worker_tasks,
)
from bench.harness import engine_offline as _engine_offline
from bench.harness import parse_api_time as _parse_api_time
from bench.harness import system_ticks as _system_ticks
from tests.support import dockerd

IMAGE = dockerd.WEB_V1
ENGINE_INDEX = 7  # test suites use engines 1-5
POOL_SIZE = 16  # Moorage's default MOORAGE_DOCKER_POOL_SIZE
POLL_S = 0.02
RUN_TIMEOUT_S = 300.0
BENCH_LABEL = "moorage.bench"  # floor containers
SWARM_LABEL = "com.docker.swarm.service.name"
CLK_TCK = os.sysconf("SC_CLK_TCK")
EVENTS_URL = [""]  # the engine's URL, for the event streams (set by main)


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


# -- the first container create, as the engine's event stream tells it ---------------------


class CreateWatcher(threading.Thread):
    """Follows the engine's event stream (``docker events``, type container, action
    create) for containers carrying ``label``; ``first_at`` is the first such event's own
    time (the engine's timeNano, epoch seconds) and ``seen_at`` when it reached us."""

    def __init__(self, url: str, label: str) -> None:
        super().__init__(daemon=True, name="creates")
        self.api = docker.APIClient(base_url=url, version="auto", timeout=RUN_TIMEOUT_S)
        self.label = label
        self.first_at: float | None = None
        self.seen_at: float | None = None
        self._stream = self.api.events(
            since=int(time.time()) - 1, decode=True,
            filters={"type": "container", "event": "create", "label": self.label})

    def run(self) -> None:
        with suppress(Exception):  # closed by stop(), or the engine went away
            for event in self._stream:
                if self.first_at is None:
                    self.seen_at = time.time()
                    self.first_at = event.get("timeNano", 0) / 1e9 or event.get("time")
                    return

    def since(self, t0_wall: float) -> float | None:
        self.join(RUN_TIMEOUT_S)
        return None if self.first_at is None else self.first_at - t0_wall

    def stop(self) -> None:
        with suppress(Exception):
            self._stream.close()
        self.api.close()


# -- the embedded default: `moorage dev` as a newcomer runs it ---------------------------


@dataclass
class EmbeddedStack:
    """``moorage dev`` for real: its own process group (the API, in-process) and the
    worker it starts (``celery worker --beat``, its own group), with nothing configured
    but a private data directory (SQLite file and filesystem broker in it) and
    DOCKER_HOST pointing at the private engine, which ``moorage dev`` registers as host
    ``local`` itself. The admin token is the one it prints at its first start."""

    engine: dockerd.Engine
    workdir: Path
    port: int = 0
    proc: Any = None
    token: str = ""

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def worker_log(self) -> Path:
        return self.workdir / "dev.log"  # the worker writes to `moorage dev`'s output

    def start(self) -> None:
        import re
        import subprocess

        from bench.harness import VENV_BIN, free_port

        self.workdir.mkdir(parents=True, exist_ok=True)
        self.port = free_port()
        env = {k: v for k, v in os.environ.items() if not k.startswith(("MOORAGE_", "DOCKER_"))}
        env |= {"MOORAGE_DATA_DIR": str(self.workdir / "data"), "DOCKER_HOST": self.engine.url}
        out = open(self.worker_log, "ab")  # noqa: SIM115  (lives with the process)
        # In the work directory: celery imports from its cwd first (see bench.harness).
        self.proc = subprocess.Popen([str(VENV_BIN / "moorage"), "dev", "--port", str(self.port)],
                                     env=env, stdout=out, stderr=out, start_new_session=True,
                                     cwd=self.workdir)

        def ready() -> bool:
            if self.proc.poll() is not None:
                raise RuntimeError(f"moorage dev exited with {self.proc.returncode}; see {self.workdir}")
            try:
                return httpx.get(f"{self.url}/readyz", timeout=2).status_code == 200
            except httpx.HTTPError:
                return False

        wait_until(ready, 90, "moorage dev", 0.1)
        printed = re.findall(r"admin token .*: (mrg_\S+)$", self.worker_log.read_text(errors="replace"),
                             re.MULTILINE)
        if not printed:
            raise RuntimeError(f"moorage dev printed no admin token; see {self.worker_log}")
        self.token = printed[-1]
        with self.client() as c:
            wait_until(lambda: (r := c.get("/v1/hosts/local")).status_code == 200
                       and r.json()["state"] == "ready", 60, "host local to be ready", 0.2)

    def client(self) -> httpx.Client:
        return httpx.Client(base_url=self.url, timeout=60,
                            headers={"Authorization": f"Bearer {self.token}"})

    def process_groups(self) -> dict[int, str]:
        if self.proc is None or self.proc.poll() is not None:
            return {}
        groups = {self.proc.pid: "moorage-api"}  # the API runs in `moorage dev` itself
        for entry in os.scandir("/proc"):
            st = _proc_stat(int(entry.name)) if entry.name.isdigit() else None
            if st is not None and st[1] == self.proc.pid:  # the worker, in a group of its own
                groups[st[2]] = "moorage-worker"
        return groups

    def stop(self) -> None:
        import signal
        import subprocess

        if self.proc is None:
            return
        proc, self.proc = self.proc, None
        with suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGTERM)  # `moorage dev` stops its worker's group
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            with suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=10)

    def drop(self) -> None:
        pass  # the data directory is in the work directory


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
    creates = CreateWatcher(EVENTS_URL[0], label)
    creates.start()
    before = cpu.snapshot()
    t0, t0_wall = time.monotonic(), time.time()
    try:
        with ThreadPoolExecutor(POOL_SIZE, thread_name_prefix="floor") as pool:
            list(pool.map(one, range(n)))
        calls_done = time.monotonic() - t0
        running = watcher.result() - t0
        first_create = creates.since(t0_wall)
    finally:
        watcher.stop()
        creates.stop()
    after = cpu.snapshot()
    result = {"running": running, "calls_done": calls_done, "first_create_event": first_create,
              "engine": engine_timeline(watch_api, label, t0_wall), "cpu": cpu.diff(before, after)}
    remove_labelled(api, label)
    wait_gone(watch_api, label)
    return result


# -- Moorage: the production topology ----------------------------------------------------


def moorage_run(stack: MoorageStack | EmbeddedStack, watch_api: docker.APIClient, n: int, name: str,
                cpu: CpuAccount) -> dict[str, Any]:
    label = f"moorage.deployment={name}"
    watcher = RunningWatcher(watch_api, label, n)
    watcher.start()
    creates = CreateWatcher(EVENTS_URL[0], label)
    creates.start()
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
            first_create = creates.since(t0_wall)
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
            creates.stop()
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
        tasks = worker_tasks(getattr(stack, "worker_log", stack.workdir / "worker.log"),
                             t0_wall, end_wall)
        result = {"put_s": put_s, "running": running, "succeeded": succeeded,
                  "first_create_event": first_create,
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


def table(results: dict[int, dict[str, list[dict[str, Any]]]]) -> str:
    head = ("| N | floor (s) | Moorage running (s) | Moorage rollout succeeded (s) | Swarm N/N (s) "
            "| Moorage/floor | Moorage/Swarm | PUT → first create (ms; floor's first create) |")
    rows = [head, "|" + "---|" * 8]

    def first_create(runs: list[dict[str, Any]]) -> float:
        return 1000 * med([x["first_create_event"] for x in runs
                           if x.get("first_create_event") is not None])

    for n, r in sorted(results.items()):
        floor = med([x["running"] for x in r["floor"]])
        running = med([x["running"] for x in r["moorage"]])
        succeeded = med([x["succeeded"] for x in r["moorage"]])
        swarm = med([x["converged"] for x in r["swarm"]]) if r.get("swarm") else float("nan")
        rows.append(
            f"| {n} | {floor:.2f} | {running:.2f} | {succeeded:.2f} | {swarm:.2f} "
            f"| {running / floor:.2f}× (succeeded {succeeded / floor:.2f}×) "
            f"| {running / swarm:.2f}× (succeeded {succeeded / swarm:.2f}×) "
            f"| {first_create(r['moorage']):.0f} ({first_create(r['floor']):.0f}) |"
        )
    return "\n".join(rows)


def runs_table(results: dict[int, dict[str, list[dict[str, Any]]]]) -> str:
    """Every run's figures, sorted, so that the spread is visible next to the medians."""
    rows = ["| N | floor | Moorage all running | Moorage rollout succeeded | PUT → first create (ms) |",
            "|" + "---|" * 5]

    def f(values: list[float | None], scale: float = 1.0, fmt: str = ".2f") -> str:
        return " ".join(f"{v * scale:{fmt}}" for v in sorted(v for v in values if v is not None))

    for n, r in sorted(results.items()):
        m = r["moorage"]
        rows.append(f"| {n} | {f([x['running'] for x in r['floor']])} | {f([x['running'] for x in m])} "
                    f"| {f([x['succeeded'] for x in m])} "
                    f"| {f([x.get('first_create_event') for x in m], 1000, '.0f')} |")
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
    parser.add_argument("--embedded", action="store_true",
                        help="Moorage as `moorage dev` runs it (SQLite, filesystem broker, a "
                             "private data dir) instead of the production topology; no Swarm; "
                             "sizes default to 10,20,50")
    parser.add_argument("--json", type=Path, help="also write every run's raw figures here")
    parser.add_argument("--keep-engine", action="store_true",
                        help="leave engine 7 running at the end even if this run started it")
    parser.add_argument("--keep-logs", action="store_true",
                        help="keep the Moorage processes' logs (their directory is printed)")
    args = parser.parse_args(argv)
    if args.embedded:
        args.skip_swarm = True
        if args.sizes == parser.get_default("sizes"):
            args.sizes = "10,20,50"
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
    EVENTS_URL[0] = engine.url
    api = docker.APIClient(base_url=engine.url, version="auto", max_pool_size=32, timeout=60)
    watch_api = docker.APIClient(base_url=engine.url, version="auto", timeout=60)
    workdir = Path(tempfile.mkdtemp(prefix="moorage-bench-"))
    stack: MoorageStack | EmbeddedStack = (EmbeddedStack(engine, workdir) if args.embedded
                                           else MoorageStack(engine, workdir))
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
        if isinstance(stack, EmbeddedStack):
            log(f"moorage dev up: api {stack.url}, data dir {workdir / 'data'}")
        else:
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
            remove_bridge(engine.bridge)  # made by engine.start(); ours to remove
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
    topology = ("embedded default (`moorage dev`: SQLite, filesystem broker)" if args.embedded
                else "production topology (Postgres, Redis, api/worker/beat)")
    print(f"{topology}; {os.cpu_count()} cores; {args.runs} runs per cell; medians; "
          f"background load before the runs {busy:.0%}.")
    print(table(results))
    print()
    print(runs_table(results))
    print()
    print(profile(results))
    return 0


if __name__ == "__main__":
    sys.exit(main())
