"""The API under load: an open-loop load generator over the production topology.

``python -m bench.api`` starts Postgres-backed Moorage as in production (`MoorageStack`:
``moorage api`` at its default settings, ``moorage worker`` and ``moorage beat`` running
beside it, so they load the database as they would), registers one private engine, makes
``--deployments`` deployments (the first ``--running`` of them with one replica running on
the engine, so the views have replicas, usage samples and rollouts; the rest at 0
replicas), and then offers each request at a fixed rate:

* ``GET /healthz`` at ``--rate`` (the HTTP stack's floor, in the same run);
* ``GET /v1/deployments/{name}`` at ``--rate`` (target: p99 <= 20 ms at 500 rps);
* ``GET /v1/deployments?limit=100`` at ``--list-rate`` (target: p99 <= 50 ms at 100 rps);
* ``PUT`` of the same spec (a no-op) and ``PUT`` of a changed spec (a new revision and a
  rollout, round robin over the 0-replica deployments) at ``--put-rate`` each (target:
  p99 <= 50 ms at 50 rps).

Open loop (wrk2-style, free of coordinated omission): request ``i`` is due at
``t0 + i / rate`` whether or not earlier ones have been answered, and its latency is
measured from that due time, so time spent waiting for a free connection (queueing) is
in it. Requests go over ``--conns`` keep-alive HTTP/1.1 connections (raw asyncio streams:
the generator must not be the bottleneck; it reports how late it sent and its own CPU).

Max throughput (closed loop) comes from Debian's ``wrk`` where installed: ``/healthz``
and the single GET, each at ``--wrk-conns`` connections, and their ratio (target >= 0.5);
then the GET of each deployment in turn (a path per request, from a Lua script), whose
concurrent requests share a statement but never a name.

Run under the heavy lock: ``flock /tmp/moorage-heavy.lock python -m bench.api``. To measure
other code, run this module with that code's venv python: `MoorageStack` starts the
``moorage`` next to ``sys.executable``.
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import json
import os
import re
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bench.harness import MoorageStack, background_load, load_average, log, proc_stats, wait_until
from tests.support import dockerd

ENGINE_INDEX = 101
IMAGE = dockerd.WEB_V1
TICK = os.sysconf("SC_CLK_TCK")


# -- a raw keep-alive HTTP/1.1 client ------------------------------------------------------


class Conn:
    def __init__(self, host: str, port: int) -> None:
        self.host, self.port = host, port
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None

    async def _open(self) -> None:
        self.reader, self.writer = await asyncio.open_connection(self.host, self.port)

    def close(self) -> None:
        if self.writer is not None:
            self.writer.close()
        self.reader = self.writer = None

    async def request(self, raw: bytes) -> tuple[int, bytes]:
        """Send one request (bytes, ready to go), read its whole answer: (status, body)."""
        if self.writer is None:
            await self._open()
        assert self.reader is not None and self.writer is not None
        self.writer.write(raw)
        head = await self.reader.readuntil(b"\r\n\r\n")
        lines = head.split(b"\r\n")
        status = int(lines[0].split(b" ", 2)[1])
        length, chunked, close = 0, False, False
        for line in lines[1:]:
            name, _, value = line.partition(b":")
            name = name.strip().lower()
            if name == b"content-length":
                length = int(value)
            elif name == b"transfer-encoding" and b"chunked" in value.lower():
                chunked = True
            elif name == b"connection" and b"close" in value.lower():
                close = True
        if chunked:
            parts = []
            while True:
                size = int((await self.reader.readuntil(b"\r\n")).split(b";")[0], 16)
                parts.append(await self.reader.readexactly(size + 2))
                if size == 0:
                    break
            body = b"".join(p[:-2] for p in parts)
        else:
            body = await self.reader.readexactly(length) if length else b""
        if close:
            self.close()
        return status, body


def raw_request(method: str, path: str, host: str, token: str | None,
                body: bytes | None = None) -> bytes:
    head = [f"{method} {path} HTTP/1.1", f"Host: {host}", "Accept: application/json"]
    if token:
        head.append(f"Authorization: Bearer {token}")
    if body is not None:
        head += ["Content-Type: application/json", f"Content-Length: {len(body)}"]
    return ("\r\n".join(head) + "\r\n\r\n").encode() + (body or b"")


# -- open loop --------------------------------------------------------------------------


@dataclass
class Phase:
    name: str
    rate: float
    latencies: list[float] = field(default_factory=list)  # seconds, from the due time
    lateness: list[float] = field(default_factory=list)  # how late the generator started
    answered: list[tuple[float, float]] = field(default_factory=list)  # (due time, latency)
    statuses: dict[int, int] = field(default_factory=dict)
    errors: list[str] = field(default_factory=list)
    timeouts: int = 0  # not answered within the timeout (counted at it in the latencies)
    wall: float = 0.0
    generator_cpu: float = 0.0  # seconds of this process's CPU
    cpu: dict[str, float] = field(default_factory=dict)  # process group -> CPU seconds

    def summary(self) -> dict[str, Any]:
        lat = sorted(self.latencies)
        late = sorted(self.lateness)
        ok = sum(n for s, n in self.statuses.items() if 200 <= s < 300)
        return {
            "name": self.name, "offered_rps": self.rate,
            "sent": len(lat) + len(self.errors) - self.timeouts,
            "achieved_rps": round((len(lat) - self.timeouts) / self.wall, 1) if self.wall else 0.0,
            "ok": ok, "statuses": dict(sorted(self.statuses.items())),
            "timeouts": self.timeouts, "errors": len(self.errors), "error_kinds": sorted(set(self.errors))[:5],
            "p50_ms": pct(lat, 50), "p90_ms": pct(lat, 90), "p99_ms": pct(lat, 99),
            "max_ms": round(lat[-1] * 1000, 2) if lat else None,
            **self.by_second(),
            "send_late_p99_ms": pct(late, 99), "send_late_max_ms": pct(late, 100),
            "generator_cpu_pct": round(100 * self.generator_cpu / self.wall, 1) if self.wall else 0,
            "cpu_pct": {k: round(100 * v / self.wall, 1) for k, v in sorted(self.cpu.items())},
        }


    def by_second(self) -> dict[str, float | None]:
        """p99 of each whole second of the phase: the median second against the worst
        tells a steady queue from a stall (a pause that a few seconds' tail is all of)."""
        if not self.answered:
            return {"p99_median_second_ms": None, "p99_worst_second_ms": None}
        start = min(due for due, _ in self.answered)
        seconds: dict[int, list[float]] = {}
        for due, latency in self.answered:
            seconds.setdefault(int(due - start), []).append(latency)
        p99s = sorted(pct(sorted(v), 99) or 0.0 for v in seconds.values())
        return {"p99_median_second_ms": p99s[len(p99s) // 2], "p99_worst_second_ms": p99s[-1]}


def pct(sorted_values: list[float], p: float) -> float | None:
    if not sorted_values:
        return None
    i = min(len(sorted_values) - 1, max(0, round(p / 100 * len(sorted_values)) - 1))
    return round(sorted_values[i] * 1000, 2)


async def open_loop(host: str, port: int, make: Callable[[int], bytes], rate: float,
                    seconds: float, conns: int, phase: Phase | None = None,
                    check: Callable[[int, bytes], str | None] | None = None,
                    timeout: float = 10.0) -> None:
    """Offer ``make(i)`` at ``rate`` for ``seconds``; record into ``phase`` (None: warm-up)."""
    pool: asyncio.Queue[Conn] = asyncio.Queue()
    for _ in range(conns):
        pool.put_nowait(Conn(host, port))
    loop = asyncio.get_running_loop()
    total = int(rate * seconds)
    tasks: list[asyncio.Task] = []

    async def one(i: int, due: float) -> None:
        started = loop.time()
        try:
            # The timeout runs from the due time: queueing for a connection counts.
            async with asyncio.timeout_at(due + timeout):
                conn = await pool.get()
                try:
                    status, body = await conn.request(make(i))
                except BaseException:
                    conn.close()  # mid-answer: this connection cannot be reused
                    raise
                finally:
                    pool.put_nowait(conn)
        except TimeoutError:
            if phase is not None:
                phase.timeouts += 1
                phase.latencies.append(timeout)
                phase.errors.append("timeout")
            return
        except (OSError, asyncio.IncompleteReadError, ValueError) as exc:
            if phase is not None:
                phase.errors.append(exc.__class__.__name__)
            return
        done = loop.time()
        if phase is not None:
            phase.latencies.append(done - due)
            phase.answered.append((due, done - due))
            phase.lateness.append(max(0.0, started - due))
            phase.statuses[status] = phase.statuses.get(status, 0) + 1
            if check is not None and (problem := check(status, body)):
                phase.errors.append(problem)

    t0 = loop.time() + 0.05
    for i in range(total):
        due = t0 + i / rate
        delay = due - loop.time()
        if delay > 0:
            await asyncio.sleep(delay)
        tasks.append(asyncio.create_task(one(i, due)))
    await asyncio.gather(*tasks)
    while not pool.empty():
        pool.get_nowait().close()


# -- CPU of the Moorage processes ---------------------------------------------------------


def group_cpu(groups: dict[int, str]) -> dict[str, float]:
    """CPU seconds so far of every live process in each process group (by its name)."""
    out: dict[str, float] = {}
    for _, _, pgrp, ticks in proc_stats():
        if pgrp in groups:
            out[groups[pgrp]] = out.get(groups[pgrp], 0.0) + ticks / TICK
    return out


# -- where the API's time goes (py-spy, sampling the API processes) ------------------------

# Frames worth naming in the summary: the request path's layers, not the event loop's.
_FRAMES = re.compile(
    r"^(get_deployment|list_deployments|apply_deployment|_shown|_present|authenticate|"
    r"_look_up|get_session|views?_page|views_by_names|totals|states|edge_views|deployment|"
    r"apply|_apply|serialize_response|_run_sync_endpoint|run_in_threadpool|solve_dependencies|"
    r"Session\.commit|Session\.execute|Session\.scalars?|Connection\._execute_context|"
    r"Cursor\.execute|do_ping|_handed_out|BaseModel\.__init__|TypeAdapter\.\w+|"
    r"JSONResponse\.render|_ConnectionFairy\._checkout|QueuePool\._do_get|"
    r"RequestResponseCycle\.run_asgi|Connection\.wait|compile|_compiler_dispatch) ")


def start_profile(stack: MoorageStack, out: Path, seconds: float) -> subprocess.Popen | None:
    spy = shutil.which("py-spy") or str(Path(sys.executable).parent / "py-spy")
    if not Path(spy).exists():
        log("no py-spy: no profile")
        return None
    pid = stack.procs["api"].pid
    return subprocess.Popen([spy, "record", "--pid", str(pid), "--subprocesses", "--nonblocking", "--gil",
                             "--rate", "250", "--duration", str(int(seconds)), "--format", "raw",
                             "--output", str(out)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def profile_summary(path: Path, top: int = 30) -> list[tuple[float, str]]:
    """Inclusive share of the sampled (non-idle) API stacks in each named frame."""
    if not path.exists():
        return []
    total, incl = 0, {}
    for line in path.read_text().splitlines():
        stack, _, n = line.rpartition(" ")
        if not n.isdigit():
            continue
        total += int(n)
        for frame in {re.sub(r":\d+\)$", ")", f) for f in stack.split(";")}:
            incl[frame] = incl.get(frame, 0) + int(n)
    rows = sorted(((100 * n / total, f) for f, n in incl.items() if _FRAMES.match(f)),
                  reverse=True)
    return [(round(share, 1), frame) for share, frame in rows[:top]]


def settle(stack: MoorageStack, busy: float = 0.3, limit: float = 90.0) -> float:
    """Wait (up to ``limit`` s) until the Moorage processes together use less than ``busy``
    of a core: a phase whose requests timed out leaves the API working off their backlog,
    and new revisions leave the worker rolling them out."""
    t0 = time.monotonic()
    groups = stack.process_groups()
    while time.monotonic() - t0 < limit:
        a = sum(group_cpu(groups).values())
        time.sleep(1.0)
        if sum(group_cpu(groups).values()) - a < busy:
            break
    return time.monotonic() - t0


def run_phase(stack: MoorageStack, name: str, make: Callable[[int], bytes], rate: float,
              seconds: float, conns: int, warmup: float, timeout: float,
              check: Callable[[int, bytes], str | None] | None = None,
              profile: Path | None = None) -> dict[str, Any]:
    host, port = "127.0.0.1", stack.port
    settle(stack)
    asyncio.run(open_loop(host, port, make, rate, warmup, conns, timeout=timeout))
    spy = start_profile(stack, profile, seconds) if profile is not None else None
    phase = Phase(name, rate)
    groups = stack.process_groups()
    cpu0, ru0, t0 = group_cpu(groups), resource.getrusage(resource.RUSAGE_SELF), time.monotonic()
    asyncio.run(open_loop(host, port, make, rate, seconds, conns, phase, check, timeout))
    phase.wall = time.monotonic() - t0
    ru1, cpu1 = resource.getrusage(resource.RUSAGE_SELF), group_cpu(groups)
    phase.generator_cpu = (ru1.ru_utime + ru1.ru_stime) - (ru0.ru_utime + ru0.ru_stime)
    phase.cpu = {k: cpu1.get(k, 0.0) - cpu0.get(k, 0.0) for k in cpu1}
    s = phase.summary()
    if spy is not None and profile is not None:
        spy.wait(timeout=seconds + 30)
        s["profile"] = profile_summary(profile)
        for share, frame in s["profile"]:
            log(f"  profile {share:5.1f}%  {frame[:140]}")
    log(f"{name}: offered {rate:g} rps, achieved {s['achieved_rps']} rps; p50 {s['p50_ms']} ms, "
        f"p99 {s['p99_ms']} ms, max {s['max_ms']} ms; statuses {s['statuses']}, timeouts "
        f"{s['timeouts']}, errors "
        f"{s['errors']} {s['error_kinds']}; generator late p99 {s['send_late_p99_ms']} ms, "
        f"generator CPU {s['generator_cpu_pct']}%; CPU {s['cpu_pct']}")
    return s


# -- closed loop, for max throughput ---------------------------------------------------------

_WRK_RPS = re.compile(r"Requests/sec:\s+([\d.]+)")
_WRK_NON2XX = re.compile(r"Non-2xx or 3xx responses:\s+(\d+)")
_WRK_LAT = re.compile(r"^\s+(50|99)(?:\.000)?%\s+([\d.]+)(us|ms|s)\s*$", re.M)


def postgres_cpu() -> float:
    """CPU seconds so far of every live Postgres process (the server the stack uses shares
    the two cores with it: what a request costs there is part of what limits it)."""
    total = 0
    for pid, _, _, ticks in proc_stats():
        try:
            if Path(f"/proc/{pid}/comm").read_text().strip() == "postgres":
                total += ticks
        except OSError:
            continue
    return total / TICK


def wrk(url: str, token: str | None, conns: int, seconds: float,
        groups: dict[int, str] | None = None, paths: list[str] | None = None) -> dict[str, Any]:
    """Closed-loop max throughput, and the CPU (% of one core) the API processes, Postgres
    and wrk itself used meanwhile. ``paths``: each request the next of these (a Lua
    script), instead of ``url``'s path every time."""
    argv = ["wrk", "-t1", f"-c{conns}", f"-d{seconds:g}s", "--latency"]
    if token:
        argv += ["-H", f"Authorization: Bearer {token}"]
    script = None
    if paths:
        with tempfile.NamedTemporaryFile("w", prefix="moorage-bench-wrk-", suffix=".lua",
                                         delete=False) as f:
            f.write("local paths = {" + ", ".join(json.dumps(p) for p in paths) + "}\n"
                    "local i = 0\n"
                    "request = function()\n"
                    "  i = i % #paths + 1\n"
                    "  return wrk.format(nil, paths[i])\n"
                    "end\n")
        script = Path(f.name)
        argv += ["-s", str(script)]
    groups = groups or {}
    api0, pg0 = group_cpu(groups), postgres_cpu()
    ru0, t0 = resource.getrusage(resource.RUSAGE_CHILDREN), time.monotonic()
    try:
        out = subprocess.run([*argv, url], capture_output=True, text=True,
                             timeout=seconds + 60).stdout
    finally:
        if script is not None:
            script.unlink(missing_ok=True)
    wall = time.monotonic() - t0
    ru1, api1, pg1 = resource.getrusage(resource.RUSAGE_CHILDREN), group_cpu(groups), postgres_cpu()
    cpu = {k: round(100 * (api1.get(k, 0.0) - api0.get(k, 0.0)) / wall, 1) for k in api1}
    cpu["postgres"] = round(100 * (pg1 - pg0) / wall, 1)
    cpu["wrk"] = round(100 * ((ru1.ru_utime + ru1.ru_stime) - (ru0.ru_utime + ru0.ru_stime)) / wall, 1)
    m = _WRK_RPS.search(out)
    lat = {f"p{p}_ms": float(v) * {"us": 1e-3, "ms": 1.0, "s": 1e3}[u]
           for p, v, u in _WRK_LAT.findall(out)}
    non2xx = _WRK_NON2XX.search(out)
    return {"rps": float(m.group(1)) if m else float("nan"),
            "non_2xx": int(non2xx.group(1)) if non2xx else 0, **lat, "cpu": cpu}


# -- the fleet the requests read ---------------------------------------------------------


def spec(i: int, running: int, seq: int | None = None) -> dict[str, Any]:
    env = {"BENCH_INDEX": str(i)}
    if seq is not None:
        env["BENCH_SEQ"] = str(seq)
    return {"image": IMAGE, "replicas": 1 if i < running else 0, "env": env,
            "labels": {"bench": "api"}}


def make_fleet(stack: MoorageStack, n: int, running: int) -> None:
    with stack.client() as c:
        for i in range(n):
            r = c.put(f"/v1/deployments/bench-{i:03d}", json=spec(i, running))
            if r.status_code not in (200, 201):
                raise RuntimeError(f"PUT bench-{i:03d}: {r.status_code} {r.text}")

        def all_available() -> bool:
            items = c.get("/v1/deployments", params={"limit": 500}).json()["items"]
            return all(d["status"]["ready_replicas"] == d["spec"]["replicas"]
                       and (d["current_rollout"] or {}).get("state") not in ("pending", "in_progress")
                       for d in items)

        wait_until(all_available, 180, "the fleet to be available", 0.5)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rate", type=float, default=500, help="GET one (and /healthz) rps")
    parser.add_argument("--list-rate", type=float, default=100)
    parser.add_argument("--put-rate", type=float, default=50)
    parser.add_argument("--seconds", type=float, default=10, help="measured time per phase")
    parser.add_argument("--warmup", type=float, default=2, help="unmeasured time per phase")
    parser.add_argument("--conns", type=int, default=64, help="open-loop connections")
    parser.add_argument("--timeout", type=float, default=10.0,
                        help="a request not answered this long after its due time is a timeout")
    parser.add_argument("--wrk-conns", type=int, default=20)
    parser.add_argument("--wrk-seconds", type=float, default=8)
    parser.add_argument("--deployments", type=int, default=100)
    parser.add_argument("--running", type=int, default=4,
                        help="deployments (of the first) with one replica running")
    parser.add_argument("--setting", action="append", default=[], metavar="KEY=VALUE",
                        help="an extra MOORAGE_* setting for every process")
    parser.add_argument("--json", type=Path, help="also write the figures here")
    parser.add_argument("--keep-engine", action="store_true")
    parser.add_argument("--only", metavar="PHASES", default="",
                        help="comma-separated phases to run (of healthz, get_one, list_100, "
                             "put_noop, put_new; default all); wrk runs regardless")
    parser.add_argument("--profile", type=Path, metavar="DIR",
                        help="py-spy the API during /healthz, the single GET and the list (raw stacks here)")
    args = parser.parse_args(argv)

    engine, started_engine = dockerd.Engine(ENGINE_INDEX), False
    dockerd.require_tools()
    started_engine = not engine.is_up()
    engine.start()
    dockerd.build_test_images(engine)
    workdir = Path(tempfile.mkdtemp(prefix="moorage-bench-api-"))
    settings = dict(s.split("=", 1) for s in args.setting)
    stack = MoorageStack(engine, workdir, settings=settings)
    results: dict[str, Any] = {"cores": os.cpu_count(), "settings": settings,
                               "timeout": args.timeout}
    ok = False
    try:
        results["background_load"] = round(background_load(3), 3)
        log(f"background load: {results['background_load']:.0%} of {os.cpu_count()} cores busy; "
            f"loadavg {load_average()}")
        stack.start()
        log(f"Moorage up at {stack.url} (logs in {workdir}); making {args.deployments} deployments")
        make_fleet(stack, args.deployments, args.running)
        host = f"127.0.0.1:{stack.port}"
        token = stack.token
        one = "bench-000"
        with stack.client() as c:
            noop_body = json.dumps(spec(0, args.running)).encode()
            assert c.put(f"/v1/deployments/{one}", content=noop_body,
                         headers={"Content-Type": "application/json"}).status_code == 200

        def expect(status_ok: int) -> Callable[[int, bytes], str | None]:
            return lambda s, _b: None if s == status_ok else f"status {s}"

        healthz = raw_request("GET", "/healthz", host, None)
        get_one = raw_request("GET", f"/v1/deployments/{one}", host, token)
        get_list = raw_request("GET", "/v1/deployments?limit=100", host, token)
        put_noop = raw_request("PUT", f"/v1/deployments/{one}", host, token, noop_body)
        idle = list(range(args.running, args.deployments))
        seq = int(time.time())
        # One counter over warm-up and measured requests: numbered by the phase's index, the
        # measured ones would repeat the warm-up's bodies and be no-ops.
        fresh = itertools.count()

        def put_new(_i: int) -> bytes:
            n = next(fresh)
            k = idle[n % len(idle)]
            body = json.dumps(spec(k, args.running, seq * 100_000 + n)).encode()
            return raw_request("PUT", f"/v1/deployments/bench-{k:03d}", host, token, body)

        phases = results["phases"] = {}
        common = {"seconds": args.seconds, "conns": args.conns, "warmup": args.warmup,
                  "timeout": args.timeout}
        plan = {
            "healthz": ("GET /healthz", lambda _i: healthz, args.rate),
            "get_one": (f"GET /v1/deployments/{one}", lambda _i: get_one, args.rate),
            "list_100": ("GET /v1/deployments?limit=100", lambda _i: get_list, args.list_rate),
            "put_noop": ("PUT same spec (no-op)", lambda _i: put_noop, args.put_rate),
            "put_new": ("PUT changed spec (new revision)", put_new, args.put_rate),
        }
        only = [p for p in args.only.split(",") if p] or list(plan)
        for key in only:
            name, make, rate = plan[key]
            phases[key] = run_phase(stack, name, make, rate, check=expect(200), **common)
        if shutil.which("wrk"):
            groups = stack.process_groups()
            settle(stack)
            w_h = wrk(f"{stack.url}/healthz", None, args.wrk_conns, args.wrk_seconds, groups)
            settle(stack)
            w_g = wrk(f"{stack.url}/v1/deployments/{one}", token, args.wrk_conns,
                      args.wrk_seconds, groups)
            # The same GET, each request the next of all the deployments: concurrent GETs
            # then share a statement but not a name (app/coalesce.py).
            settle(stack)
            w_m = wrk(stack.url, token, args.wrk_conns, args.wrk_seconds, groups,
                      paths=[f"/v1/deployments/bench-{i:03d}" for i in range(args.deployments)])
            results["wrk"] = {"healthz": w_h, "get_one": w_g, "get_each": w_m,
                              "ratio": round(w_g["rps"] / w_h["rps"], 3) if w_h["rps"] else None,
                              "ratio_each": round(w_m["rps"] / w_h["rps"], 3) if w_h["rps"] else None}
            log(f"wrk max throughput at {args.wrk_conns} conns: /healthz {w_h['rps']:.0f} rps, "
                f"GET one {w_g['rps']:.0f} rps (non-2xx {w_g['non_2xx']}): ratio "
                f"{results['wrk']['ratio']} (target >= 0.5); GET each of {args.deployments} in "
                f"turn {w_m['rps']:.0f} rps (non-2xx {w_m['non_2xx']}): {results['wrk']['ratio_each']}")
        if args.profile:
            # Profiled apart from the measured phases (py-spy takes CPU of its own).
            args.profile.mkdir(parents=True, exist_ok=True)
            results["profiled"] = {
                "healthz": run_phase(
                    stack, "GET /healthz (profiled, not measured)", lambda _i: healthz, args.rate,
                    check=expect(200), profile=args.profile / "healthz.txt", **common),
                "get_one": run_phase(
                    stack, "GET one (profiled, not measured)", lambda _i: get_one, args.rate,
                    check=expect(200), profile=args.profile / "get_one.txt", **common),
                "list_100": run_phase(
                    stack, "GET list of 100 (profiled, not measured)", lambda _i: get_list,
                    args.list_rate, check=expect(200), profile=args.profile / "list_100.txt",
                    **common)}
        ok = True
    finally:
        stack.teardown()
        if ok:
            shutil.rmtree(workdir, ignore_errors=True)
        if started_engine and not args.keep_engine:
            engine.stop()
    print_report(results)
    if args.json:
        args.json.write_text(json.dumps(results, indent=2))
    return 0


def print_report(r: dict[str, Any]) -> None:
    ph = r.get("phases", {})
    print(f"\n== bench.api ({r['cores']} cores, background load {r.get('background_load', 0):.0%}, "
          f"settings {r['settings'] or 'default'}) ==")
    print(f"{'request':34} {'offered':>8} {'achieved':>8} {'p50 ms':>8} {'p99 ms':>8} "
          f"{'max ms':>8} {'errors':>6} {'gen CPU':>7}  target  (a timeout counts as "
          f"{r.get('timeout', 10):g} s)")
    targets = {"get_one": ("p99_ms", 20), "list_100": ("p99_ms", 50),
               "put_noop": ("p99_ms", 50), "put_new": ("p99_ms", 50)}
    for key, s in ph.items():
        target = ""
        if key in targets:
            metric, limit = targets[key]
            value = s[metric]
            target = f"p99 <= {limit} ms: {'met' if value is not None and value <= limit else 'MISSED'}"
        print(f"{s['name']:34} {s['offered_rps']:>8g} {s['achieved_rps']:>8} {s['p50_ms']!s:>8} "
              f"{s['p99_ms']!s:>8} {s['max_ms']!s:>8} {s['errors']:>6} "
              f"{s['generator_cpu_pct']:>6}%  {target}")
    for s in ph.values():
        print(f"  {s['name']}: p99 of the median second {s['p99_median_second_ms']} ms, of the "
              f"worst {s['p99_worst_second_ms']} ms; CPU {s['cpu_pct']} (% of one core)")
    if "wrk" in r:
        w = r["wrk"]
        print(f"max throughput (wrk, closed loop): /healthz {w['healthz']['rps']:.0f} rps, "
              f"GET one {w['get_one']['rps']:.0f} rps -> {w['ratio']}x (target >= 0.5x: "
              f"{'met' if (w['ratio'] or 0) >= 0.5 else 'MISSED'})")
        if "get_each" in w:
            print(f"  GET each deployment in turn (concurrent GETs rarely of one name): "
                  f"{w['get_each']['rps']:.0f} rps -> {w['ratio_each']}x")
        for key in ("healthz", "get_one", "get_each"):
            if key not in w:
                continue
            print(f"  CPU during wrk's {key}: {w[key].get('cpu')} (% of one core)")


if __name__ == "__main__":
    raise SystemExit(main())
