"""A health-gated rolling update of N replicas, v1 -> v2: Moorage vs. Swarm vs. the floor.

    .venv/bin/python -m bench.rollout [--runs 3] [--replicas 10] [--trace]

Everything runs on ONE private engine, ``tests.support.dockerd.Engine(8)`` (no test
suite uses it), with the images ``moorage-test/web:v1`` and ``:v2`` (busybox httpd on
8080, FROM scratch, serving /healthz).

* Moorage   the production topology (bench.harness.MoorageStack: fresh Postgres
            database, Redis queue, api + worker + beat processes, settings at their
            defaults). A deployment of N replicas of v1 with

                health_check    {"http": {"path": "/healthz", "port": 8080},
                                 "interval_s": 1, "timeout_s": 1, "retries": 2}
                update_strategy {"max_surge": 1, "max_unavailable": 0, "min_ready_s": 1}

            is applied and waited for; then t0 is taken just before the PUT that changes
            the image to v2. Two figures: (a) *all v2 running*: the first poll of the
            engine (every 20 ms) that lists N running containers of the deployment, all
            of image v2 and none of anything else; (b) *succeeded*: when
            ``GET /v1/rollouts/{id}?wait=30`` answered ``succeeded``.
* Swarm     ``docker swarm init`` on loopback (its own listen port and its own
            docker_gwbridge, so it cannot collide with another engine's swarm), then
            ``docker service create --no-resolve-image --replicas N`` with
            ``--health-cmd 'wget -q -O- http://127.0.0.1:8080/healthz' --health-interval 1s
            --health-timeout 1s --health-retries 2`` of v1, waited until N healthy tasks
            run; then t0 just before ``docker service update --detach --no-resolve-image
            --image v2 --update-parallelism 1 --update-order start-first --update-monitor
            1s --update-delay 0s``. Two figures: (a) all v2 running, the same poller as
            above; (b) *completed*: the first ``inspect_service`` (Docker SDK, every 50 ms;
            the same as ``docker service inspect --format '{{.UpdateStatus.State}}'``
            without a CLI process per poll) that shows ``completed``. The engine runs with
            DOCKER_SERVICE_PREFER_OFFLINE_IMAGE=1 and its log is checked for registry
            access afterwards.
* floor     what the strategy allows at best: one new replica at a time, each ready only
            once it has answered its first 200 and then stayed up for min_ready_s. Measured
            directly: create + start one v2 container through the SDK and poll its
            /healthz on its bridge address every 10 ms; floor = N x (create-to-first-200 +
            min_ready_s). (Removing an old replica overlaps the next start, so it costs
            nothing here.)

What each counts as ready, at these settings: Moorage probes a new replica from outside
(HTTP to its bridge address) at once and every 0.25 s until it first passes, then every
interval_s; it is ready once healthy *and* up for min_ready_s (1 s, the same as the
readiness settle window MOORAGE_READY_SETTLE_S, 1.0 s by default, which is a floor under
min_ready_s), counted from the engine's StartedAt; the old replica is then stopped and
removed, and only then is the next surge container made (every container there is,
stopping ones included, counts against max_surge). Swarm counts a task running once
Docker's own health check has passed: Docker runs the first check one
--health-interval (1 s) after the start (this dockerd, 20.10, has no start interval),
inside the container (wget); it stops the old task as it starts the next one (the
engine shows up to replicas + 2), and ``completed`` comes after the last task's
--update-monitor (1 s). So both gate each step on about 1 s after the new container
started; the engine's events (create, start, health_status, kill, die, destroy) give
each step's parts for both, and ``--trace`` runs Moorage's worker under bench.trace
(timestamps per pass, phase, probe and engine action; the worker is otherwise the one
installed in the venv under test) to say where Moorage's part of a step goes.

The runs go in rounds, one run of each approach per round (round 0 an untimed warm-up),
so that all share the machine's load as it drifts; swarm mode is switched on (``swarm
init``) only around each Swarm run and off again (``swarm leave``) after it, so it never
sits under the others. ``--whatif`` adds a third approach: Moorage whose worker reuses one
HTTP client for its probes (bench.whatif), to measure what building one per probe costs.
Everything this benchmark makes (containers,
processes, database, queue, swarm, its gateway bridge, and the engine if it started it)
is removed in ``finally``. It talks to 127.0.0.1 (Postgres, Redis, the API), the engine's
socket and the containers on the engine's own bridge; nothing else.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import sys
import tempfile
import threading
import time
import uuid
from contextlib import suppress
from pathlib import Path
from typing import Any

import docker
import httpx

from bench.harness import (
    STALE_READS,
    MoorageStack,
    Swarm,
    background_load,
    docker_ts,
    events_since,
    free_port,
    load_average,
    log,
    log_offset,
    med,
    parse_api_time,
    prepare_engine,
    registry_attempts,
    remove_bridge,
    remove_labelled,
    wait_gone,
    wait_rollout,
    wait_until,
    worker_tasks,
)
from tests.support import dockerd

ENGINE_INDEX = 8
V1, V2 = dockerd.WEB_V1, dockerd.WEB_V2
CHECK = {"http": {"path": "/healthz", "port": 8080}, "interval_s": 1, "timeout_s": 1, "retries": 2}
MIN_READY_S = 1.0
STRATEGY = {"max_surge": 1, "max_unavailable": 0, "min_ready_s": MIN_READY_S}
SWARM_HEALTH = ["--health-cmd", "wget -q -O- http://127.0.0.1:8080/healthz",
                "--health-interval", "1s", "--health-timeout", "1s", "--health-retries", "2"]
SWARM_UPDATE = ["--update-parallelism", "1", "--update-order", "start-first",
                "--update-monitor", "1s", "--update-delay", "0s"]
SWARM_LABEL = "com.docker.swarm.service.name"
BENCH_LABEL = "moorage.bench"
GWBRIDGE = ("docker_gwbr8", "10.214.8.0/24")  # our own docker_gwbridge for engine 8's swarm
POLL_S = 0.02
RUN_TIMEOUT_S = 300.0


class VersionWatcher(threading.Thread):
    """Polls the engine for the running containers carrying ``label``; records the first
    poll (its issue time) that saw exactly n running, all of image ``image_id``."""

    def __init__(self, api: docker.APIClient, label: str, n: int, image_id: str) -> None:
        super().__init__(daemon=True, name="watcher")
        self.api, self.label, self.n, self.image_id = api, label, n, image_id
        self.done_at: float | None = None
        self.max_running = 0
        self.error: BaseException | None = None
        self._stop_event = threading.Event()

    def run(self) -> None:
        deadline = time.monotonic() + RUN_TIMEOUT_S
        try:
            while not self._stop_event.is_set() and time.monotonic() < deadline:
                issued = time.monotonic()
                running = self.api.containers(filters={"label": self.label, "status": "running"})
                self.max_running = max(self.max_running, len(running))
                if len(running) == self.n and all(c["ImageID"] == self.image_id for c in running):
                    self.done_at = issued
                    return
                time.sleep(POLL_S)
        except BaseException as exc:  # reported by result()
            self.error = exc

    def result(self, timeout: float = RUN_TIMEOUT_S) -> float:
        self.join(timeout)
        if self.error is not None:
            raise self.error
        if self.done_at is None:
            raise TimeoutError(f"{self.label}: never saw {self.n} running v2 containers")
        return self.done_at

    def stop(self) -> None:
        self._stop_event.set()


def image_id(api: docker.APIClient, ref: str) -> str:
    return api.inspect_image(ref)["Id"]


def steps(api: docker.APIClient, label: str, image: str, t0_wall: float) -> list[dict[str, float]]:
    """The new containers' Created/StartedAt (engine clock), from t0, in creation order.
    Only containers that still exist: run this before anything is removed."""
    out = []
    for c in api.containers(all=True, filters={"label": label}):
        if c["ImageID"] != image:
            continue
        with suppress(docker.errors.NotFound):
            d = api.inspect_container(c["Id"])
            created = docker_ts(d.get("Created", ""))
            started = docker_ts(d.get("State", {}).get("StartedAt", ""))
            out.append({"created": created - t0_wall,
                        "started": started - t0_wall if started else float("nan")})
    return sorted(out, key=lambda s: s["created"])


def step_gaps(st: list[dict[str, float]]) -> dict[str, float]:
    """Medians per step: create->start on the engine, start->next create (waiting for
    health, min_ready_s and the orchestrator), and create->next create (one whole step)."""
    if len(st) < 2:
        return {}
    return {
        "create_to_start": med([s["started"] - s["created"] for s in st]),
        "start_to_next_create": med([b["created"] - a["started"] for a, b in zip(st, st[1:], strict=False)]),
        "step": med([b["created"] - a["created"] for a, b in zip(st, st[1:], strict=False)]),
        "first_create": st[0]["created"],
        "last_start": st[-1]["started"],
    }


def engine_events(api: docker.APIClient, label: str, t0_wall: float,
                  end_wall: float) -> list[dict[str, Any]]:
    """The engine's own container events for ``label`` between t0 and the end (create,
    start, health_status, kill, die, destroy), each with ``t`` in seconds from t0."""
    out = []
    for e in api.events(since=int(t0_wall) - 1, until=int(end_wall) + 2, decode=True,
                        filters={"type": "container", "label": label}):
        t = e.get("timeNano", 0) / 1e9 - t0_wall
        if t < 0:
            continue
        attrs = (e.get("Actor") or {}).get("Attributes") or {}
        out.append({"t": t, "action": e.get("Action", e.get("status", "")),
                    "id": e.get("id") or (e.get("Actor") or {}).get("ID", ""),
                    "image": attrs.get("image", "")})
    return sorted(out, key=lambda x: x["t"])


def event_steps(events: list[dict[str, Any]], new_image: set[str],
                healthy: dict[str, float] | None = None) -> list[dict[str, float]]:
    """Step by step, from the engine's events: the i-th new container's create, start
    and healthy (Docker's health_status event, or ``healthy``: the orchestrator's own
    first passing probe by container id), and the i-th old container's kill (its stop
    begins), die and destroy."""
    first: dict[tuple[str, str], float] = {}
    for e in events:
        first.setdefault((e["id"], e["action"].split(":")[0].strip()), e["t"])
        if e["action"] == "health_status: healthy":
            first.setdefault((e["id"], "healthy"), e["t"])
    new = [e["id"] for e in events if e["action"] == "create" and e["image"] in new_image]
    kills = [(e["t"], e["id"]) for e in events if e["action"] == "kill"
             and e["image"] not in new_image]
    used: set[str] = set()
    steps = []
    for cid in new:
        st = {"create": first.get((cid, "create"), float("nan")),
              "start": first.get((cid, "start"), float("nan"))}
        st["healthy"] = (healthy or {}).get(cid, first.get((cid, "healthy"), float("nan")))
        # The old one this step replaces: the first old container stopped after it started.
        old = next((k for t, k in kills if k not in used and t >= st["start"]), None)
        if old is not None:
            used.add(old)
            for action in ("kill", "die", "destroy"):
                st[f"old_{action}"] = first.get((old, action), float("nan"))
        steps.append(st)
    return steps


def event_profile(kind: str, runs: list[dict[str, Any]], settle: float | None) -> str:
    """Medians over runs and steps of the gaps between the engine's events."""
    def gaps(st: list[dict[str, float]]) -> dict[str, list[float]]:
        g: dict[str, list[float]] = {k: [] for k in (
            "create_start", "start_healthy", "healthy_kill", "start_kill", "kill_die",
            "die_next_create", "step")}
        for i, s in enumerate(st):
            g["create_start"].append(s["start"] - s["create"])
            g["start_healthy"].append(s["healthy"] - s["start"])
            if "old_kill" in s:
                g["healthy_kill"].append(s["old_kill"] - s["healthy"])
                g["start_kill"].append(s["old_kill"] - s["start"])
                g["kill_die"].append(s["old_die"] - s["old_kill"])
            if i + 1 < len(st):
                g["step"].append(st[i + 1]["create"] - s["create"])
                if "old_die" in s:
                    g["die_next_create"].append(st[i + 1]["create"] - s["old_die"])
        return g

    per_run = [gaps(r["event_steps"]) for r in runs if r.get("event_steps")]
    if not per_run:
        return ""

    def f(key: str) -> str:
        vals = [v for g in per_run for v in g[key] if v == v]
        return f"{med(vals):.3f}" if vals else "-"

    note = f" (ready = start + {settle:g})" if settle is not None else ""
    return (f"| {kind}{note} | {f('create_start')} | {f('start_healthy')} | {f('healthy_kill')} "
            f"| {f('start_kill')} | {f('kill_die')} | {f('die_next_create')} | {f('step')} |")


def trace_profile(path: Path, t0_wall: float, end_wall: float, min_ready: float,
                  started: dict[str, float]) -> dict[str, Any]:
    """What the tracing worker (bench.trace) saw in one run: per step, when the new
    replica's first probe passed, when the pass that removed the old one began and its
    remove was issued (vs. ready = engine start + min_ready_s), how long the remove took,
    and when the next create was issued; the pass phases' durations."""
    recs = [json.loads(line) for line in path.read_text().splitlines() if line.strip()]
    recs = [r for r in recs if t0_wall <= r.get("start", r["t"]) <= end_wall]
    for r in recs:
        r["t"] -= t0_wall
        if "start" in r:
            r["start"] -= t0_wall
    creates = [r for r in recs if r["ev"] == "action" and r["kind"] == "create"]
    removes = [r for r in recs if r["ev"] == "action" and r["kind"] == "remove"
               and "replaced by" in r["reason"]]
    first_ok: dict[str, float] = {}
    first_probe: dict[str, float] = {}
    for r in recs:
        if r["ev"] == "probe":
            first_probe.setdefault(r["cid"], r["start"])
            if r["ok"]:
                first_ok.setdefault(r["cid"], r["t"])
    passes = [r for r in recs if r["ev"] == "pass"]
    steps = []
    for i, c in enumerate(creates):
        cid = c.get("cid") or ""
        st = {"create_issued": c["start"], "create_done": c["t"],
              "start": started.get(cid, float("nan")),
              "first_probe": first_probe.get(cid, float("nan")),
              "first_ok": first_ok.get(cid, float("nan"))}
        st["ready"] = st["start"] + min_ready
        if i < len(removes):
            rm = removes[i]
            # The pass that planned the remove: the last one begun before it.
            began = [p["start"] for p in passes if p["start"] <= rm["start"]]
            st |= {"remove_pass_began": began[-1] if began else float("nan"),
                   "remove_issued": rm["start"], "remove_done": rm["t"]}
        steps.append(st)
    phases: dict[str, list[float]] = {}
    for r in recs:
        if r["ev"] in ("load", "observe", "probes", "record_pass", "act", "record_outcomes", "pass"):
            phases.setdefault(r["ev"], []).append(r["t"] - r["start"])
    return {"steps": steps, "phases": {k: med(v) for k, v in phases.items()},
            "passes": len(passes), "probes": sum(r["ev"] == "probe" for r in recs),
            "healthy_at": {c.get("cid"): first_ok.get(c.get("cid") or "", float("nan"))
                           for c in creates}}


def trace_report(runs: list[dict[str, Any]]) -> str:
    traced = [r["trace"] for r in runs if r.get("trace")]
    if not traced:
        return ""
    keys = [
        ("create issued -> create+start returned", "create_issued", "create_done"),
        ("engine start -> first probe issued", "start", "first_probe"),
        ("engine start -> first probe passed (healthy)", "start", "first_ok"),
        ("ready (start + min_ready_s) -> the pass that removes the old one begins", "ready",
         "remove_pass_began"),
        ("ready -> remove of the old one issued", "ready", "remove_issued"),
        ("remove issued -> returned (stop + remove)", "remove_issued", "remove_done"),
    ]
    rows = ["| step part (medians over steps and runs) | s |", "|---|---|"]
    for label, a, b in keys:
        vals = [s[b] - s[a] for t in traced for s in t["steps"] if a in s and b in s]
        vals = [v for v in vals if v == v]
        rows.append(f"| {label} | {med(vals):.3f} |" if vals else f"| {label} | - |")
    nxt = [t["steps"][i + 1]["create_issued"] - s["remove_done"] for t in traced
           for i, s in enumerate(t["steps"][:-1]) if "remove_done" in s]
    rows.append(f"| remove returned -> next create issued | {med(nxt):.3f} |")
    phases = {k: med([t["phases"].get(k, float("nan")) for t in traced])
              for k in ("pass", "load", "observe", "probes", "record_pass", "act",
                        "record_outcomes")}
    rows.append("")
    rows.append("Pass phases (median durations, s): " + ", ".join(
        f"{k} {v:.3f}" for k, v in phases.items()))
    rows.append(f"Passes per run: {med([t['passes'] for t in traced]):.0f}; probes per run: "
                f"{med([t['probes'] for t in traced]):.0f}")
    return "\n".join(rows)


# -- the floor ---------------------------------------------------------------------------


def one_container_to_200(api: docker.APIClient, tag: str) -> dict[str, float]:
    """create + start one v2 container; poll its /healthz on the bridge every 10 ms."""
    t0 = time.monotonic()
    cid = api.create_container(V2, name=tag, labels={BENCH_LABEL: tag},
                               host_config=api.create_host_config(restart_policy={"Name": "no"}))["Id"]
    created = time.monotonic() - t0
    api.start(cid)
    started = time.monotonic() - t0
    ip = next(iter(api.inspect_container(cid)["NetworkSettings"]["Networks"].values()))["IPAddress"]
    url = f"http://{ip}:8080/healthz"
    probes = 0
    with httpx.Client(timeout=0.5) as http:
        while True:
            probes += 1
            try:
                if http.get(url).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() - t0 > 30:
                raise TimeoutError(f"{url} never answered 200")
            time.sleep(0.01)
    first_200 = time.monotonic() - t0
    # What replacing an old replica costs when it must finish before the next create:
    # stop (SIGTERM; the image traps it) and remove, as Moorage's EngineClient.remove does.
    t1 = time.monotonic()
    api.stop(cid, timeout=10)
    api.remove_container(cid, v=True)
    stop_remove = time.monotonic() - t1
    return {"create_call": created, "start_call_done": started, "first_200": first_200,
            "probes": probes, "stop_remove": stop_remove}


# -- Moorage -------------------------------------------------------------------------------


def spec(image: str, n: int) -> dict[str, Any]:
    return {"image": image, "replicas": n, "health_check": CHECK, "update_strategy": STRATEGY}


def moorage_run(stack: MoorageStack, api: docker.APIClient, n: int, name: str,
                v2_id: str) -> dict[str, Any]:
    label = f"moorage.deployment={name}"
    with stack.client() as c:
        r = c.put(f"/v1/deployments/{name}", json=spec(V1, n))
        if r.status_code != 201:
            raise RuntimeError(f"PUT {name}: {r.status_code} {r.text}")
        first = wait_rollout(c, r.json()["current_rollout"]["id"], time.monotonic() + RUN_TIMEOUT_S)
        if first["state"] != "succeeded":
            raise RuntimeError(f"v1 rollout {first['state']}: {first['message']}")
        time.sleep(1.0)  # let the v1 replicas settle into their steady probing
        watcher = VersionWatcher(api, label, n, v2_id)
        watcher.start()
        t0, t0_wall = time.monotonic(), time.time()
        try:
            r = c.put(f"/v1/deployments/{name}", json=spec(V2, n))
            put_s = time.monotonic() - t0
            if r.status_code not in (200, 201):
                raise RuntimeError(f"PUT {name} v2: {r.status_code} {r.text}")
            rollout_id = r.json()["current_rollout"]["id"]
            all_v2 = watcher.result() - t0
            rollout = wait_rollout(c, rollout_id, t0 + RUN_TIMEOUT_S)
            succeeded = time.monotonic() - t0
        finally:
            watcher.stop()
        if rollout["state"] != "succeeded":
            raise RuntimeError(f"rollout {rollout_id} {rollout['state']}: {rollout['message']}")
        end_wall = time.time()
        st = steps(api, label, v2_id, t0_wall)
        events = events_since(stack, name, t0_wall)
        time.sleep(0.3)  # let the worker log the task's end
        ev = engine_events(api, label, t0_wall, end_wall)
        trace = None
        if stack.worker_cwd is not None and (stack.worker_cwd / "trace.jsonl").exists():
            started = {e["id"]: e["t"] for e in ev if e["action"] == "start"}  # from t0
            trace = trace_profile(stack.worker_cwd / "trace.jsonl", t0_wall, end_wall,
                                  MIN_READY_S, started)
        tasks = worker_tasks(stack.workdir / "worker.log", t0_wall, end_wall)
        # Anything but this rollout touching the deployment's containers spoils the run.
        disturbed = [e for e in events if e["reason"] in ("ReplicaMissing", "ReplicaRestarted")]
        if disturbed:
            log(f"WARNING: {name} was disturbed ({disturbed[0]['reason']}: {disturbed[0]['message']}); "
                "the run is left out of the figures")
        result = {
            "disturbed": bool(disturbed),
            "put_s": put_s, "all_v2": all_v2, "done": succeeded,
            "rollout_started": parse_api_time(rollout["started_at"]) - t0_wall,
            "rollout_finished": parse_api_time(rollout["finished_at"]) - t0_wall,
            "steps": st, "gaps": step_gaps(st), "max_running": watcher.max_running,
            "events": [(round(e["t"], 3), e["reason"], e["message"][:160]) for e in events],
            "tasks": tasks,
            "event_steps": event_steps(ev, {v2_id, V2}, trace["healthy_at"] if trace else None),
            "trace": trace,
        }
        d = c.delete(f"/v1/deployments/{name}")
        if d.status_code != 202:
            raise RuntimeError(f"DELETE {name}: {d.status_code} {d.text}")
        wait_gone(api, label)
        wait_until(lambda: c.get(f"/v1/deployments/{name}").status_code == 404, 120,
                   f"deployment {name} to be deleted", 0.1)
    return result


# -- Swarm ---------------------------------------------------------------------------------


def swarm_tasks_running(api: docker.APIClient, name: str, n: int) -> bool:
    tasks = api.tasks(filters={"service": name, "desired-state": "running"})
    return len(tasks) == n and all(t["Status"]["State"] == "running" for t in tasks)


def swarm_run(swarm: Swarm, api: docker.APIClient, n: int, name: str, v2_id: str) -> dict[str, Any]:
    label = f"{SWARM_LABEL}={name}"
    eng = swarm.engine
    eng.docker("service", "create", "--detach", "--no-resolve-image", "--replicas", str(n),
               "--name", name, *SWARM_HEALTH, *SWARM_UPDATE, V1)
    # A task with a health check counts as running only once healthy.
    wait_until(lambda: swarm_tasks_running(api, name, n), RUN_TIMEOUT_S, f"{name} v1 {n}/{n}", 0.1)
    time.sleep(1.0)
    watcher = VersionWatcher(api, label, n, v2_id)
    watcher.start()
    t0, t0_wall = time.monotonic(), time.time()
    try:
        eng.docker("service", "update", "--detach", "--no-resolve-image", "--image", V2,
                   *SWARM_UPDATE, name)
        cli_s = time.monotonic() - t0
        states = []
        while True:
            issued = time.monotonic()
            status = api.inspect_service(name).get("UpdateStatus") or {}
            state = status.get("State", "")
            if not states or states[-1][1] != state:
                states.append((round(issued - t0, 3), state))
            if state == "completed":
                completed = issued - t0
                break
            if state in ("paused", "rollback_started", "rollback_completed", "rollback_paused"):
                raise RuntimeError(f"swarm update {state}: {status.get('Message')}")
            if issued - t0 > RUN_TIMEOUT_S:
                raise TimeoutError(f"swarm update still {state}")
            time.sleep(0.05)
        all_v2 = watcher.result() - t0
    finally:
        watcher.stop()
    st = steps(api, label, v2_id, t0_wall)
    ev = engine_events(api, label, t0_wall, time.time())
    result = {"cli_s": cli_s, "all_v2": all_v2, "done": completed, "states": states,
              "steps": st, "gaps": step_gaps(st), "max_running": watcher.max_running,
              "event_steps": event_steps(ev, {v2_id, V2})}
    eng.docker("service", "rm", name)
    wait_gone(api, label)
    return result


# -- the report ----------------------------------------------------------------------------


def describe(kind: str, i: int, r: dict[str, Any]) -> str:
    g = r.get("gaps", {})
    line = (f"{kind} run {i}: all v2 running {r['all_v2']:.2f}s, done {r['done']:.2f}s; "
            f"per step (medians): create->start {g.get('create_to_start', float('nan')):.2f}s, "
            f"start->next create {g.get('start_to_next_create', float('nan')):.2f}s, "
            f"step {g.get('step', float('nan')):.2f}s; first create {g.get('first_create', 0):.2f}s, "
            f"last start {g.get('last_start', 0):.2f}s; max running {r['max_running']}")
    if "states" in r:
        line += f"\n    update states: {r['states']}"
    if "events" in r:
        warn = [e for e in r["events"] if e[1] in ("ActionFailed", "EngineError", "RolloutFailed")]
        line += (f"\n    rollout started {r['rollout_started']:.2f}s, finished "
                 f"{r['rollout_finished']:.2f}s; {len(r['tasks'])} reconcile tasks; "
                 f"{len(r['events'])} events")
        for e in warn[:5]:
            line += f"\n    warning: {e}"
    return line


def table(res: dict[str, Any], n: int) -> str:
    fl = res["floor"]
    floor_one = med([x["first_200"] for x in fl])
    floor = n * (floor_one + MIN_READY_S)
    sw = res.get("swarm") or []
    sw_done = med([x["done"] for x in sw]) if sw else float("nan")
    sw_v2 = med([x["all_v2"] for x in sw]) if sw else float("nan")
    rows = ["| approach | all v2 running (s) | done (s) | / Swarm (done) | / floor (done) | one step (s) |",
            "|---|---|---|---|---|---|"]
    rows.append(f"| floor: {n} x ({floor_one:.2f} + {MIN_READY_S:.1f}) | - | {floor:.2f} | "
                f"{floor / sw_done:.2f}x | 1.00x | {floor_one + MIN_READY_S:.2f} |")
    for kind, label in (("moorage", "Moorage"), ("whatif", "Moorage, what-if: probe client reused")):
        runs = res.get(kind) or []
        if not runs:
            continue
        done = med([x["done"] for x in runs])
        v2 = med([x["all_v2"] for x in runs])
        rows.append(f"| {label} | {v2:.2f} | {done:.2f} (succeeded) | **{done / sw_done:.2f}x** "
                    f"(all v2 {v2 / sw_v2:.2f}x) | {done / floor:.2f}x | "
                    f"{med([x['gaps']['step'] for x in runs]):.2f} |")
    if sw:
        rows.append(f"| Swarm | {sw_v2:.2f} | {sw_done:.2f} (completed) | 1.00x | {sw_done / floor:.2f}x "
                    f"| {med([x['gaps']['step'] for x in sw]):.2f} |")
    runs_out = ["", "Individual runs (s), sorted:", ""]
    for kind in ("moorage", "whatif", "swarm"):
        for key in ("all_v2", "done"):
            vals = sorted(x[key] for x in res.get(kind) or [])
            if vals:
                runs_out.append(f"- {kind} {key}: " + " ".join(f"{v:.2f}" for v in vals))
    runs_out.append("- floor one container create->first 200: "
                    + " ".join(f"{v:.3f}" for v in sorted(x["first_200"] for x in fl)))
    return "\n".join(rows + runs_out)


def profile(res: dict[str, Any]) -> str:
    rows = ["| approach | PUT/CLI -> first create | create -> start | start -> next create | one step "
            "| last start -> done |", "|---|---|---|---|---|---|"]
    for kind in ("moorage", "whatif", "swarm"):
        runs = res.get(kind) or []
        if not runs:
            continue
        g = [x["gaps"] for x in runs]
        rows.append(
            f"| {kind} | {med([x['first_create'] for x in g]):.2f} | "
            f"{med([x['create_to_start'] for x in g]):.2f} | "
            f"{med([x['start_to_next_create'] for x in g]):.2f} | {med([x['step'] for x in g]):.2f} | "
            f"{med([r['done'] - x['last_start'] for r, x in zip(runs, g, strict=True)]):.2f} |")
    return "\n".join(rows)


def step_profile(runs: list[dict[str, Any]], n: int) -> str:
    """Moorage, step by step (medians over runs): the new replica is ready at its start +
    min_ready_s; then the old one is stopped and removed (ReplicaRemoved event, written
    after the engine's answer); then the next new one is created (engine's Created)."""
    rows = ["| step | create -> start | ready -> old removed | removed -> next create | one step |",
            "|---|---|---|---|---|"]
    for i in range(n):
        a, b, c, d = [], [], [], []
        for r in runs:
            st = r["steps"]
            removed = [e[0] for e in r["events"] if e[1] == "ReplicaRemoved"]
            if i >= len(st) or i >= len(removed):
                continue
            a.append(st[i]["started"] - st[i]["created"])
            b.append(removed[i] - (st[i]["started"] + MIN_READY_S))
            if i + 1 < len(st):
                c.append(st[i + 1]["created"] - removed[i])
                d.append(st[i + 1]["created"] - st[i]["created"])

        def f(v: list[float]) -> str:
            return f"{med(v):.2f}" if v else "-"

        rows.append(f"| {i + 1} | {f(a)} | {f(b)} | {f(c)} | {f(d)} |")
    return "\n".join(rows)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=3, help="timed runs per approach")
    parser.add_argument("--replicas", type=int, default=10)
    parser.add_argument("--floor-samples", type=int, default=7)
    parser.add_argument("--skip-swarm", action="store_true")
    parser.add_argument("--skip-moorage", action="store_true")
    parser.add_argument("--whatif", action="store_true",
                        help="also run Moorage with its HTTP probes reusing a client (bench.whatif)")
    parser.add_argument("--trace", action="store_true",
                        help="run Moorage's worker under bench.trace (timestamps per pass, "
                             "probe and action) and report where each step's time goes")
    parser.add_argument("--json", type=Path, help="also write every run's raw figures here")
    parser.add_argument("--keep-engine", action="store_true")
    parser.add_argument("--keep-logs", action="store_true")
    args = parser.parse_args(argv)
    n = args.replicas

    engine, started_engine = prepare_engine(ENGINE_INDEX, offline=not args.skip_swarm)
    offset = log_offset(engine)
    dockerd.build_test_images(engine)
    api = docker.APIClient(base_url=engine.url, version="auto", timeout=60)
    v2_id = image_id(api, V2)
    workdir = Path(tempfile.mkdtemp(prefix="moorage-bench-rollout-"))
    # Two installations on one engine collect each other's containers as orphans (each
    # sees the other's moorage.managed containers with deployment ids it does not know):
    # with --whatif both stacks run side by side, so their orphan collection is put off.
    # It plays no part in a rollout.
    quiet = {"MOORAGE_ORPHAN_INTERVAL_S": "86400"} if args.whatif else {}
    trace_argv: dict[str, Any] = {}
    if args.trace:
        # Run from the work directory, so the worker imports the venv's app (the code
        # under test), not this checkout's; bench.trace only wraps what it calls.
        workdir.mkdir(parents=True, exist_ok=True)
        shutil.copy(Path(__file__).with_name("trace.py"), workdir / "moorage_trace.py")
        os.environ["BENCH_TRACE_FILE"] = str(workdir / "trace.jsonl")
        trace_argv = {"worker_cwd": workdir, "worker_argv": [
            sys.executable, "-m", "celery", "-A", "moorage_trace:celery", "worker",
            "--loglevel", "INFO", "--concurrency", "4",
            "--without-mingle", "--without-gossip", "--without-heartbeat"]}
    stack = MoorageStack(engine, workdir, settings=quiet, **trace_argv)
    swarm = Swarm(engine, listen_port=free_port(), gwbridge=GWBRIDGE)
    tag = uuid.uuid4().hex[:4]
    res: dict[str, Any] = {"floor": [], "moorage": [], "whatif": [], "swarm": [], "load": []}
    stacks = [stack]
    ok = False
    try:
        if engine.docker("info", "--format", "{{.Swarm.LocalNodeState}}").stdout.strip() != "inactive":
            raise RuntimeError(f"engine {engine.name} is already in a swarm; not touching it")
        busy = background_load()
        res["load"].append(("start", load_average(), busy))
        log(f"engine {engine.url}; logs in {workdir}; load average {load_average()}, "
            f"{busy:.0%} of {os.cpu_count()} cores busy")
        one_container_to_200(api, f"bench-floor-{tag}-warm")

        def floor_samples(k: int, round_: int) -> None:
            for j in range(k):
                r = one_container_to_200(api, f"bench-floor-{tag}-{round_}-{j}")
                res["floor"].append(r)
                log(f"floor sample {len(res['floor']) - 1} (round {round_}): create "
                    f"{r['create_call']:.3f}s, start returned {r['start_call_done']:.3f}s, "
                    f"first 200 {r['first_200']:.3f}s ({r['probes']} probes)")

        # The floor's samples are spread over the rounds too (a spike in the machine's
        # load at the start must not stand for the whole run): one share now, one before
        # each timed round.
        share = max(1, -(-args.floor_samples // (args.runs + 1)))
        floor_samples(share, 0)
        # Rounds: each approach once per round, so they share the machine's load as it
        # drifts (the machine is shared). Swarm mode is on only during its own runs:
        # `swarm init` before, `swarm leave` after (untimed), as in bench.converge.
        kinds: list[tuple[str, MoorageStack | None]] = []
        if not args.skip_moorage:
            stack.start()
            log(f"Moorage up: api {stack.url}, db {stack.db_name}, queue {stack.queue}")
            kinds.append(("moorage", stack))
        if args.whatif:
            whatif = MoorageStack(engine, workdir / "whatif", settings=quiet, worker_argv=[
                sys.executable, "-m", "celery", "-A", "bench.whatif:celery", "worker",
                "--loglevel", "INFO", "--concurrency", "4"])
            stacks.append(whatif)
            whatif.start()
            log(f"Moorage what-if (probe client reused) up: api {whatif.url}, db {whatif.db_name}")
            kinds.append(("whatif", whatif))
        if not args.skip_swarm:
            kinds.append(("swarm", None))
        for i in range(args.runs + 1):  # round 0 is the untimed warm-up
            if i:
                floor_samples(min(share, args.floor_samples - len(res["floor"])), i)
            for kind, st in kinds:
                name = f"roll-{tag}-{kind}-{i or 'warm'}"
                if st is not None:
                    r = moorage_run(st, api, n, name, v2_id)
                else:
                    swarm.init()
                    try:
                        r = swarm_run(swarm, api, n, name, v2_id)
                    finally:
                        swarm.leave()
                if i and not r.get("disturbed"):
                    res[kind].append(r)
                    log(describe(kind, i, r) + f"; load {load_average()}")
        res["load"].append(("end", load_average(), None))
        ok = True
    finally:
        for step in (*(s.stop for s in stacks), swarm.leave, *(s.drop for s in stacks)):
            try:
                step()
            except Exception as exc:
                log(f"cleanup: {step.__qualname__} failed: {exc}")
        for label in (BENCH_LABEL, "moorage.managed", SWARM_LABEL):
            with suppress(Exception):
                remove_labelled(api, label)
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
    else:
        log("the engine's log shows no registry access during the benchmark")
    if STALE_READS["rollout_404"]:
        log(f"note: {STALE_READS['rollout_404']} times a rollout id just returned by a PUT was 404 "
            "when asked for at once (retried)")
    res["stale_reads"] = dict(STALE_READS)
    if args.json:
        args.json.write_text(json.dumps(res, indent=1, default=str))
    print()
    print(f"{os.cpu_count()} cores; {args.runs} runs per approach; medians; load average "
          f"{res['load'][0][1]} at the start, {res['load'][-1][1]} at the end; "
          f"{res['load'][0][2]:.0%} busy before the runs.")
    print(table(res, n))
    print()
    print(profile(res))
    for kind in ("moorage", "whatif"):
        if res.get(kind):
            print(f"\n{kind}, step by step (medians):")
            print(step_profile(res[kind], n))
    rows = [event_profile(kind, res.get(kind) or [], MIN_READY_S if kind != "swarm" else None)
            for kind in ("moorage", "whatif", "swarm")]
    if any(rows):
        print("\nFrom the engine's events (medians over steps and runs, s; healthy: Moorage's "
              "first passing probe (with --trace) or Docker's health_status; the old one's "
              "kill is its stop beginning):")
        print("| approach | create -> start | start -> healthy | healthy -> old kill "
              "| start -> old kill | old kill -> die | old die -> next create | one step |")
        print("|---|---|---|---|---|---|---|---|")
        print("\n".join(r for r in rows if r))
    if report := trace_report(res.get("moorage") or []):
        print("\nMoorage's worker, traced (bench.trace), where a step's time goes:")
        print(report)
    if res["floor"]:
        print(f"\nfloor, one container (medians): create call {med([x['create_call'] for x in res['floor']]):.3f}s, "
              f"start returned {med([x['start_call_done'] for x in res['floor']]):.3f}s, "
              f"first 200 {med([x['first_200'] for x in res['floor']]):.3f}s; stdev "
              f"{statistics.pstdev([x['first_200'] for x in res['floor']]):.3f}s; stop + remove "
              f"{med([x['stop_remove'] for x in res['floor']]):.3f}s")
        one = med([x["first_200"] + MIN_READY_S + x["stop_remove"] for x in res["floor"]])
        sw = med([x["done"] for x in res["swarm"]]) if res["swarm"] else float("nan")
        print(f"floor if the old replica must be gone before the next create (Moorage's rule: "
              f"stopping containers count against max_surge): {n} x {one:.2f} = {n * one:.2f}s "
              f"({n * one / sw:.2f}x Swarm)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
