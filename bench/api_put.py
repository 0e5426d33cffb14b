"""The write path alone: `bench.api`'s two PUT phases, on the same stack and fleet.

``python -m bench.api_put`` starts what `bench.api` starts (Postgres, Redis, ``moorage
api`` at its defaults, worker and beat; ``--deployments`` deployments, the first
``--running`` with a replica on engine 101) and offers, open loop, exactly `bench.api`'s
``PUT`` of the same spec (a no-op) and ``PUT`` of a changed env var (a new revision, a
rollout and a reconcile job each, round robin over the 0-replica deployments), at
``--put-rate`` each (target: p99 <= 50 ms at 50 rps). ``--profile DIR`` adds a py-spy
run of the API per phase, after the measured ones. For comparing two versions of the
code quickly: run it with another venv's python (`MoorageStack` starts the ``moorage``
beside ``sys.executable``).
"""

from __future__ import annotations

import argparse
import contextlib
import itertools
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from bench.api import ENGINE_INDEX, TICK, make_fleet, print_report, raw_request, run_phase, spec
from bench.harness import MoorageStack, background_load, log, proc_stats
from tests.support import dockerd


def postgres_cpu() -> float:
    """CPU seconds so far of every Postgres process (the server and its backends, for
    every database: run alone on the machine)."""
    total = 0.0
    for pid, _ppid, _pgrp, ticks in proc_stats():
        try:
            if Path(f"/proc/{pid}/comm").read_text().strip() in ("postgres", "postmaster"):
                total += ticks / TICK
        except OSError:
            continue
    return total


def spy_on(pid: int, out: Path, seconds: float) -> subprocess.Popen | None:
    """py-spy (raw stacks into ``out``) of a process and its children, for ``seconds``."""
    spy = shutil.which("py-spy") or str(Path(sys.executable).parent / "py-spy")
    if not Path(spy).exists():
        return None
    return subprocess.Popen([spy, "record", "--pid", str(pid), "--subprocesses", "--nonblocking",
                             "--rate", "250", "--duration", str(int(seconds)), "--format", "raw",
                             "--output", str(out)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


class ActivitySampler:
    """What this run's database connections are doing, sampled every ``every`` s from
    ``pg_stat_activity`` while a phase runs: how often a connection of the API or worker
    waits for a lock, runs a statement, or sits in an open transaction while the client
    works (``idle in transaction``)."""

    def __init__(self, stack: MoorageStack, every: float = 0.02) -> None:
        self.stack, self.every = stack, every
        self.counts: dict[str, int] = {}
        self.samples = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self) -> ActivitySampler:
        self._thread.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self._stop.set()
        self._thread.join()

    def _run(self) -> None:
        import psycopg

        with psycopg.connect("host=127.0.0.1 user=postgres dbname=postgres",
                             autocommit=True) as conn:
            while not self._stop.wait(self.every):
                rows = conn.execute(
                    "SELECT state, coalesce(wait_event_type, '-'), coalesce(wait_event, '-') "
                    "FROM pg_stat_activity WHERE datname = %s AND pid <> pg_backend_pid()",
                    (self.stack.db_name,)).fetchall()
                self.samples += 1
                for state, wtype, wevent in rows:
                    key = f"{state} {wtype}:{wevent}"
                    self.counts[key] = self.counts.get(key, 0) + 1

    def summary(self) -> dict[str, float]:
        """Average number of connections in each (state, wait) per sample."""
        n = max(1, self.samples)
        return {k: round(v / n, 2) for k, v in sorted(self.counts.items(), key=lambda kv: -kv[1])
                if v / n >= 0.01}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--put-rate", type=float, default=50)
    parser.add_argument("--seconds", type=float, default=8)
    parser.add_argument("--warmup", type=float, default=2)
    parser.add_argument("--conns", type=int, default=64)
    parser.add_argument("--timeout", type=float, default=5.0)
    parser.add_argument("--deployments", type=int, default=100)
    parser.add_argument("--running", type=int, default=4)
    parser.add_argument("--rounds", type=int, default=1, help="both phases this many times")
    parser.add_argument("--json", type=Path)
    parser.add_argument("--keep-engine", action="store_true")
    parser.add_argument("--profile", type=Path, metavar="DIR")
    parser.add_argument("--diagnose", action="store_true",
                        help="after the measured phases: each PUT phase again with Postgres's "
                             "CPU and pg_stat_activity sampled, then with the worker stopped")
    args = parser.parse_args(argv)

    engine = dockerd.Engine(ENGINE_INDEX)
    dockerd.require_tools()
    started_engine = not engine.is_up()
    engine.start()
    dockerd.build_test_images(engine)
    workdir = Path(tempfile.mkdtemp(prefix="moorage-bench-api-put-"))
    stack = MoorageStack(engine, workdir)
    results: dict[str, Any] = {"cores": os.cpu_count(), "settings": {},
                               "timeout": args.timeout, "phases": {}}
    ok = False
    try:
        results["background_load"] = round(background_load(3), 3)
        stack.start()
        make_fleet(stack, args.deployments, args.running)
        host, token, one = f"127.0.0.1:{stack.port}", stack.token, "bench-000"
        noop_body = json.dumps(spec(0, args.running)).encode()
        with stack.client() as c:
            assert c.put(f"/v1/deployments/{one}", content=noop_body,
                         headers={"Content-Type": "application/json"}).status_code == 200
        put_noop = raw_request("PUT", f"/v1/deployments/{one}", host, token, noop_body)
        idle = list(range(args.running, args.deployments))
        # One counter for every PUT made, warm-ups too: each carries an env value never
        # sent before, so each is a new revision (bench.api's, numbered by the request's
        # index in its phase, repeats its warm-up's bodies at the start of the phase).
        sent = itertools.count(int(time.time()) * 100_000)

        def put_new(_i: int) -> bytes:
            n = next(sent)
            k = idle[n % len(idle)]
            body = json.dumps(spec(k, args.running, n)).encode()
            return raw_request("PUT", f"/v1/deployments/bench-{k:03d}", host, token, body)

        def expect_200(s: int, _b: bytes) -> str | None:
            return None if s == 200 else f"status {s}"

        common = {"seconds": args.seconds, "conns": args.conns, "warmup": args.warmup,
                  "timeout": args.timeout, "check": expect_200}
        for r in range(args.rounds):
            sfx = f" #{r + 1}" if args.rounds > 1 else ""
            results["phases"][f"put_noop{sfx}"] = run_phase(
                stack, f"PUT same spec (no-op){sfx}", lambda _i: put_noop, args.put_rate, **common)
            results["phases"][f"put_new{sfx}"] = run_phase(
                stack, f"PUT changed spec (new revision){sfx}", put_new, args.put_rate, **common)
        if args.diagnose:
            results["diagnosed"] = diagnose(stack, put_noop, put_new, args.put_rate, common)
        if args.profile:
            # Not measured (py-spy takes CPU of its own): the API in each phase, and the
            # worker too in the new-revision one (each PUT makes it reconcile).
            args.profile.mkdir(parents=True, exist_ok=True)
            results["profiled"] = {
                "put_noop": run_phase(stack, "PUT no-op (profiled, not measured)",
                                      lambda _i: put_noop, args.put_rate,
                                      profile=args.profile / "put_noop.txt", **common)}
            worker_spy = spy_on(stack.procs["worker"].pid, args.profile / "put_new_worker.txt",
                                args.seconds + args.warmup + 2)
            results["profiled"]["put_new"] = run_phase(
                stack, "PUT new (profiled, not measured)", put_new, args.put_rate,
                profile=args.profile / "put_new.txt", **common)
            if worker_spy is not None:
                worker_spy.wait(timeout=60)
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


def diagnose(stack: MoorageStack, put_noop: bytes, put_new: Callable[[int], bytes], rate: float,
             common: dict[str, Any]) -> dict[str, Any]:
    """Not measured figures: where a phase's time goes. Postgres's CPU over the whole
    phase (its settle and warm-up too, so a little high), what the connections wait for,
    the same phase with the worker's processes at nice 10 (they get the CPU after the
    API and Postgres), and with the worker stopped (SIGSTOP: no reconcile competes for
    CPU, rows or connections; its jobs wait in Redis, one per deployment; a stop in the
    middle of a transaction leaves its row locked, so a few PUTs may wait for it)."""
    out: dict[str, Any] = {}
    worker = stack.procs["worker"].pid
    members = [pid for pid, _ppid, pgrp, _t in proc_stats() if pgrp == worker]
    for label, make in (("put_noop", lambda _i: put_noop), ("put_new", put_new)):
        for how in ("", "worker at nice 10", "worker stopped"):
            paused = how == "worker stopped"
            name = f"{label}{f' ({how})' if how else ''} (diagnosed)"
            if how == "worker at nice 10":  # the worker yields the CPU to the API first
                for pid in members:
                    with contextlib.suppress(OSError):
                        os.setpriority(os.PRIO_PROCESS, pid, 10)
            if paused:
                os.killpg(worker, signal.SIGSTOP)
            try:
                pg0, t0 = postgres_cpu(), time.monotonic()
                with ActivitySampler(stack) as sampler:
                    s = run_phase(stack, name, make, rate, **common)
                s["postgres_cpu_pct_approx"] = round(
                    100 * (postgres_cpu() - pg0) / (time.monotonic() - t0), 1)
                s["pg_activity"] = sampler.summary()
            finally:
                if paused:
                    os.killpg(worker, signal.SIGCONT)
                for pid in members:
                    with contextlib.suppress(OSError):
                        os.setpriority(os.PRIO_PROCESS, pid, 0)
            log(f"  Postgres CPU ~{s['postgres_cpu_pct_approx']}%; connections: {s['pg_activity']}")
            out[name] = s
    return out


if __name__ == "__main__":
    raise SystemExit(main())
