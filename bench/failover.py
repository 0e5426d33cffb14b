"""Losing one of three hosts: detection, rescheduling, and back to available.

    .venv/bin/python -m bench.failover [--runs 3] [--configs 5:1,15:1,5:5,15:5] [--mode kill]

Three private engines, ``tests.support.dockerd.Engine(21/22/23)`` (no test suite uses
them), each with its own socket, data root and bridge (br-moor21..23); the test images
are built on the first and copied to the others (``docker save | docker load``), since
nothing can be pulled. Moorage runs in the production topology (bench.harness.
MoorageStack: fresh Postgres database, Redis queue, api + worker + beat processes) with
the three engines registered as hosts h21, h22, h23.

A configuration is ``grace:heartbeat[:resync]`` in seconds: MOORAGE_HOST_GRACE_S,
MOORAGE_HEARTBEAT_INTERVAL_S and (optionally) MOORAGE_RESYNC_INTERVAL_S; every other
setting stays at its default (heartbeat timeout 1.5 s, resync 5 s). Each configuration
gets a fresh stack. Each run:

1. ``PUT`` a deployment of 6 replicas of ``moorage-test/web:v1`` (no health check), wait
   for its rollout to succeed and check the spread is 2/2/2 on the engines.
2. t0, then the victim engine's dockerd gets SIGKILL (``Engine.kill()``, the default
   ``--mode kill``: a host lost without warning, its containers keep running but nothing
   answers on its socket) or SIGTERM (``Engine.stop()``, ``--mode stop``: the daemon stops
   its containers and removes its socket). The victim rotates over the three engines.
3. One loop, every 50 ms, polls ``GET /v1/hosts`` (detection: the victim's state is
   ``unreachable``), the two other engines' running containers of the deployment
   (rescheduled: 6 running there) and ``GET /v1/deployments/{name}`` (the phase's
   transitions; *available again*: the first poll showing ``available`` once the 6 run on
   the survivors). Times are the poll's issue time.
4. The victim is started again; the time until its stale containers are gone is reported
   too. Then the deployment is deleted.

The floor is what the policy allows at best: the grace period (Moorage declares a host
lost only after it has been unreachable that long) plus one container's create + start on
a surviving engine (measured directly through the SDK). Detection itself can cost up to a
heartbeat interval on top; that is reported separately.

With ``--swarm`` (or ``--swarm-only``), the same loss for Docker Swarm at its defaults:
three more engines (``Engine(41/42/43)``), each in a network namespace of its own
(mfo1..mfo3, entered with ``nsenter --net`` only, as /work/shared/TESTBED.md describes),
joined by veth pairs to one bridge of ours, br-mfo, 10.251.0.0/24 (.1-.3 the nodes, .254
the bridge). Node 1 is the only manager (``swarm init --advertise-addr 10.251.0.1``), 2 and
3 join as workers, so the control plane never dies with the victim (Moorage's runs apart
from its hosts too). ``service create --no-resolve-image --replicas 6`` spreads 2/2/2; a
worker's dockerd gets SIGKILL (the victim alternates between the two workers); the loop
polls the manager's ``GET /nodes`` (detection: the victim ``down``) and the survivors'
running containers (rescheduled: 6 there; *available again*: the manager counts 6
running tasks, what ``docker service ls`` shows as 6/6). The engines run with
DOCKER_SERVICE_PREFER_OFFLINE_IMAGE=1 and their logs are checked for registry access.

Everything this benchmark makes (containers, processes, database, queue, the engines it
started and their bridges, the swarm, the namespaces, veths and bridge br-mfo and the one
iptables ACCEPT rule for br-mfo) is removed in ``finally``. Traffic: 127.0.0.1, the
engines' unix sockets and br-mfo between our own namespaces; nothing else.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import uuid
from contextlib import suppress
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import docker

from bench.harness import (
    OFFLINE_ENV,
    STALE_READS,
    MoorageStack,
    background_load,
    docker_ts,
    events_since,
    load_average,
    log,
    med,
    prepare_engine,
    registry_attempts,
    release_data_root,
    remove_bridge,
    remove_labelled,
    wait_rollout,
    wait_until,
)
from tests.support import dockerd

ENGINES = (21, 22, 23)
REPLICAS = 6
IMAGE = dockerd.WEB_V1
POLL_S = 0.05
RUN_TIMEOUT_S = 180.0
DEFAULT_CONFIGS = "5:1,15:1,5:5,15:5"


def parse_config(text: str) -> dict[str, str]:
    parts = text.split(":")
    out = {"MOORAGE_HOST_GRACE_S": parts[0], "MOORAGE_HEARTBEAT_INTERVAL_S": parts[1]}
    if len(parts) > 2:
        out["MOORAGE_RESYNC_INTERVAL_S"] = parts[2]
    return out


def running_on(api: docker.APIClient, name: str) -> int:
    return len(api.containers(quiet=True, filters={"label": f"moorage.deployment={name}",
                                                   "status": "running"}))


def one_start(api: docker.APIClient, tag: str) -> float:
    """create + start of one container through the SDK, until the start call returns."""
    t0 = time.monotonic()
    cid = api.create_container(IMAGE, name=tag, labels={"moorage.bench": tag},
                               host_config=api.create_host_config(restart_policy={"Name": "no"}))["Id"]
    api.start(cid)
    took = time.monotonic() - t0
    api.remove_container(cid, force=True, v=True)
    return took


def failover_run(stack: MoorageStack, engines: dict[str, dockerd.Engine],
                 apis: dict[str, docker.APIClient], victim: str, name: str,
                 mode: str) -> dict[str, Any]:
    with stack.client() as c:
        r = c.put(f"/v1/deployments/{name}", json={"image": IMAGE, "replicas": REPLICAS})
        if r.status_code != 201:
            raise RuntimeError(f"PUT {name}: {r.status_code} {r.text}")
        ro = wait_rollout(c, r.json()["current_rollout"]["id"], time.monotonic() + RUN_TIMEOUT_S)
        if ro["state"] != "succeeded":
            raise RuntimeError(f"rollout {ro['state']}: {ro['message']}")
        spread = {h: running_on(a, name) for h, a in apis.items()}
        if sorted(spread.values()) != [2, 2, 2]:
            raise RuntimeError(f"spread is {spread}, not 2/2/2")
        wait_until(lambda: c.get(f"/v1/deployments/{name}").json()["status"]["phase"] == "available",
                   30, "the deployment to be available")
        survivors = {h: a for h, a in apis.items() if h != victim}
        eng = engines[victim]
        t0, t0_wall = time.monotonic(), time.time()
        if mode == "kill":
            eng.kill()
        else:
            eng.stop()
        killed = time.monotonic() - t0
        detected = rescheduled = available = None
        phases: list[tuple[float, str]] = []
        try:
            while available is None:
                issued = time.monotonic() - t0
                if issued > RUN_TIMEOUT_S:
                    raise TimeoutError(f"{name}: detected {detected}, rescheduled {rescheduled}, "
                                       f"phases {phases}")
                if detected is None:
                    hosts = {h["name"]: h for h in c.get("/v1/hosts").json()["items"]}
                    if hosts[victim]["state"] == "unreachable":
                        detected = issued
                if rescheduled is None and sum(running_on(a, name) for a in survivors.values()) >= REPLICAS:
                    rescheduled = issued
                phase = c.get(f"/v1/deployments/{name}").json()["status"]["phase"]
                if not phases or phases[-1][1] != phase:
                    phases.append((round(issued, 3), phase))
                if rescheduled is not None and phase == "available":
                    available = issued
                time.sleep(POLL_S)
        finally:
            # The new containers' engine-side times, from t0.
            created, started = [], []
            for a in survivors.values():
                for ct in a.containers(filters={"label": f"moorage.deployment={name}"}):
                    d = a.inspect_container(ct["Id"])
                    cr = docker_ts(d["Created"]) - t0_wall
                    if cr > 0:
                        created.append(cr)
                        if (st := docker_ts(d["State"].get("StartedAt", ""))) is not None:
                            started.append(st - t0_wall)
        events = events_since(stack, name, t0_wall)
        ev = {}
        for e in events:
            ev.setdefault(e["reason"], round(e["t"], 3))
        # The host comes back: its stale containers should go, 6 replicas in all.
        t1 = time.monotonic()
        eng.start()
        victim_api = apis[victim]
        wait_until(lambda: c.get(f"/v1/hosts/{victim}").json()["state"] == "ready", 120,
                   f"{victim} to be ready again", 0.1)
        host_ready = time.monotonic() - t1
        wait_until(lambda: not victim_api.containers(all=True, quiet=True,
                                                     filters={"label": f"moorage.deployment={name}"}),
                   120, f"stale containers on {victim} to go", 0.1)
        stale_gone = time.monotonic() - t1
        total = sum(running_on(a, name) for a in apis.values())
        d = c.delete(f"/v1/deployments/{name}")
        if d.status_code != 202:
            raise RuntimeError(f"DELETE {name}: {d.status_code} {d.text}")
        wait_until(lambda: c.get(f"/v1/deployments/{name}").status_code == 404, 120,
                   f"deployment {name} to be deleted", 0.1)
        for a in apis.values():
            wait_until(lambda a=a: not a.containers(all=True, quiet=True,
                                                    filters={"label": f"moorage.deployment={name}"}),
                       60, "the deployment's containers to go", 0.1)
    return {"victim": victim, "kill_call": killed, "detected": detected,
            "rescheduled": rescheduled, "available": available, "phases": phases,
            "first_create": min(created) if created else None,
            "last_create": max(created) if created else None,
            "last_start": max(started) if started else None,
            "events": ev, "return_host_ready": host_ready, "return_stale_gone": stale_gone,
            "total_after_return": total}


# -- Swarm on three engines in network namespaces -------------------------------------------

SWARM_ENGINES = (41, 42, 43)
SWARM_BRIDGE = "br-mfo"
SWARM_NET = "10.251.0"
SWARM_LABEL = "com.docker.swarm.service.name"


def _ip(*args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["ip", *args], capture_output=True, text=True, check=check)


@dataclass(frozen=True)
class NamespacedEngine(dockerd.Engine):
    """An Engine whose dockerd runs in network namespace `netns` (nsenter --net only:
    `ip netns exec` would remount /sys and dockerd then fails), on its own docker0 there."""

    netns: str = ""
    address: str = ""

    def _launch(self) -> int | None:
        dockerd.require_tools()
        if self.pid() is not None:
            return None
        self.pidfile.unlink(missing_ok=True)
        self._forget_dead_containerd()
        self.data_dir.mkdir(parents=True, exist_ok=True)
        self.exec_dir.mkdir(parents=True, exist_ok=True)
        config = {}
        if dockerd._dockerd_major_version() < 23:
            config["deprecated-key-path"] = str(self.root / "key.json")
        self.config_file.write_text(json.dumps(config) + "\n")
        cmd = [
            "nsenter", f"--net=/var/run/netns/{self.netns}",
            dockerd._which("dockerd") or "dockerd",
            f"--host={self.url}",
            f"--data-root={self.data_dir}",
            f"--exec-root={self.exec_dir}",
            f"--pidfile={self.pidfile}",
            f"--config-file={self.config_file}",
            f"--containerd-namespace=moorage-{self.name}",
            f"--containerd-plugins-namespace=moorage-{self.name}-plugins",
            "--iptables=false",
            "--ip-masq=false",
        ]
        launcher = subprocess.run(
            ["/bin/sh", "-c", dockerd._BACKGROUND, "sh", *cmd],
            env={**os.environ, "MOORAGE_DOCKERD_LOG": str(self.logfile)},
            capture_output=True, text=True, check=True, start_new_session=True,
        )
        return int(launcher.stdout.strip())


class SwarmFleet:
    def __init__(self) -> None:
        self.engines = [NamespacedEngine(idx, netns=f"mfo{i}", address=f"{SWARM_NET}.{i}")
                        for i, idx in enumerate(SWARM_ENGINES, 1)]
        self.made_net = False
        self.rule = ["FORWARD", "-i", SWARM_BRIDGE, "-o", SWARM_BRIDGE, "-j", "ACCEPT"]
        self.rule_added = False
        self.apis: list[docker.APIClient] = []
        self.offsets: dict[str, int] = {}

    def setup(self) -> None:
        for e in self.engines:
            if e.is_up():
                raise RuntimeError(f"engine {e.name} is already running; not reusing it")
        if _ip("link", "show", SWARM_BRIDGE, check=False).returncode == 0:
            raise RuntimeError(f"{SWARM_BRIDGE} exists already; not touching it")
        self.made_net = True
        _ip("link", "add", SWARM_BRIDGE, "type", "bridge")
        _ip("addr", "add", f"{SWARM_NET}.254/24", "dev", SWARM_BRIDGE)
        _ip("link", "set", SWARM_BRIDGE, "up")
        for i, e in enumerate(self.engines, 1):
            _ip("netns", "add", e.netns)
            _ip("link", "add", f"vmfo{i}", "type", "veth", "peer", "name", "eth0", "netns", e.netns)
            _ip("link", "set", f"vmfo{i}", "master", SWARM_BRIDGE)
            _ip("link", "set", f"vmfo{i}", "up")
            _ip("-n", e.netns, "addr", "add", f"{e.address}/24", "dev", "eth0")
            _ip("-n", e.netns, "link", "set", "eth0", "up")
            _ip("-n", e.netns, "link", "set", "lo", "up")
        # Bridged traffic passes the host's FORWARD chain (br_netfilter); never let a DROP
        # policy set by some other engine cut our own bridge.
        if subprocess.run(["iptables", "-I", *self.rule], capture_output=True).returncode == 0:
            self.rule_added = True
        os.environ[OFFLINE_ENV] = "1"
        pids = {e: e._launch() for e in self.engines}
        for e, pid in pids.items():
            e._wait_until_up(pid, 60)
            self.offsets[e.name] = e.logfile.stat().st_size if e.logfile.exists() else 0
        dockerd.build_test_images(self.engines[0])
        for e in self.engines[1:]:
            dockerd.copy_images(self.engines[0], e, (IMAGE,))
        self.apis = [docker.APIClient(base_url=e.url, version="auto", timeout=60) for e in self.engines]
        m = self.engines[0]
        m.docker("swarm", "init", "--advertise-addr", m.address, "--listen-addr", f"{m.address}:2377")
        token = m.docker("swarm", "join-token", "-q", "worker").stdout.strip()
        for e in self.engines[1:]:
            e.docker("swarm", "join", "--token", token, "--advertise-addr", e.address,
                     "--listen-addr", f"{e.address}:2377", f"{m.address}:2377")
        wait_until(lambda: sum(n["Status"]["State"] == "ready" for n in self.apis[0].nodes()) == 3,
                   60, "three ready swarm nodes", 0.2)

    def node_id(self, i: int) -> str:
        return self.apis[i].info()["Swarm"]["NodeID"]

    def running(self, i: int, name: str) -> int:
        return len(self.apis[i].containers(quiet=True, filters={"label": f"{SWARM_LABEL}={name}",
                                                                "status": "running"}))

    def tasks_running(self, name: str) -> int:
        tasks = self.apis[0].tasks(filters={"service": name, "desired-state": "running"})
        return sum(t["Status"]["State"] == "running" for t in tasks)

    def run(self, victim: int, name: str) -> dict[str, Any]:
        m = self.engines[0]
        node = self.node_id(victim)
        m.docker("service", "create", "--detach", "--no-resolve-image", "--replicas", str(REPLICAS),
                 "--name", name, IMAGE)
        wait_until(lambda: self.tasks_running(name) == REPLICAS, 120, f"{name} {REPLICAS}/{REPLICAS}", 0.1)
        spread = [self.running(i, name) for i in range(3)]
        if sorted(spread) != [2, 2, 2]:
            raise RuntimeError(f"swarm spread is {spread}, not 2/2/2")
        survivors = [i for i in range(3) if i != victim]
        eng = self.engines[victim]
        t0 = time.monotonic()
        eng.kill()
        detected = rescheduled = available = None
        states: list[tuple[float, str]] = []
        while available is None or rescheduled is None:
            issued = time.monotonic() - t0
            if issued > RUN_TIMEOUT_S:
                raise TimeoutError(f"swarm {name}: detected {detected}, rescheduled {rescheduled}")
            st = next(n["Status"]["State"] for n in self.apis[0].nodes() if n["ID"] == node)
            if not states or states[-1][1] != st:
                states.append((round(issued, 3), st))
            if detected is None and st == "down":
                detected = issued
            if rescheduled is None and sum(self.running(i, name) for i in survivors) >= REPLICAS:
                rescheduled = issued
            if available is None and detected is not None and self.tasks_running(name) >= REPLICAS:
                available = issued
            time.sleep(POLL_S)
        t1 = time.monotonic()
        eng.start()
        victim_api = self.apis[victim]
        wait_until(lambda: next(n["Status"]["State"] for n in self.apis[0].nodes()
                                if n["ID"] == node) == "ready", 120, "the node to be ready", 0.1)
        node_ready = time.monotonic() - t1
        # Swarm keeps a shut-down task's container as history (task-history-retention-limit)
        # instead of removing it: "gone" here means no longer running.
        wait_until(lambda: not victim_api.containers(
            quiet=True, filters={"label": f"{SWARM_LABEL}={name}", "status": "running"}), 120,
            "the returned node's stale containers to stop", 0.1)
        stale_gone = time.monotonic() - t1
        total = sum(self.running(i, name) for i in range(3))
        m.docker("service", "rm", name)
        for a in self.apis:
            wait_until(lambda a=a: not a.containers(all=True, quiet=True,
                                                    filters={"label": f"{SWARM_LABEL}={name}"}),
                       60, "the service's containers to go", 0.1)
        return {"victim": eng.netns, "detected": detected, "rescheduled": rescheduled,
                "available": available, "node_states": states, "return_node_ready": node_ready,
                "return_stale_gone": stale_gone, "total_after_return": total}

    def registry_attempts(self) -> list[str]:
        return [line for e in self.engines for line in registry_attempts(e, self.offsets.get(e.name, 0))]

    def teardown(self) -> None:
        for e in self.engines:
            with suppress(Exception):
                if not e.is_up() and self.made_net:
                    e.start()
            with suppress(Exception):
                e.docker("swarm", "leave", "--force", check=False, timeout=30)
        for a in self.apis:
            a.close()
        for e in self.engines:
            with suppress(Exception):
                e.stop()
            release_data_root(e)  # the victims were SIGKILLed
            if self.made_net and e.pid() is None:  # ours alone: nothing else lives there
                shutil.rmtree(e.root, ignore_errors=True)
        if self.rule_added:
            subprocess.run(["iptables", "-D", *self.rule], capture_output=True)
        if self.made_net:
            for e in self.engines:
                _ip("netns", "del", e.netns, check=False)
            _ip("link", "del", SWARM_BRIDGE, check=False)


def swarm_series(runs: int) -> tuple[list[dict[str, Any]], list[str]]:
    fleet = SwarmFleet()
    results = []
    try:
        fleet.setup()
        log("swarm: 3 nodes in namespaces mfo1-3 on br-mfo, node 1 manager")
        tag = uuid.uuid4().hex[:4]
        for i in range(runs):
            r = fleet.run(1 + i % 2, f"fo-swarm-{tag}-{i}")
            results.append(r)
            log(f"swarm run {i + 1} (victim {r['victim']}): node down {r['detected']:.2f}s, 6 on survivors "
                f"{r['rescheduled']:.2f}s, 6/6 {r['available']:.2f}s; node states {r['node_states']}; on "
                f"return: node ready {r['return_node_ready']:.2f}s, stale stopped "
                f"{r['return_stale_gone']:.2f}s, {r['total_after_return']} running; load {load_average()}")
    finally:
        attempts = fleet.registry_attempts()
        fleet.teardown()
    return results, attempts


def describe(cfg: str, i: int, r: dict[str, Any]) -> str:
    def f(v: float | None) -> str:
        return "-" if v is None else f"{v:.2f}"

    return (f"[{cfg}] run {i} (victim {r['victim']}): detected {f(r['detected'])}s, new containers "
            f"created {f(r['first_create'])}-{f(r['last_create'])}s, started by {f(r['last_start'])}s, "
            f"6 on survivors {f(r['rescheduled'])}s, available {f(r['available'])}s; phases "
            f"{r['phases']}; events {r['events']}; on return: host ready {r['return_host_ready']:.2f}s, "
            f"stale gone {r['return_stale_gone']:.2f}s, {r['total_after_return']} running in all")


def report(results: dict[str, list[dict[str, Any]]], start_s: float) -> str:
    rows = ["| config (grace s : heartbeat s) | detection (s) | rescheduled: 6 running on survivors (s) "
            "| rescheduled - grace (s; issue 14: <= 1) | worst run - grace (s) "
            "| available again (s) | floor: grace + start (s) | available / floor | after the grace: "
            "lost -> first create (s) |", "|---|---|---|---|---|---|---|---|---|"]
    for cfg, runs in results.items():
        grace = float(cfg.split(":")[0])
        floor = grace + start_s
        det = med([r["detected"] for r in runs])
        res = med([r["rescheduled"] for r in runs])
        av = med([r["available"] for r in runs])
        # Moorage counts the grace from the first failed heartbeat (~ detection).
        after = med([r["first_create"] - r["detected"] - grace for r in runs if r["first_create"]])
        worst = max(r["rescheduled"] for r in runs)
        rows.append(f"| {cfg} | {det:.2f} | {res:.2f} | {res - grace:+.2f} | {worst - grace:+.2f} "
                    f"| {av:.2f} | {floor:.2f} | {av / floor:.2f}x | {after:.2f} |")
    rows += ["", "Individual runs (s), sorted:", ""]
    for cfg, runs in results.items():
        for key in ("detected", "rescheduled", "available"):
            rows.append(f"- {cfg} {key}: " + " ".join(f"{v:.2f}" for v in sorted(r[key] for r in runs)))
    return "\n".join(rows)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=3, help="timed runs per configuration")
    parser.add_argument("--configs", default=DEFAULT_CONFIGS,
                        help="comma-separated grace:heartbeat[:resync] seconds")
    parser.add_argument("--mode", choices=("kill", "stop"), default="kill")
    parser.add_argument("--swarm", action="store_true", help="also run multi-node Swarm")
    parser.add_argument("--swarm-only", action="store_true", help="run multi-node Swarm only")
    parser.add_argument("--json", type=Path)
    parser.add_argument("--keep-engines", action="store_true")
    parser.add_argument("--keep-logs", action="store_true")
    args = parser.parse_args(argv)
    configs = [] if args.swarm_only else [c.strip() for c in args.configs.split(",") if c.strip()]

    prepared = [prepare_engine(i, offline=False) for i in ENGINES]
    engines = {f"h{e.index}": e for e, _ in prepared}
    started = [e for e, s in prepared if s]
    first = prepared[0][0]
    dockerd.build_test_images(first)
    for e, _ in prepared[1:]:
        dockerd.copy_images(first, e, (IMAGE,))
    apis = {h: docker.APIClient(base_url=e.url, version="auto", timeout=60) for h, e in engines.items()}
    workdir = Path(tempfile.mkdtemp(prefix="moorage-bench-failover-"))
    results: dict[str, list[dict[str, Any]]] = {}
    swarm_results: list[dict[str, Any]] = []
    swarm_registry: list[str] = []
    tag = uuid.uuid4().hex[:4]
    stack: MoorageStack | None = None
    ok = False
    loads = []
    try:
        busy = background_load()
        loads.append(load_average())
        log(f"engines {', '.join(e.url for e in engines.values())}; logs in {workdir}; "
            f"load average {loads[0]}, {busy:.0%} of {os.cpu_count()} cores busy")
        starts = [one_start(apis["h21"], f"bench-start-{tag}-{i}") for i in range(6)][1:]
        start_s = med(starts)
        log(f"one container create+start on h21: {' '.join(f'{s:.3f}' for s in starts)} s "
            f"(median {start_s:.3f})")
        for ci, cfg in enumerate(configs):
            stack = MoorageStack(first, workdir / f"cfg{ci}", settings=parse_config(cfg),
                                 hosts=engines)
            stack.start()
            log(f"[{cfg}] Moorage up ({stack.settings}); api {stack.url}, db {stack.db_name}")
            results[cfg] = []
            for i in range(args.runs):
                victim = list(engines)[(i + ci) % len(engines)]
                r = failover_run(stack, engines, apis, victim, f"fo-{tag}-{ci}-{i}", args.mode)
                results[cfg].append(r)
                log(describe(cfg, i + 1, r) + f"; load {load_average()}")
            stack.stop()
            stack.drop()
            stack = None
        if args.swarm or args.swarm_only:
            swarm_results, swarm_registry = swarm_series(args.runs)
        loads.append(load_average())
        ok = True
    finally:
        if stack is not None:
            stack.teardown()
        for h, e in engines.items():
            with suppress(Exception):
                e.start()  # a run may have left its victim down
            with suppress(Exception):
                remove_labelled(apis[h], "moorage.managed")
                remove_labelled(apis[h], "moorage.bench")
            apis[h].close()
        if not args.keep_engines:
            for e in started:
                e.stop()
                release_data_root(e)  # the victims were SIGKILLed
                remove_bridge(e.bridge)
        if ok and not args.keep_logs:
            shutil.rmtree(workdir, ignore_errors=True)
        else:
            log(f"Moorage logs kept in {workdir}")
    if STALE_READS["rollout_404"]:
        log(f"note: {STALE_READS['rollout_404']} times a rollout id just returned by a PUT was 404 "
            "when asked for at once (retried)")
    if args.json:
        args.json.write_text(json.dumps({"stale_reads": dict(STALE_READS), "results": results, "swarm": swarm_results,
                                         "start_s": start_s, "loads": loads}, indent=1, default=str))
    print()
    print(f"{os.cpu_count()} cores; {args.runs} runs per configuration; medians; mode {args.mode}; "
          f"load average {loads[0]} at the start, {loads[-1]} at the end.")
    if results:
        print(report(results, start_s))
    if swarm_results:
        print()
        print("| Swarm (3 nodes, defaults) | node down (s) | 6 running on survivors (s) | 6/6 (s) "
              "| returned node's stale containers stopped (s) |")
        print("|---|---|---|---|---|")
        print(f"| median of {len(swarm_results)} | {med([r['detected'] for r in swarm_results]):.2f} "
              f"| {med([r['rescheduled'] for r in swarm_results]):.2f} "
              f"| {med([r['available'] for r in swarm_results]):.2f} "
              f"| {med([r['return_stale_gone'] for r in swarm_results]):.2f} |")
        for key in ("detected", "rescheduled", "available"):
            print(f"- swarm {key}: " + " ".join(f"{v:.2f}" for v in sorted(r[key] for r in swarm_results)))
        if swarm_registry:
            print(f"WARNING: the swarm engines reached for a registry {len(swarm_registry)} times: "
                  f"{swarm_registry[0][:300]}")
        else:
            print("The swarm engines' logs show no registry access.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
