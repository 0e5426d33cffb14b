"""A write storm: busy deployments updated once a second, and a quiet one's rolling update.

    .venv/bin/python -m bench.write_storm [--seconds 60] [--busy 10]

Issue 9, item 5 ("writes starve reconciling"). Targets: under the storm, a quiet
deployment's rollout takes at most 2x its idle time, and the job queue stays bounded
(by the number of deployments plus a few periodic tasks), not growing with the writes.

Everything runs on ONE private engine, ``tests.support.dockerd.Engine(9)`` (no test
suite or other benchmark uses it), with the images ``moorage-test/web:v1`` and ``:v2``
(busybox httpd on 8080, FROM scratch, serving /healthz), against the production topology
(bench.harness.MoorageStack: fresh Postgres database, a Redis queue of its own, api +
worker + beat processes, every setting at its default). One run, three phases:

1. *Idle.* The quiet deployment, 2 replicas of v1 with

       health_check    {"http": {"path": "/healthz", "port": 8080},
                        "interval_s": 1, "timeout_s": 1, "retries": 2}
       update_strategy {"max_surge": 1, "max_unavailable": 0, "min_ready_s": 1}

   (as bench.rollout), is applied and waited for; then ``--updates`` (3) rolling updates,
   the image alternating v2/v1, each timed from t0 just before its PUT to the answer of
   ``GET /v1/rollouts/{id}?wait=`` that says ``succeeded``. Their median is the idle time.
2. *Storm.* ``--busy`` (10) deployments of 1 replica of v1 (no health check, default
   strategy) are applied and waited for. Then one thread per busy deployment sends
   ``PATCH /v1/deployments/{name}`` with ``{"env": {"STORM": "<n>"}}`` once a second
   (each a new revision and a rollout that supersedes the last; a slot missed because
   a PATCH was slow is skipped, not made up in a burst) for the whole phase. After
   ``--warmup`` (10 s) the quiet deployment gets up to ``--updates`` rolling updates, one
   after another, timed as in the idle phase (each given ``--timeout``, 120 s; one that
   has not succeeded by then counts with its time so far, a lower bound, shown as ">").
   No update starts after ``--seconds`` of storm; the phase lasts ``--seconds``, or until
   the update in flight at that point has ended. From just before the busy deployments
   are applied, a sampler reads the length of the stack's Redis queue (LLEN of the
   queue's list and of its priority lists) every 0.5 s; every 2 s it also reads what
   waits there (the messages' task names) and, from the database, how many deployments
   hold a lease and how many carry a job mark (``deployment.job_queued_at``, where the
   schema has it).
3. *Report.* Idle median, storm median and their ratio (target <= 2x); the queue's
   length, max and final, and its growth (least-squares slope over the storm, messages/s);
   writes sent per second, their latency, and every API error (non-2xx or no answer).
   Per quiet update also: PUT -> the rollout's ``started_at`` (the worker picked it up:
   mostly the wait in the queue) and ``started_at`` -> ``finished_at`` (the rollout itself,
   slowed only by the shared engine and CPU); from the worker's Celery log, the reconcile
   jobs it received per second and how many of its tasks ran 40 s or more (the
   reconcile budget is 45 s); and the queue's composition over the storm.

The stack's processes run the code installed in the venv of the python that runs this
(bench.harness.VENV_BIN), so ``/work/main/.venv/bin/python -m bench.write_storm`` measures
main's code with this script (the harness starts them in their work directory, so the
``python -m celery`` behind ``moorage worker`` and ``beat`` cannot import this checkout's
``app`` and ``workers`` from the current directory instead). The report says which code that was (where ``app`` resolves
for that venv) and whether its schema has ``deployment.job_queued_at`` (the coalescing fix).

Everything this benchmark makes (containers, processes, database, queue, and the engine
if it started it) is removed in ``finally``. It talks to 127.0.0.1 (Postgres, Redis, the
API), the engine's socket and the containers on the engine's own bridge; nothing else.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections import Counter
from contextlib import suppress
from pathlib import Path
from typing import Any

import docker
import httpx
import redis

from bench.harness import (
    REDIS_URL,
    STALE_READS,
    VENV_BIN,
    MoorageStack,
    background_load,
    events_since,
    load_average,
    log,
    log_offset,
    med,
    parse_api_time,
    prepare_engine,
    registry_attempts,
    remove_bridge,
    remove_labelled,
    wait_rollout,
    worker_tasks,
)
from tests.support import dockerd

ENGINE_INDEX = 9
V1, V2 = dockerd.WEB_V1, dockerd.WEB_V2
CHECK = {"http": {"path": "/healthz", "port": 8080}, "interval_s": 1, "timeout_s": 1, "retries": 2}
STRATEGY = {"max_surge": 1, "max_unavailable": 0, "min_ready_s": 1.0}
QUIET_REPLICAS = 2
SAMPLE_S = 0.5
COMPOSITION_EVERY = 4  # samples (every 2 s)
WRITE_PERIOD_S = 1.0
WRITE_TIMEOUT_S = 10.0
SETUP_TIMEOUT_S = 180.0
# kombu's Redis transport keeps priorities 3, 6 and 9 in lists of their own.
PRIORITY_SEP = "\x06\x16"


def quiet_spec(image: str) -> dict[str, Any]:
    return {"image": image, "replicas": QUIET_REPLICAS, "health_check": CHECK, "update_strategy": STRATEGY}


def busy_spec() -> dict[str, Any]:
    return {"image": V1, "replicas": 1, "env": {"STORM": "0"}}


# -- the code under test ---------------------------------------------------------------------


def code_under_test(stack: MoorageStack) -> dict[str, Any]:
    """Where the stack's interpreter finds `app` (from the directory its processes run
    in), that checkout's commit, and whether the schema has the coalescing column."""
    probe = subprocess.run(
        [str(VENV_BIN / "python"), "-c", "import app, pathlib; print(pathlib.Path(app.__file__).parents[1])"],
        cwd=stack.workdir, capture_output=True, text=True, timeout=30)
    root = probe.stdout.strip()
    head = subprocess.run(["git", "-C", root, "log", "-1", "--format=%h %s"], capture_output=True, text=True)
    dirty = subprocess.run(["git", "-C", root, "status", "--porcelain", "--untracked-files=no", "app",
                            "workers", "migrations"], capture_output=True, text=True)
    import sqlalchemy as sa

    eng = sa.create_engine(stack.database_url)
    try:
        with eng.connect() as conn:
            coalescing = conn.execute(sa.text(
                "SELECT count(*) FROM information_schema.columns "
                "WHERE table_name = 'deployment' AND column_name = 'job_queued_at'")).scalar() == 1
    finally:
        eng.dispose()
    return {"root": root, "commit": head.stdout.strip()[:90], "dirty": bool(dirty.stdout.strip()),
            "coalescing": coalescing, "venv": str(VENV_BIN.parent)}


# -- the load --------------------------------------------------------------------------------


class Writer(threading.Thread):
    """PATCHes one deployment's env once a second until stopped."""

    def __init__(self, stack: MoorageStack, name: str, stop: threading.Event) -> None:
        super().__init__(daemon=True, name=f"writer-{name}")
        self.stack, self.name_, self.stop_event = stack, name, stop
        self.sent = 0
        self.ok = 0
        self.skipped = 0
        self.errors: Counter[str] = Counter()
        self.first_error: str | None = None
        self.latencies: list[float] = []

    def run(self) -> None:
        with self.stack.client() as c:
            c.timeout = httpx.Timeout(WRITE_TIMEOUT_S)
            next_at = time.monotonic()
            while not self.stop_event.is_set():
                self.sent += 1
                t = time.monotonic()
                try:
                    r = c.patch(f"/v1/deployments/{self.name_}", json={"env": {"STORM": str(self.sent)}})
                    self.latencies.append(time.monotonic() - t)
                    if r.status_code == 200:
                        self.ok += 1
                    else:
                        self._error(str(r.status_code), r.text)
                except httpx.HTTPError as exc:
                    self._error(type(exc).__name__, str(exc))
                next_at += WRITE_PERIOD_S
                now = time.monotonic()
                while next_at < now:  # a slow answer: skip the missed slots, no burst
                    next_at += WRITE_PERIOD_S
                    self.skipped += 1
                self.stop_event.wait(next_at - now)

    def _error(self, kind: str, text: str) -> None:
        self.errors[kind] += 1
        if self.first_error is None:
            self.first_error = f"{kind}: {text[:300]}"


class QueueSampler(threading.Thread):
    """Every SAMPLE_S: (seconds since start, messages waiting in the stack's queue). Every
    COMPOSITION_EVERY-th sample also what they are (by task name) and, from the database,
    how many deployments hold a lease and (where the schema has it) a job mark."""

    def __init__(self, stack: MoorageStack, marks: bool) -> None:
        super().__init__(daemon=True, name="queue-sampler")
        self.stack, self.marks = stack, marks
        self.keys = [stack.queue] + [f"{stack.queue}{PRIORITY_SEP}{p}" for p in (3, 6, 9)]
        self.samples: list[tuple[float, int]] = []
        self.compositions: list[dict[str, Any]] = []
        self.errors = 0
        self._stop_event = threading.Event()
        self.t0 = time.monotonic()

    def run(self) -> None:
        import sqlalchemy as sa

        client = redis.Redis.from_url(REDIS_URL)
        db = sa.create_engine(self.stack.database_url, pool_size=1)
        marked = "count(*) FILTER (WHERE job_queued_at IS NOT NULL)" if self.marks else "NULL"
        query = sa.text(f"SELECT count(*) FILTER (WHERE lease_owner IS NOT NULL), {marked} FROM deployment")
        try:
            next_at, n = self.t0, 0
            while not self._stop_event.is_set():
                try:
                    pipe = client.pipeline(transaction=False)
                    for key in self.keys:
                        pipe.llen(key)
                    now = time.monotonic() - self.t0
                    self.samples.append((now, sum(pipe.execute())))
                    if n % COMPOSITION_EVERY == 0:
                        self.compositions.append(self._composition(client, db, query, now))
                except (redis.RedisError, sa.exc.SQLAlchemyError):
                    self.errors += 1
                n += 1
                next_at += SAMPLE_S
                self._stop_event.wait(max(0.0, next_at - time.monotonic()))
        finally:
            client.close()
            db.dispose()

    def _composition(self, client: redis.Redis, db: Any, query: Any, now: float) -> dict[str, Any]:
        tasks: Counter[str] = Counter()
        for key in self.keys:
            for raw in client.lrange(key, 0, -1):
                try:
                    tasks[json.loads(raw)["headers"]["task"]] += 1
                except (ValueError, KeyError, TypeError):
                    tasks["?"] += 1
        with db.connect() as conn:
            leased, marked = conn.execute(query).one()
        return {"t": now, "tasks": dict(tasks), "leased": leased, "marked": marked}

    def stop(self) -> None:
        self._stop_event.set()
        self.join(timeout=5)


# -- the quiet deployment --------------------------------------------------------------------


def apply_and_wait(c: httpx.Client, name: str, spec: dict[str, Any], deadline: float) -> None:
    r = c.put(f"/v1/deployments/{name}", json=spec)
    if r.status_code not in (200, 201):
        raise RuntimeError(f"PUT {name}: {r.status_code} {r.text}")
    rollout = wait_rollout(c, r.json()["current_rollout"]["id"], deadline, wait=10)
    if rollout["state"] != "succeeded":
        raise RuntimeError(f"{name}: first rollout {rollout['state']}: {rollout['message']}")


def quiet_update(stack: MoorageStack, c: httpx.Client, name: str, image: str,
                 timeout: float) -> dict[str, Any]:
    """One rolling update of the quiet deployment to `image`, timed from its PUT."""
    t0, t0_wall = time.monotonic(), time.time()
    r = c.put(f"/v1/deployments/{name}", json=quiet_spec(image))
    put_s = time.monotonic() - t0
    out: dict[str, Any] = {"image": image, "put_s": put_s, "status": r.status_code}
    if r.status_code not in (200, 201):
        out |= {"state": "put-failed", "message": r.text[:300]}
        return out
    rollout_id = r.json()["current_rollout"]["id"]
    try:
        rollout = wait_rollout(c, rollout_id, t0 + timeout, wait=min(10.0, timeout))
    except TimeoutError:
        rr = c.get(f"/v1/rollouts/{rollout_id}")
        rollout = rr.json() if rr.status_code == 200 else {"state": f"unknown ({rr.status_code})"}
        out |= {"state": f"timeout ({rollout.get('state')})", "elapsed": time.monotonic() - t0}
    else:
        out |= {"state": rollout["state"], "done": time.monotonic() - t0}
    if rollout.get("started_at"):
        out["started"] = parse_api_time(rollout["started_at"]) - t0_wall
    if rollout.get("finished_at"):
        out["finished"] = parse_api_time(rollout["finished_at"]) - t0_wall
    out["message"] = (rollout.get("message") or "")[:200]
    events = events_since(stack, name, t0_wall)
    created = [e["t"] for e in events if e["reason"] == "ReplicaCreated"]
    if created:
        out["first_create"] = created[0]
    out["warnings"] = [(round(e["t"], 2), e["reason"], e["message"][:160]) for e in events
                       if e["type"] == "warning"][:5]
    return out


def describe(phase: str, i: int, r: dict[str, Any]) -> str:
    def f(key: str) -> str:
        return f"{r[key]:.2f}s" if isinstance(r.get(key), float) else "-"

    line = (f"{phase} update {i} (-> {r['image'].rsplit(':', 1)[-1]}): {r['state']}, done {f('done')}"
            f" (PUT answered {f('put_s')}, rollout started {f('started')}, first create "
            f"{f('first_create')}, finished {f('finished')})")
    if "elapsed" in r:
        line += f"; gave up after {r['elapsed']:.1f}s"
    for w in r.get("warnings", []):
        line += f"\n    warning: {w}"
    return line


# -- the report ------------------------------------------------------------------------------


def done_times(runs: list[dict[str, Any]]) -> list[float]:
    return [r["done"] for r in runs if r.get("state") == "succeeded"]


def slope(samples: list[tuple[float, int]]) -> float:
    if len(samples) < 2:
        return float("nan")
    xs, ys = [s[0] for s in samples], [float(s[1]) for s in samples]
    return statistics.linear_regression(xs, ys).slope


def fmt(v: float | None, unit: str = "s") -> str:
    return "-" if v is None or v != v else f"{v:.2f}{unit}"


def storm_time(runs: list[dict[str, Any]]) -> str:
    """The storm median; a rollout that never finished counts as its time so far (a lower
    bound), and then the figure is one too."""
    times = [r["done"] if r.get("state") == "succeeded" else r.get("elapsed", float("nan")) for r in runs]
    if not times:
        return "-"
    bound = any(r.get("state") != "succeeded" for r in runs)
    return (">" if bound else "") + fmt(med(times))


def report(res: dict[str, Any], busy: int) -> str:
    idle, storm = res["idle"], res["storm"]
    idle_med = med(done_times(idle))
    unfinished = [r for r in storm if r.get("state") != "succeeded"]
    storm_all = [r["done"] if r.get("state") == "succeeded" else r.get("elapsed", float("nan")) for r in storm]
    ratio = med(storm_all) / idle_med if storm_all and idle_med > 0 else float("nan")
    q = res["queue"]
    lengths = [n for _, n in q["samples"]]
    w = res["writes"]
    bound = busy + 1
    lower = ">" if unfinished else ""
    rows = [
        "| figure | value | target |",
        "|---|---|---|",
        f"| quiet rollout, idle (median of {len(done_times(idle))}) | {fmt(idle_med)} | |",
        f"| quiet rollout, storm (median of {len(storm)}"
        + (f"; {len(unfinished)} not finished in {res['args']['timeout']:.0f}s" if unfinished else "")
        + f") | {storm_time(storm)} | |",
        f"| storm / idle | **{lower}{fmt(ratio, '×')}** | ≤ 2× |",
        f"| queue length, max / final | **{max(lengths, default=0)} / {lengths[-1] if lengths else 0}** "
        f"| ≤ {bound} + a few periodic tasks |",
        f"| queue growth (least squares over the storm) | {fmt(q['slope'], ' msg/s')} | ≈ 0 |",
        f"| writes sent | {w['sent']} in {w['seconds']:.1f}s = {w['sent'] / w['seconds']:.2f}/s "
        f"(skipped slots {w['skipped']}) | {busy}/s |",
        f"| PATCH latency median / p95 / max | {fmt(w['latency_median'])} / {fmt(w['latency_p95'])} "
        f"/ {fmt(w['latency_max'])} | |",
        f"| API errors | {w['errors_total']} {dict(w['errors']) or ''} | 0 |",
    ]
    lines = rows + ["", "Quiet updates (seconds from the PUT):", "",
                    "| phase | # | state | done | PUT answered | rollout started (picked up) "
                    "| first create | finished |", "|---|---|---|---|---|---|---|---|"]
    for phase, runs in (("idle", idle), ("storm", storm)):
        for i, r in enumerate(runs, 1):
            done = fmt(r.get("done")) if "done" in r else f">{fmt(r.get('elapsed'))}"
            lines.append(
                f"| {phase} | {i} | {r['state']} | {done} | {fmt(r.get('put_s'))} | "
                f"{fmt(r.get('started'))} | {fmt(r.get('first_create'))} | {fmt(r.get('finished'))} |")
    lines += ["", f"Applying the {busy} busy deployments (before the storm) took {res['setup_busy_s']:.1f}s.",
              f"Queue samples every {SAMPLE_S}s ({len(lengths)}), length every 10 s: "
              + " ".join(str(n) for n in lengths[::20]),
              f"Reconcile jobs the worker received: idle {res['jobs']['idle_per_s']:.2f}/s, "
              f"storm {res['jobs']['storm_per_s']:.2f}/s; reconcile tasks that ran "
              f">= 40 s during the storm: {res['jobs']['storm_long']}"]
    comp = q["compositions"]
    if comp:
        lines += ["", "What waited in the queue (seconds from the storm's start; leases / job marks "
                  "from the database):", ""]
        step = max(1, len(comp) // 12)
        for cpt in comp[::step] + ([comp[-1]] if (len(comp) - 1) % step else []):
            tasks = ", ".join(f"{k.split('.')[-1]} {v}" for k, v in sorted(cpt["tasks"].items())) or "empty"
            marked = "-" if cpt["marked"] is None else cpt["marked"]
            lines.append(f"- {cpt['t']:6.1f}s: {tasks}; leases {cpt['leased']}, marks {marked}")
    if w["first_errors"]:
        lines.append("First API errors: " + "; ".join(w["first_errors"][:3]))
    return "\n".join(lines)


# -- the run ---------------------------------------------------------------------------------


def storm_phase(stack: MoorageStack, c: httpx.Client, quiet: str, busy_names: list[str],
                args: argparse.Namespace, next_image: list[str], res: dict[str, Any],
                sampler: QueueSampler, writers: list[Writer], stop: threading.Event) -> None:
    for name in busy_names:
        w = Writer(stack, name, stop)
        writers.append(w)
        w.start()
    t0, t0_wall = time.monotonic(), time.time()
    offset = t0 - sampler.t0
    log(f"storm: {len(writers)} writers, 1 PATCH/s each; quiet updates from {args.warmup:.0f}s")
    stop.wait(args.warmup)
    i = 0
    while i < args.updates and time.monotonic() - t0 < args.seconds:
        i += 1
        image = next_image.pop(0)
        r = quiet_update(stack, c, quiet, image, args.timeout)
        r["at"] = time.monotonic() - t0
        res["storm"].append(r)
        log(describe("storm", i, r) + f"; queue {sampler.samples[-1][1] if sampler.samples else '?'}; "
            f"load {load_average()}")
        next_image.append(image)
    if (left := args.seconds - (time.monotonic() - t0)) > 0:
        log(f"storm: {left:.0f}s more of writes")
        stop.wait(left)
    stop.set()
    seconds = time.monotonic() - t0
    end_wall = time.time()
    for w in writers:
        w.join(timeout=WRITE_TIMEOUT_S + 5)
    sampler.stop()
    in_storm = [(t - offset, n) for t, n in sampler.samples if offset <= t <= offset + seconds]
    res["queue"] = {
        "samples": in_storm, "slope": slope(in_storm), "errors": sampler.errors,
        "compositions": [cpt | {"t": cpt["t"] - offset} for cpt in sampler.compositions
                         if offset <= cpt["t"] <= offset + seconds],
        "before_storm": [cpt for cpt in sampler.compositions if cpt["t"] < offset],
    }
    latencies = sorted(x for w in writers for x in w.latencies)
    errors: Counter[str] = Counter()
    for w in writers:
        errors.update(w.errors)
    res["writes"] = {
        "sent": sum(w.sent for w in writers), "ok": sum(w.ok for w in writers),
        "skipped": sum(w.skipped for w in writers), "seconds": seconds,
        "errors": errors, "errors_total": sum(errors.values()),
        "first_errors": [w.first_error for w in writers if w.first_error],
        "latency_median": med(latencies),
        "latency_p95": latencies[int(0.95 * (len(latencies) - 1))] if latencies else float("nan"),
        "latency_max": latencies[-1] if latencies else float("nan"),
    }
    res["_storm_window"] = (t0_wall, end_wall)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=60.0,
                        help="length of the storm (the quiet update in flight at its end is waited for)")
    parser.add_argument("--busy", type=int, default=10, help="deployments updated once a second")
    parser.add_argument("--updates", type=int, default=3, help="timed quiet updates per phase")
    parser.add_argument("--warmup", type=float, default=10.0, help="seconds of storm before the first quiet update")
    parser.add_argument("--timeout", type=float, default=120.0, help="per quiet update")
    parser.add_argument("--json", type=Path, help="also write the raw figures here")
    parser.add_argument("--keep-engine", action="store_true")
    parser.add_argument("--keep-logs", action="store_true")
    args = parser.parse_args(argv)

    engine, started_engine = prepare_engine(ENGINE_INDEX)
    offset = log_offset(engine)
    dockerd.build_test_images(engine)
    api = docker.APIClient(base_url=engine.url, version="auto", timeout=60)
    workdir = Path(tempfile.mkdtemp(prefix="moorage-bench-storm-"))
    stack = MoorageStack(engine, workdir)
    tag = uuid.uuid4().hex[:4]
    quiet = f"quiet-{tag}"
    busy_names = [f"busy-{tag}-{i}" for i in range(args.busy)]
    res: dict[str, Any] = {"idle": [], "storm": [], "load": [], "args": vars(args) | {"json": None}}
    writers: list[Writer] = []
    sampler: QueueSampler | None = None
    stop = threading.Event()
    ok = False
    try:
        busy_cpu = background_load()
        res["load"].append(("start", load_average(), busy_cpu))
        log(f"engine {engine.url}; logs in {workdir}; load average {load_average()}, "
            f"{busy_cpu:.0%} of {os.cpu_count()} cores busy")
        stack.start()
        res["code"] = code_under_test(stack)
        log(f"Moorage up: api {stack.url}, db {stack.db_name}, queue {stack.queue}; code {res['code']}")
        with stack.client() as c:
            apply_and_wait(c, quiet, quiet_spec(V1), time.monotonic() + SETUP_TIMEOUT_S)
            time.sleep(1.0)  # let the replicas settle into their steady probing
            idle_wall = time.time()
            images = [V2, V1] * args.updates  # alternate, continuing across the phases
            for i in range(1, args.updates + 1):
                image = images.pop(0)
                r = quiet_update(stack, c, quiet, image, args.timeout)
                res["idle"].append(r)
                log(describe("idle", i, r) + f"; load {load_average()}")
                images.append(image)
            idle_end = time.time()
            sampler = QueueSampler(stack, marks=res["code"]["coalescing"])
            sampler.start()
            log(f"applying {args.busy} busy deployments")
            t_busy = time.monotonic()
            rollouts = []
            for name in busy_names:
                r = c.put(f"/v1/deployments/{name}", json=busy_spec())
                if r.status_code != 201:
                    raise RuntimeError(f"PUT {name}: {r.status_code} {r.text}")
                rollouts.append(r.json()["current_rollout"]["id"])
            for rid in rollouts:
                rollout = wait_rollout(c, rid, t_busy + SETUP_TIMEOUT_S, wait=10)
                if rollout["state"] != "succeeded":
                    raise RuntimeError(f"a busy deployment's first rollout {rollout['state']}")
            res["setup_busy_s"] = time.monotonic() - t_busy
            log(f"{args.busy} busy deployments running after {res['setup_busy_s']:.1f}s")
            time.sleep(1.0)
            storm_phase(stack, c, quiet, busy_names, args, images, res, sampler, writers, stop)
        time.sleep(0.3)  # let the worker log its last tasks
        logfile = workdir / "worker.log"
        s0, s1 = res.pop("_storm_window")
        storm_tasks = worker_tasks(logfile, s0, s1)
        res["jobs"] = {
            "idle_per_s": len(worker_tasks(logfile, idle_wall, idle_end)) / max(0.1, idle_end - idle_wall),
            "storm_per_s": len(storm_tasks) / max(0.1, s1 - s0),
            "storm_long": sum(1 for t in storm_tasks if t.get("ran_s", 0) >= 40),
            "storm_ran_s": sorted(round(t["ran_s"], 1) for t in storm_tasks if "ran_s" in t),
        }
        res["load"].append(("end", load_average(), None))
        ok = True
    finally:
        stop.set()
        for w in writers:
            w.join(timeout=WRITE_TIMEOUT_S + 5)
        if sampler is not None:
            sampler.stop()
        stack.teardown()
        with suppress(Exception):
            remove_labelled(api, dockerd.MANAGED_LABEL)
        api.close()
        if started_engine and not args.keep_engine:
            engine.stop()
            remove_bridge(engine.bridge)
        if ok and not args.keep_logs:
            shutil.rmtree(workdir, ignore_errors=True)
        else:
            log(f"Moorage logs kept in {workdir}")
    if attempts := registry_attempts(engine, offset):
        log(f"WARNING: the engine reached for a registry {len(attempts)} times: {attempts[0][:300]}")
    if STALE_READS["rollout_404"]:
        log(f"note: {STALE_READS['rollout_404']} times a rollout id just returned by a PUT was 404 "
            "when asked for at once (retried)")
    if args.json:
        args.json.write_text(json.dumps(res, indent=1, default=str))
    code = res["code"]
    print()
    print(f"{os.cpu_count()} cores; code {code['commit']} at {code['root']}"
          f"{' (uncommitted changes)' if code['dirty'] else ''}, coalescing "
          f"{'present' if code['coalescing'] else 'ABSENT'}; {args.busy} busy deployments; load average "
          f"{res['load'][0][1]} at the start, {res['load'][-1][1]} at the end; "
          f"{res['load'][0][2]:.0%} busy before the run.")
    print(report(res, args.busy))
    return 0


if __name__ == "__main__":
    sys.exit(main())
