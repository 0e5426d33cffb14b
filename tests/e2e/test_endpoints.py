"""Service endpoints end to end: real engines, the real Caddy binary as the edge proxy,
a steady stream of requests at ``endpoint.urls[0]`` while Moorage changes things."""

from __future__ import annotations

import socket
import tempfile
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest

from tests.conftest import unavailable
from tests.e2e.conftest import Stack, free_port, running_stack, wait_for
from tests.support import dockerd, sshd, tls
from tests.support.edge_image import EDGE_IMAGE, build_edge_image, migrating_requests
from tests.support.parallel import engine_index, fixed_port
from tests.support.traffic import Traffic

pytestmark = [pytest.mark.docker, pytest.mark.e2e]

ENGINES = tuple(map(engine_index, (51, 52)))  # this suite's own
# A tcp:// engine with mutual TLS (fixed port: it keeps its listener), and an engine
# behind a private sshd on 127.0.0.1.
TLS_ENGINE, TLS_PORT = engine_index(55), fixed_port(12_355)
SSH_ENGINE, SSH_PORT = engine_index(56), fixed_port(12_356)
N = 4
RPS = 60
CHECK = {"http": {"path": "/healthz", "port": 8080}, "interval_s": 1, "timeout_s": 1, "retries": 1}
STRATEGY = {"max_surge": 1, "max_unavailable": 0, "min_ready_s": 0.5, "progress_deadline_s": 60}


@pytest.fixture(scope="module", autouse=True)
def _edge_host_sysctl() -> Iterator[None]:
    with migrating_requests():
        yield


@pytest.fixture(scope="module")
def edge_engines() -> list[dockerd.Engine]:
    try:
        dockerd.require_tools()
        engines = [dockerd.Engine(i) for i in ENGINES]
        for e in engines:
            e.start()
        dockerd.build_test_images(engines[0])
        build_edge_image(engines[0])
        for e in engines[1:]:
            dockerd.copy_images(engines[0], e, (*dockerd.TEST_IMAGES, EDGE_IMAGE))
    except dockerd.EngineUnavailable as exc:
        unavailable(str(exc))
    return engines


SLOW = "moorage-test/web:slow"
# A CGI script: answers after 3 s, so a request is still in flight when its replica leaves.
_SLOW_CGI = "#!/bin/sh\nsleep 3\nprintf 'Content-Type: text/plain\\r\\n\\r\\n'\ncat /www/version\n"


def build_slow_image(engine: dockerd.Engine) -> str:
    """web:v1 plus /cgi-bin/slow (busybox httpd runs CGI scripts from there)."""
    with tempfile.TemporaryDirectory(prefix="moorage-slow-") as tmp:
        script = Path(tmp) / "slow"
        script.write_text(_SLOW_CGI)
        script.chmod(0o755)
        (Path(tmp) / "Dockerfile").write_text(f"FROM {dockerd.WEB_V1}\nCOPY slow /www/cgi-bin/slow\n")
        engine.docker("build", "-q", "--network", "none", "-t", SLOW, tmp)
    return SLOW


def _stack(tmp_path: Path, hosts: dict[str, dockerd.Engine], engine: dockerd.Engine | None = None):
    # The proxy uses the host's network: its ports are this machine's, so free ones.
    return running_stack(
        tmp_path, hosts, engine=engine,
        MOORAGE_EDGE_IMAGE=EDGE_IMAGE,
        MOORAGE_EDGE_ADMIN_ADDRESS=f"127.0.0.1:{free_port()}",
        MOORAGE_EDGE_HTTP_PORT=str(free_port()),
    )


@pytest.fixture
def one_host(clean_db, edge_engines, tmp_path: Path) -> Iterator[Stack]:
    with _stack(tmp_path, {"a": edge_engines[0]}) as s:
        yield s


@pytest.fixture
def two_hosts(clean_db, edge_engines, tmp_path: Path) -> Iterator[Stack]:
    for e in edge_engines:
        e.start()
    hosts = {"a": edge_engines[0], "b": edge_engines[1]}
    with _stack(tmp_path, hosts) as s:
        s.hosts = hosts  # type: ignore[attr-defined]
        yield s


def spec(image: str, replicas: int = N, **extra) -> dict:
    return {"image": image, "replicas": replicas, "health_check": CHECK, "update_strategy": STRATEGY,
            "endpoint": {"port": 8080, "listen_port": LISTEN[0], "drain_timeout_s": 10}, **extra}


LISTEN = [free_port()]


def apply(stack: Stack, name: str, body: dict) -> dict:
    with stack.client() as c:
        r = c.put(f"/v1/deployments/{name}", json=body)
        assert r.status_code in (200, 201), r.text
        return r.json()


def settle(stack: Stack, d: dict) -> dict:
    rollout = stack.wait_rollout((d.get("current_rollout") or d)["id"], timeout=120)
    assert rollout["state"] == "succeeded", (rollout, stack.logs())
    return rollout


def serving(stack: Stack, name: str) -> list[dict]:
    return [u for u in stack.deployment(name)["endpoint"]["upstreams"] if u["state"] == "serving"]


def wait_serving(stack: Stack, name: str, n: int, revision: int | None = None) -> list[dict]:
    """``n`` serving upstreams, and the edges told of each (its UpstreamJoined is recorded
    once they were): the database's upstreams are committed before the edges get them."""
    def check():
        ups = serving(stack, name)
        ok = len(ups) == n and (revision is None or {u["revision"] for u in ups} == {revision})
        return ups if ok and {u["replica"] for u in ups} <= _joined(stack, name) else None
    return wait_for(check, 60, f"{n} serving upstreams of {name}, the edges told")


def _joined(stack: Stack, name: str) -> set[str]:
    """The replicas every edge was told of: an UpstreamJoined, and when it was a warning
    (an edge did not take the config then), an EdgeInSync after it (it has since)."""
    with stack.client() as c:
        items = c.get(f"/v1/deployments/{name}/events", params={"limit": 500}).json()["items"]
    in_sync = max((e["id"] for e in items if e["reason"] == "EdgeInSync"), default=-1)
    return {e["message"].split(" ", 1)[0] for e in items if e["reason"] == "UpstreamJoined"
            and (e["type"] == "normal" or e["id"] < in_sync)}


def url(stack: Stack, name: str) -> str:
    return stack.deployment(name)["endpoint"]["urls"][0] + "version"


def answers(target: str) -> str:
    r = httpx.get(target, timeout=5)
    # A proxy's error (a 502 has an empty body) reads as itself in an assertion.
    return r.text.strip() if r.status_code == 200 else f"HTTP {r.status_code} {r.text.strip()!r}"


# The traffic must have been steady for "no request failed" to mean something; a loaded
# machine (the suite runs two files at once) slows the generator itself, so half the asked
# rate is the bar, not the rate.
MIN_RATE = RPS / 2


def assert_clean(t: Traffic, before: str, after: str, stack: Stack | None = None,
                 name: str = "web") -> None:
    assert t.rate >= MIN_RATE, t.summary()
    assert not t.failures, (t.summary(), t.failures[:5], _timeline(t, stack, name))
    bodies = t.bodies()
    assert set(bodies) <= {before, after}, t.summary()
    assert bodies[0] == before and bodies[-1] == after, t.summary()


def _timeline(t: Traffic, stack: Stack | None, name: str) -> str:
    """When the failed requests were sent, beside the deployment's events: to see which
    step of the rollout they fell in."""
    if stack is None:
        return ""
    wall = time.time() - time.monotonic()
    failed = t.failures
    lines = [f"failed {len(failed)} from {datetime.fromtimestamp(failed[0].at + wall, UTC):%H:%M:%S.%f}"
             f" to {datetime.fromtimestamp(failed[-1].at + wall, UTC):%H:%M:%S.%f}"]
    with stack.client() as c:
        events = c.get(f"/v1/deployments/{name}/events", params={"limit": 200}).json()["items"]
    lines += [f"{e['time']} {e['reason']}: {e['message'][:160]}" for e in events]
    return "\n".join(lines)


def test_rolling_update_scale_down_and_restart_fail_no_request(one_host: Stack) -> None:
    stack = one_host
    settle(stack, apply(stack, "web", spec(dockerd.WEB_V1)))
    body = stack.deployment("web")
    assert body["endpoint"]["urls"][0] == f"http://127.0.0.1:{LISTEN[0]}/"
    assert body["endpoint"]["listen_port"] == LISTEN[0]
    wait_serving(stack, "web", N)
    target = url(stack, "web")
    wait_for(lambda: answers(target) == "v1", 30, "the endpoint to answer")

    # (1) a rolling update of 4 replicas: v1 -> v2
    with Traffic(target, rps=RPS) as t:
        time.sleep(1)
        settle(stack, apply(stack, "web", spec(dockerd.WEB_V2)))
        wait_serving(stack, "web", N, revision=2)
        time.sleep(1)
    assert_clean(t, "v1", "v2")

    # (2) a scale-down 4 -> 2
    with Traffic(target, rps=RPS) as t:
        time.sleep(1)
        settle(stack, apply(stack, "web", spec(dockerd.WEB_V2, replicas=2)))
        wait_serving(stack, "web", 2)
        time.sleep(1)
    assert_clean(t, "v2", "v2")
    assert len(stack.containers("web")) == 2

    # (4) a restart (every replica replaced), back on v1 first so the answers switch again
    settle(stack, apply(stack, "web", spec(dockerd.WEB_V1, replicas=2)))
    wait_serving(stack, "web", 2, revision=3)
    with Traffic(target, rps=RPS) as t:
        time.sleep(1)
        settle(stack, apply(stack, "web", spec(dockerd.WEB_V2, replicas=2)))
        with stack.client() as c:
            r = c.post("/v1/deployments/web/restart")
            assert r.status_code == 202, r.text
            settle(stack, r.json())
        wait_serving(stack, "web", 2, revision=5)
        time.sleep(1)
    assert_clean(t, "v1", "v2")

    with stack.client() as c:
        reasons = {e["reason"] for e in c.get("/v1/deployments/web/events", params={"limit": 500})
                   .json()["items"]}
        metrics = c.get("/metrics").text
    assert {"UpstreamJoined", "UpstreamDrained", "UpstreamRemoved", "EdgeProxyStarted"} <= reasons
    assert "moorage_upstreams" in metrics


def test_a_host_drain_fails_no_request(two_hosts: Stack) -> None:
    stack = two_hosts
    settle(stack, apply(stack, "web", spec(dockerd.WEB_V1)))  # spread: the least loaded host first
    ups = wait_serving(stack, "web", N)
    assert {u["host"] for u in ups} == {"a", "b"}  # across hosts: b's replicas via b's address
    target = url(stack, "web")
    with Traffic(target, rps=RPS) as t:
        time.sleep(1)
        with stack.client() as c:
            r = c.patch("/v1/hosts/b", json={"schedulable": False})
            assert r.status_code == 200, r.text
        b = stack.hosts["b"]  # type: ignore[attr-defined]

        def drained() -> bool:
            ups = serving(stack, "web")
            return {u["host"] for u in ups} == {"a"} and len(ups) == N and not stack.containers("web", engine=b)
        wait_for(drained, 90, "b drained")
        time.sleep(1)
    assert t.rate >= MIN_RATE, t.summary()
    assert not t.failures, (t.summary(), t.failures[:5])


def test_a_replica_killed_under_load_leaves_the_upstreams(one_host: Stack) -> None:
    stack = one_host
    settle(stack, apply(stack, "web", spec(dockerd.WEB_V1)))
    wait_serving(stack, "web", N)
    target = url(stack, "web")
    victim = stack.containers("web")[0]
    with Traffic(target, rps=RPS) as t:
        time.sleep(1)
        stack.engine.docker("kill", victim["id"])
        killed = time.monotonic()
        wait_for(lambda: victim["name"] not in {u["replica"] for u in serving(stack, "web")}, 30,
                 "the killed replica out of the upstreams")
        left_after = time.monotonic() - killed
        wait_serving(stack, "web", N)
        time.sleep(1)
    # At most the requests in flight to it when it died fail (the proxy retries GETs).
    in_flight = [a for a in t.failures if abs(a.at - killed) < 2]
    assert len(t.failures) == len(in_flight) <= 3, (t.summary(), t.failures[:5])
    print(f"killed replica out of the upstreams after {left_after:.2f}s; {t.summary()}")


def test_an_edge_starts_its_proxy_with_its_first_endpoint(one_host: Stack) -> None:
    """An edge that serves nothing runs no proxy (so it never reaches for the proxy's image):
    several edge ticks after a deployment without an endpoint converged, there is none; the
    first endpoint starts it."""
    stack = one_host

    def proxies() -> str:
        return stack.engine.docker("ps", "-aq", "--filter", "name=^moorage-edge$").stdout.strip()

    plain = {k: v for k, v in spec(dockerd.WEB_V1, replicas=1).items() if k != "endpoint"}
    settle(stack, apply(stack, "plain", plain))
    time.sleep(3)  # three edge ticks (the heartbeat's, 1 s here)
    assert proxies() == ""
    settle(stack, apply(stack, "web", spec(dockerd.WEB_V1, replicas=1)))
    wait_serving(stack, "web", 1)
    wait_for(lambda: answers(url(stack, "web")) == "v1", 30, "the endpoint")
    assert proxies() != ""


def test_the_proxy_killed_comes_back_with_its_upstreams(one_host: Stack) -> None:
    stack = one_host
    settle(stack, apply(stack, "web", spec(dockerd.WEB_V1, replicas=2)))
    ups = wait_serving(stack, "web", 2)
    target = url(stack, "web")
    # "serving" is what the reconciler set; the edge is told just after that commit.
    wait_for(lambda: answers(target) == "v1", 30, "the endpoint to answer")
    for how in (("kill", "moorage-edge"), ("rm", "-f", "moorage-edge")):
        stack.engine.docker(*how)
        wait_for(lambda: answers(target) == "v1", 30, f"the endpoint to answer after docker {how[0]}")
        seen = {answers(target + "?n=" + str(i)) for i in range(6)}
        assert seen == {"v1"}
    assert [u["address"] for u in serving(stack, "web")] == [u["address"] for u in ups]
    told = reasons(stack, "web")
    assert "EdgeProxyRestored" in told or "EdgeProxyStarted" in told


def test_an_edge_that_cannot_take_its_config_is_seen_until_it_has_it(one_host: Stack) -> None:
    """The proxy refuses a config whose port another process holds (Caddy keeps the one it
    had). The host, the metrics and each endpoint's events say so, and once the port is
    free the next periodic sync gives it the config and says that too."""
    stack = one_host
    settle(stack, apply(stack, "web", spec(dockerd.WEB_V1, replicas=1)))
    web = url(stack, "web")
    wait_for(lambda: answers(web) == "v1", 30, "the endpoint to answer")

    with socket.socket() as holder:  # not SO_REUSEPORT: the proxy's bind fails
        holder.bind(("0.0.0.0", 0))
        holder.listen()
        taken = holder.getsockname()[1]
        other = {**spec(dockerd.WEB_V2, replicas=1),
                 "endpoint": {"port": 8080, "listen_port": taken, "drain_timeout_s": 10}}
        settle(stack, apply(stack, "other", other))
        with stack.client() as c:
            error = wait_for(lambda: c.get("/v1/hosts/a").json()["edge_error"], 30, "the edge's error")
            assert str(taken) in error, error
            assert _metric(c, "moorage_edges_out_of_sync") == 1
        assert "EdgeOutOfSync" in reasons(stack, "web") and "EdgeOutOfSync" in reasons(stack, "other")
        assert answers(web) == "v1"  # the config it had still serves

    with stack.client() as c:
        wait_for(lambda: c.get("/v1/hosts/a").json()["edge_error"] is None, 30, "the edge in sync")
        assert _metric(c, "moorage_edges_out_of_sync") == 0
    wait_for(lambda: answers(url(stack, "other")) == "v2", 30, "the other endpoint to answer")
    with stack.client() as c:
        told = {e["reason"]: e["id"] for e in c.get("/v1/deployments/other/events",
                                                     params={"limit": 500}).json()["items"]
                if e["reason"].startswith("Edge")}
    assert told["EdgeInSync"] > told["EdgeOutOfSync"], told


def reasons(stack: Stack, name: str) -> list[str]:
    with stack.client() as c:
        items = c.get(f"/v1/deployments/{name}/events", params={"limit": 500}).json()["items"]
    return [e["reason"] for e in items]


def _metric(c: httpx.Client, name: str) -> float:
    for line in c.get("/metrics").text.splitlines():
        if line.startswith(name + " "):
            return float(line.split()[1])
    raise AssertionError(f"no {name} in /metrics")


def test_requests_in_flight_finish_before_their_replica_stops(one_host: Stack) -> None:
    stack = one_host
    build_slow_image(stack.engine)
    settle(stack, apply(stack, "web", spec(SLOW, replicas=2)))
    wait_serving(stack, "web", 2)
    slow = url(stack, "web").replace("/version", "/cgi-bin/slow")
    results: list[str] = []

    def call() -> None:
        try:
            r = httpx.get(slow, timeout=30, headers={"Connection": "close"})
            results.append(f"{r.status_code} {r.text.strip()}")
        except httpx.HTTPError as exc:
            results.append(repr(exc))

    # Four slow requests, round robin over both replicas; then one replica leaves.
    callers = [threading.Thread(target=call) for _ in range(4)]
    for c in callers:
        c.start()
        time.sleep(0.05)
    time.sleep(0.5)
    d = apply(stack, "web", spec(SLOW, replicas=1))
    for c in callers:
        c.join(timeout=30)
    settle(stack, d)
    assert results == ["200 v1"] * 4, results
    with stack.client() as c:
        drained = [e["message"] for e in c.get("/v1/deployments/web/events", params={"limit": 500})
                   .json()["items"] if e["reason"] == "UpstreamDrained"]
    assert any("finished" in m for m in drained), drained


def test_the_proxy_is_upgraded_to_a_new_image(one_host: Stack) -> None:
    stack = one_host
    settle(stack, apply(stack, "web", spec(dockerd.WEB_V1, replicas=2)))
    wait_serving(stack, "web", 2)
    target = url(stack, "web")
    wait_for(lambda: answers(target) == "v1", 30, "the endpoint")
    newer = "moorage-test/caddy:2-next"
    stack.engine.docker("tag", EDGE_IMAGE, newer)

    def proxy_image() -> str:
        out = stack.engine.docker("inspect", "--format", '{{index .Config.Labels "moorage.edge-image"}}',
                                  "moorage-edge", check=False)
        return out.stdout.strip()

    assert proxy_image() == EDGE_IMAGE
    # A new MOORAGE_EDGE_IMAGE (the workers and beat restarted with it, as an upgrade is).
    stack.kill("worker")
    stack.kill("beat")
    stack.env["MOORAGE_EDGE_IMAGE"] = newer
    stack.start_worker()
    stack.start("beat", "beat")
    wait_for(lambda: proxy_image() == newer, 60, "the proxy replaced by the new image")
    wait_for(lambda: answers(target) == "v1", 30, "the endpoint after the upgrade")
    assert {answers(target) for _ in range(6)} == {"v1"}
    with stack.client() as c:
        reasons = {e["reason"] for e in c.get("/v1/deployments/web/events", params={"limit": 500})
                   .json()["items"]}
    assert "EdgeProxyUpgraded" in reasons


def test_an_edge_reached_over_tcp_with_tls(clean_db, edge_engines, tmp_path: Path) -> None:
    """Nothing reaches the edge's loopback: the proxy is configured through the engine's API."""
    try:
        te = tls.start_tls_engine(TLS_ENGINE, TLS_PORT)
        dockerd.copy_images(edge_engines[0], te.engine, (*dockerd.TEST_IMAGES, EDGE_IMAGE))
    except dockerd.EngineUnavailable as exc:
        unavailable(str(exc))
    f = te.files
    body = {"name": "remote", "url": te.url, "edge": True,
            "tls": {"ca_cert": f.pem("ca"), "client_cert": f.pem("client-cert"), "client_key": f.pem("client-key")}}
    try:
        with _stack(tmp_path, {}, engine=te.engine) as stack:
            with stack.client() as c:
                r = c.post("/v1/hosts", json=body)
                assert r.status_code == 201, r.text
                assert r.json()["edge"] is True
            settle(stack, apply(stack, "web", spec(dockerd.WEB_V1, replicas=2)))
            wait_serving(stack, "web", 2)
            target = url(stack, "web")
            assert target.startswith("http://127.0.0.1:")  # the host part of its tcp:// url
            wait_for(lambda: answers(target) == "v1", 30, "the endpoint on the TLS host")
            with Traffic(target, rps=RPS) as t:
                time.sleep(1)
                settle(stack, apply(stack, "web", spec(dockerd.WEB_V2, replicas=2)))
                wait_serving(stack, "web", 2, revision=2)
                time.sleep(1)
            assert_clean(t, "v1", "v2", stack)
    finally:
        if te.engine.is_up():
            te.engine.remove_all_containers()


def test_an_edge_reached_over_ssh(clean_db, edge_engines, tmp_path: Path) -> None:
    try:
        engine = dockerd.Engine(SSH_ENGINE)
        engine.start()
        dockerd.copy_images(edge_engines[0], engine, (*dockerd.TEST_IMAGES, EDGE_IMAGE))
        server = sshd.start_sshd(engine.root / "ssh", SSH_PORT, engine.socket)
    except dockerd.EngineUnavailable as exc:
        unavailable(str(exc))
    body = {"name": "far", "url": server.url, "edge": True,
            "ssh": {"private_key": server.key("client"), "known_hosts": server.known_hosts("host")}}
    try:
        with _stack(tmp_path, {}, engine=engine) as stack:
            with stack.client() as c:
                r = c.post("/v1/hosts", json=body)
                assert r.status_code == 201, r.text
            settle(stack, apply(stack, "web", spec(dockerd.WEB_V1, replicas=2)))
            wait_serving(stack, "web", 2)
            target = url(stack, "web")
            wait_for(lambda: answers(target) == "v1", 30, "the endpoint on the ssh host")
            with Traffic(target, rps=RPS) as t:
                time.sleep(1)
                settle(stack, apply(stack, "web", spec(dockerd.WEB_V2, replicas=2)))
                wait_serving(stack, "web", 2, revision=2)
                time.sleep(1)
            assert_clean(t, "v1", "v2", stack)
    finally:
        if engine.is_up():
            engine.remove_all_containers()
        server.stop()
