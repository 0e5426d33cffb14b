"""Many deployments: a burst of N one-replica deployments onto one engine, then idle.

    .venv/bin/python -m bench.many --count 200      # and --count 400

On ONE private engine (tests.support.dockerd engine 103 unless --engine), in one run:

* floor     N containers (image moorage-test/web:v1, no ports, restart policy "no")
            created and started straight through the Docker SDK from a pool of 16
            threads (Moorage's default MOORAGE_DOCKER_POOL_SIZE, as bench.converge's
            floor), timed until the engine lists all N running; then removed.
* burst     the production topology (bench.harness.MoorageStack: Postgres, Redis,
            ``moorage api``, ``worker``, ``beat``, default settings); N deployments of
            one replica each, ``PUT /v1/deployments/{name}`` with 16 in flight. Timed from
            just before the first PUT until (a) the engine lists N running containers of
            the installation and (b) the database shows every deployment's rollout
            ``succeeded`` (polled with one SQL query every 0.25 s: no load on the API).
* GET p99   during the burst, ``GET /v1/deployments/{name}`` (names already applied, in
            turn) at a fixed rate (--rate, 20 rps), open loop: each request has a
            scheduled time, and its latency is measured from then, so queueing counts.
* idle      once all have converged (and --settle seconds more), an idle window
            (--idle, 60 s): CPU seconds used by the worker's process group (the prefork
            children included) and beat's, from /proc/<pid>/stat utime+stime; the rows
            Postgres says were written (pg_stat_user_tables n_tup_ins/upd/del deltas) per
            table; the tasks the worker ran in the window, from its log. Postgres' table
            counters are flushed by each backend at most once a second, and by an idle
            one within some 10 s: the same lag at both ends of the window.

The host is registered as no edge (see `register`): no deployment has an endpoint, and
an edge's proxy image is not on the engine, which would then try a registry every tick.
Figures are per minute. ``--profile S`` runs py-spy (record, raw collapsed stacks) on the
worker group and beat for S seconds AFTER the measured window (py-spy's own CPU must not
count), and prints the hottest frames. Everything made is removed in ``finally``.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from contextlib import suppress
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import docker
import httpx

from bench.harness import (
    VENV_BIN,
    MoorageStack,
    background_load,
    load_average,
    log,
    prepare_engine,
    proc_stats,
    remove_bridge,
    remove_labelled,
    wait_gone,
    wait_until,
)
from tests.support import dockerd

IMAGE = dockerd.WEB_V1
POOL_SIZE = 16  # Moorage's default MOORAGE_DOCKER_POOL_SIZE, as bench.converge's floor
BENCH_LABEL = "moorage.bench"
MANAGED_LABEL = "moorage.managed"
CLK_TCK = os.sysconf("SC_CLK_TCK")
RUN_TIMEOUT_S = 900.0


# -- the engine's view ---------------------------------------------------------------------

BRIDGE_LIMIT = 250


@dataclass(frozen=True)
class WideEngine(dockerd.Engine):
    """A private engine whose bridge is a /22 (1,021 addresses), for N past a /24's 253;
    its own range (10.215.<index>.0/22, the index rounded down to a multiple of 4)."""

    @property
    def bridge_address(self) -> str:
        return f"10.215.{self.index // 4 * 4}.1/22"


def _bridge_is(bridge: str, address: str) -> bool:
    out = subprocess.run(["ip", "-4", "addr", "show", bridge], capture_output=True, text=True)
    return address in out.stdout



def running_count(api: docker.APIClient, label: str) -> int:
    return len(api.containers(quiet=True, filters={"label": label, "status": "running"}))


def wait_running(api: docker.APIClient, label: str, n: int, t0: float,
                 timeout: float = RUN_TIMEOUT_S) -> float:
    """Seconds from t0 to the first poll (its issue time) that saw n running."""
    deadline = time.monotonic() + timeout
    while True:
        issued = time.monotonic()
        if running_count(api, label) >= n:
            return issued - t0
        if issued > deadline:
            raise TimeoutError(f"never saw {n} running containers with {label}")
        time.sleep(0.1)


def remove_all(api: docker.APIClient, label: str) -> None:
    ids = [c["Id"] for c in api.containers(all=True, quiet=True, filters={"label": label})]

    def rm(cid: str) -> None:
        with suppress(docker.errors.NotFound, docker.errors.APIError):
            api.remove_container(cid, force=True, v=True)

    with ThreadPoolExecutor(POOL_SIZE) as pool:
        list(pool.map(rm, ids))
    remove_labelled(api, label)


def floor_run(api: docker.APIClient, n: int, tag: str) -> float:
    label = f"{BENCH_LABEL}={tag}"
    host_config = api.create_host_config(restart_policy={"Name": "no"})

    def one(i: int) -> None:
        created = api.create_container(IMAGE, name=f"{tag}-{i}", labels={BENCH_LABEL: tag},
                                       host_config=host_config)
        api.start(created["Id"])

    t0 = time.monotonic()
    with ThreadPoolExecutor(POOL_SIZE, thread_name_prefix="floor") as pool:
        list(pool.map(one, range(n)))
    running = wait_running(api, label, n, t0)
    remove_all(api, label)
    wait_gone(api, label, timeout=300)
    return running


# -- the open-loop GET sampler -------------------------------------------------------------


class Sampler(threading.Thread):
    """GET /v1/deployments/{name} at `rate` per second, each timed from its scheduled
    moment (open loop: a slow answer delays no later request's schedule)."""

    def __init__(self, stack: MoorageStack, names: list[str], rate: float) -> None:
        super().__init__(daemon=True, name="sampler")
        self.stack, self.names, self.rate = stack, names, rate
        self.latencies: list[float] = []
        self.timed: list[tuple[float, float]] = []  # (scheduled, latency)
        self.errors: Counter[str] = Counter()
        self._stop_event = threading.Event()
        self._lock = threading.Lock()
        self._local = threading.local()

    def _client(self) -> httpx.Client:
        c = getattr(self._local, "client", None)
        if c is None:
            c = self._local.client = self.stack.client()
        return c

    def _one(self, scheduled: float, name: str) -> None:
        try:
            r = self._client().get(f"/v1/deployments/{name}")
            status = r.status_code
        except httpx.HTTPError as exc:
            status = type(exc).__name__
        done = time.monotonic()
        with self._lock:
            if status == 200:
                self.latencies.append(done - scheduled)
                self.timed.append((scheduled, done - scheduled))
            else:
                self.errors[str(status)] += 1

    def run(self) -> None:
        period = 1.0 / self.rate
        with ThreadPoolExecutor(32, thread_name_prefix="get") as pool:
            start = time.monotonic()
            i = 0
            while not self._stop_event.is_set():
                scheduled = start + i * period
                delay = scheduled - time.monotonic()
                if delay > 0:
                    time.sleep(delay)
                known = len(self.names)
                if known:
                    pool.submit(self._one, scheduled, self.names[i % known])
                i += 1

    def stop(self) -> None:
        self._stop_event.set()
        self.join(timeout=30)

    def percentiles(self, since: float | None = None, until: float | None = None
                    ) -> dict[str, float]:
        values = sorted(
            lat for at, lat in self.timed
            if (since is None or at >= since) and (until is None or at < until))
        if not values:
            return {}

        def q(p: float) -> float:
            return values[min(len(values) - 1, int(p * len(values)))]

        return {"n": len(values), "p50_ms": q(0.5) * 1000, "p99_ms": q(0.99) * 1000,
                "max_ms": values[-1] * 1000}


# -- the database and the processes --------------------------------------------------------


class Db:
    def __init__(self, stack: MoorageStack) -> None:
        import sqlalchemy as sa

        self.sa = sa
        self.engine = sa.create_engine(stack.database_url, isolation_level="AUTOCOMMIT")

    def converged(self) -> tuple[int, int]:
        """(deployments whose latest rollout succeeded, deployments with a ready replica)."""
        with self.engine.connect() as conn:
            row = conn.execute(self.sa.text(
                "SELECT (SELECT count(DISTINCT deployment_id) FROM rollout WHERE state = 'succeeded'),"
                " (SELECT count(*) FROM deployment WHERE ready_replicas >= replicas"
                "  AND replicas > 0 AND observed_generation = generation)")).one()
        return int(row[0]), int(row[1])

    def table_writes(self) -> dict[str, tuple[int, int, int]]:
        with self.engine.connect() as conn:
            rows = conn.execute(self.sa.text(
                "SELECT relname, n_tup_ins, n_tup_upd, n_tup_del FROM pg_stat_user_tables"))
            return {r[0]: (int(r[1]), int(r[2]), int(r[3])) for r in rows}

    def close(self) -> None:
        self.engine.dispose()


def group_pids(pgid: int) -> list[int]:
    return [pid for pid, _, pgrp, _ in proc_stats() if pgrp == pgid]


def group_ticks(pgid: int) -> dict[int, int]:
    """utime+stime of every live process in the group (ticks), by pid."""
    out = {}
    for pid in group_pids(pgid):
        try:
            raw = Path(f"/proc/{pid}/stat").read_text()
        except OSError:
            continue
        fields = raw[raw.rindex(")") + 2:].split()
        out[pid] = int(fields[11]) + int(fields[12])
    return out


def cpu_seconds(before: dict[int, int], after: dict[int, int]) -> float:
    return sum(t - before.get(pid, 0) for pid, t in after.items()) / CLK_TCK


def task_counts(logfile: Path, start_wall: float, end_wall: float) -> dict[str, list[float]]:
    """Task name -> the run times of the tasks the worker finished in the window."""
    from datetime import datetime

    from bench.harness import _CELERY_LINE

    out: dict[str, list[float]] = {}
    for line in logfile.read_text(errors="replace").splitlines():
        m = _CELERY_LINE.match(line)
        if not m or m.group(5) is None:
            continue
        at = datetime.strptime(m.group(1), "%Y-%m-%d %H:%M:%S,%f").timestamp()
        if start_wall <= at <= end_wall:
            out.setdefault(m.group(2), []).append(float(m.group(5)))
    return out


def py_spy(pids: dict[str, int], seconds: float, outdir: Path) -> dict[str, Path]:
    exe = shutil.which("py-spy", path=f"{VENV_BIN}:{Path(sys.executable).parent}:"
                      f"{os.environ.get('PATH', '')}")
    if exe is None:
        log("py-spy not found; no profile")
        return {}
    procs, files = [], {}
    for role, pid in pids.items():
        out = outdir / f"{role}.txt"
        procs.append(subprocess.Popen(
            [exe, "record", "--pid", str(pid), "--subprocesses", "--format", "raw",
             "--rate", "50", "--duration", str(int(seconds)), "--output", str(out),
             "--nonblocking"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
        files[role] = out
    for p in procs:
        p.wait(timeout=seconds + 60)
    return files


def hottest(collapsed: Path, top: int = 12) -> list[str]:
    """From py-spy's raw collapsed stacks: the frames of ours (app/, workers/) seen in
    the most samples, inclusive, skipping idle waits."""
    if not collapsed.exists():
        return []
    inclusive: Counter[str] = Counter()
    total = 0
    for line in collapsed.read_text().splitlines():
        stack, _, count = line.rpartition(" ")
        if not count.isdigit():
            continue
        frames = stack.split(";")
        leaf = frames[-1] if frames else ""
        if any(w in leaf for w in ("wait (threading", "select (", "poll (", "_recv_into",
                                   "sleep", "read (", "accept (", "recv (")):
            continue
        total += int(count)
        for f in set(frames):
            if "(app/" in f or "(workers/" in f:
                inclusive[f] += int(count)
    return [f"{n:6d} / {total} busy samples  {f}" for f, n in inclusive.most_common(top)]


# -- the run -------------------------------------------------------------------------------


def register(stack: MoorageStack) -> None:
    """The engine as host "bench", made no edge at once: the first host registered is an
    edge, whose proxy image (caddy:2) this engine does not have, and every edges tick
    would send it to a registry for it. No deployment here has an endpoint."""
    with stack.client() as c:
        r = c.post("/v1/hosts", json={"name": "bench", "url": stack.engine.url})
        r.raise_for_status()
        r = c.patch("/v1/hosts/bench", json={"edge": False})
        r.raise_for_status()
        wait_until(lambda: c.get("/v1/hosts/bench").json()["state"] == "ready", 60,
                   "host bench to be ready", 0.2)



def burst(stack: MoorageStack, api: docker.APIClient, db: Db, n: int, tag: str,
          rate: float, concurrency: int) -> dict[str, Any]:
    names: list[str] = []
    sampler = Sampler(stack, names, rate)
    failures: Counter[str] = Counter()
    put_s: list[float] = []
    lock = threading.Lock()
    local = threading.local()

    def put(i: int) -> None:
        c = getattr(local, "client", None)
        if c is None:
            c = local.client = stack.client()
        name = f"many-{tag}-{i:04d}"
        t = time.monotonic()
        r = c.put(f"/v1/deployments/{name}", json={"image": IMAGE, "replicas": 1})
        with lock:
            put_s.append(time.monotonic() - t)
            if r.status_code in (200, 201):
                names.append(name)
            else:
                failures[f"{r.status_code} {r.text[:120]}"] += 1

    t0 = time.monotonic()
    sampler.start()
    with ThreadPoolExecutor(concurrency, thread_name_prefix="put") as pool:
        list(pool.map(put, range(n)))
    puts_end = time.monotonic()
    puts_done = puts_end - t0
    if failures:
        log(f"PUT failures: {dict(failures)}")
    running = wait_running(api, MANAGED_LABEL, n, t0)
    log(f"all {n} running at {running:.2f}s; waiting for the rollouts")
    deadline = time.monotonic() + RUN_TIMEOUT_S
    while True:
        issued = time.monotonic()
        succeeded, ready = db.converged()
        if succeeded >= n and ready >= n:
            available = issued - t0
            break
        if issued > deadline:
            raise TimeoutError(f"only {succeeded} rollouts succeeded, {ready} ready")
        time.sleep(0.25)
    sampler.stop()
    put_s.sort()
    return {"puts_done": puts_done, "running": running, "available": available,
            "put_p50_ms": put_s[len(put_s) // 2] * 1000,
            "put_p99_ms": put_s[min(len(put_s) - 1, int(0.99 * len(put_s)))] * 1000,
            "get": sampler.percentiles(), "get_errors": dict(sampler.errors),
            "get_during_puts": sampler.percentiles(until=puts_end),
            "get_after_puts": sampler.percentiles(since=puts_end),
            "put_failures": dict(failures)}


def idle(stack: MoorageStack, db: Db, seconds: float) -> dict[str, Any]:
    worker, beat = stack.procs["worker"].pid, stack.procs["beat"].pid
    api_pid = stack.procs["api"].pid
    w0, b0, a0 = group_ticks(worker), group_ticks(beat), group_ticks(api_pid)
    rows0 = db.table_writes()
    start_wall, t0 = time.time(), time.monotonic()
    time.sleep(seconds)
    w1, b1, a1 = group_ticks(worker), group_ticks(beat), group_ticks(api_pid)
    rows1 = db.table_writes()
    wall = time.monotonic() - t0
    end_wall = time.time()
    per_min = 60.0 / wall
    writes = {}
    for table, after in rows1.items():
        before = rows0.get(table, (0, 0, 0))
        d = tuple((a - b) * per_min for a, b in zip(after, before, strict=True))
        if any(d):
            writes[table] = d
    time.sleep(0.5)
    tasks = task_counts(stack.workdir / "worker.log", start_wall, end_wall)
    per_process = sorted(((f"{pid} {'main' if pid == worker else 'child'}",
                           (t - w0.get(pid, 0)) / CLK_TCK * per_min)
                          for pid, t in w1.items()), key=lambda kv: -kv[1])
    return {
        "wall_s": wall,
        "worker_per_process": per_process,
        "worker_cpu_per_min": cpu_seconds(w0, w1) * per_min,
        "worker_procs": len(w1),
        "beat_cpu_per_min": cpu_seconds(b0, b1) * per_min,
        "api_cpu_per_min": cpu_seconds(a0, a1) * per_min,
        "writes_per_min": writes,
        "tasks_per_min": {k: (len(v) * per_min, sum(v) * per_min) for k, v in tasks.items()},
    }


def report(n: int, floor: float, b: dict[str, Any], i: dict[str, Any]) -> str:
    lines = [f"N={n}: floor (SDK, {POOL_SIZE} threads) {floor:.2f}s; Moorage: PUTs done "
             f"{b['puts_done']:.2f}s (PUT p50 {b['put_p50_ms']:.0f} ms, p99 {b['put_p99_ms']:.0f} ms), "
             f"all running {b['running']:.2f}s ({b['running'] / floor:.2f}x floor), all available "
             f"(rollouts succeeded) {b['available']:.2f}s ({b['available'] / floor:.2f}x floor)"]
    g = b["get"]
    if g:
        lines.append(f"  GET /v1/deployments/{{name}} during the burst: {g['n']} answered, "
                     f"p50 {g['p50_ms']:.0f} ms, p99 {g['p99_ms']:.0f} ms, max {g['max_ms']:.0f} ms; "
                     f"errors {b['get_errors'] or 'none'}")
        for key, what in (("get_during_puts", "while the PUTs were in flight"),
                          ("get_after_puts", "after the last PUT, until all available")):
            if g := b.get(key):
                lines.append(f"    {what}: {g['n']}, p50 {g['p50_ms']:.0f} ms, "
                             f"p99 {g['p99_ms']:.0f} ms")
    total = i["worker_cpu_per_min"] + i["beat_cpu_per_min"]
    lines.append(f"  idle {i['wall_s']:.0f}s: worker CPU {i['worker_cpu_per_min']:.2f} s/min "
                 f"({i['worker_procs']} processes), beat {i['beat_cpu_per_min']:.2f} s/min, "
                 f"together {total:.2f} s/min = {total / 60:.1%} of one core "
                 f"(api {i['api_cpu_per_min']:.2f} s/min)")
    lines.append("    worker processes (CPU s/min): " + ", ".join(
        f"{who} {cpu:.2f}" for who, cpu in i["worker_per_process"]))
    w = i["writes_per_min"]
    tot = [sum(v[k] for v in w.values()) for k in range(3)]
    lines.append(f"  rows written per idle minute: {sum(tot):.0f} (ins {tot[0]:.0f}, "
                 f"upd {tot[1]:.0f}, del {tot[2]:.0f})")
    for table, (ins, upd, dele) in sorted(w.items(), key=lambda kv: -sum(kv[1])):
        lines.append(f"    {table:24s} ins {ins:7.0f}  upd {upd:7.0f}  del {dele:7.0f}")
    lines.append("  worker tasks per idle minute (count, busy s):")
    for task, (count, busy) in sorted(i["tasks_per_min"].items(), key=lambda kv: -kv[1][1]):
        lines.append(f"    {task:28s} {count:7.1f}  {busy:7.2f} s")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--count", type=int, default=200)
    parser.add_argument("--engine", type=int, default=None,
                        help="engine index (default 103; 106, on a /22 bridge, past 250)")
    parser.add_argument("--concurrency", type=int, default=16, help="PUTs in flight")
    parser.add_argument("--rate", type=float, default=20.0, help="GETs per second in the burst")
    parser.add_argument("--settle", type=float, default=15.0,
                        help="seconds after convergence before the idle window")
    parser.add_argument("--idle", type=float, default=60.0, help="the idle window (s)")
    parser.add_argument("--profile", type=float, default=0.0,
                        help="py-spy the worker and beat this long after the window")
    parser.add_argument("--keep-logs", action="store_true")
    parser.add_argument("--set", action="append", default=[], metavar="MOORAGE_X=V",
                        help="a setting for every Moorage process (an experiment; the "
                             "figures are for the defaults without it)")
    args = parser.parse_args(argv)
    n = args.count
    if args.engine is None:
        args.engine = 106 if n > BRIDGE_LIMIT else 103

    if n > BRIDGE_LIMIT:
        # An engine's own bridge is a /24 (tests.support.dockerd): 253 containers at most.
        dockerd.require_tools()
        engine = WideEngine(args.engine)
        started = not engine.is_up()
        if not _bridge_is(engine.bridge, engine.bridge_address):
            if not started:
                raise RuntimeError(f"engine {engine.name} runs on a /24 bridge; stop it first")
            remove_bridge(engine.bridge)  # ours (engine 106's), left with a /24 address
        engine.start()
    else:
        engine, started = prepare_engine(args.engine, offline=False)
    dockerd.build_test_images(engine)
    api = docker.APIClient(base_url=engine.url, version="auto", max_pool_size=32, timeout=120)
    workdir = Path(tempfile.mkdtemp(prefix="moorage-bench-many-"))
    stack = MoorageStack(engine, workdir, settings=dict(kv.split("=", 1) for kv in args.set))
    db: Db | None = None
    tag = uuid.uuid4().hex[:4]
    ok = False
    try:
        log(f"engine {engine.url}; Moorage ({VENV_BIN}) logs in {workdir}; load {load_average()}")
        busy = background_load(3.0)
        log(f"background load: {busy:.0%} of {os.cpu_count()} cores")
        floor = floor_run(api, n, f"floor-{tag}")
        log(f"floor: {n} containers running in {floor:.2f}s")
        stack.start(register=False)
        register(stack)
        db = Db(stack)
        b = burst(stack, api, db, n, tag, args.rate, args.concurrency)
        log(f"burst: {b}")
        time.sleep(args.settle)
        i = idle(stack, db, args.idle)
        print()
        print(f"{os.cpu_count()} cores; background load before {busy:.0%}; "
              f"moorage from {VENV_BIN}")
        print(report(n, floor, b, i))
        if args.profile:
            files = py_spy({"worker": stack.procs["worker"].pid, "beat": stack.procs["beat"].pid},
                           args.profile, workdir)
            for role, path in files.items():
                print(f"  py-spy {role} ({args.profile:.0f}s, {path}):")
                for line in hottest(path):
                    print(f"    {line}")
        ok = True
    finally:
        if db is not None:
            db.close()
        stack.teardown()
        for label in (BENCH_LABEL, MANAGED_LABEL):
            with suppress(Exception):
                remove_all(api, label)
        api.close()
        if started:
            engine.stop()
            remove_bridge(engine.bridge)
        if ok and not args.keep_logs and not args.profile:
            shutil.rmtree(workdir, ignore_errors=True)
        else:
            log(f"logs kept in {workdir}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
