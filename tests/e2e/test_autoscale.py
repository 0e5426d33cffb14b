"""Usage per replica and autoscaling on it, end to end, on an engine of their own.

The replicas run a shell that burns a core while a file exists in a volume they share
(``/ctl/burn``), and idles otherwise: the test turns load on and off with one
``docker run`` that touches or removes it.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.conftest import unavailable
from tests.e2e.conftest import Stack, running_stack, wait_for
from tests.support import dockerd
from tests.support.dockerd import WEB_V1
from tests.support.parallel import engine_index

pytestmark = [pytest.mark.docker, pytest.mark.e2e]

ENGINE = engine_index(91)  # this suite's own engine (indices 91-93 are the autoscale suites')
VOLUME = "moorage-autoscale-ctl"
# Burns one core while /ctl/burn exists; checks again every 0.2 s otherwise.
BURN = ["/bin/sh", "-c", "trap 'exit 0' TERM; while :; do "
        "if [ -e /ctl/burn ]; then i=0; while [ $i -lt 20000 ]; do i=$((i+1)); done; "
        "else sleep 0.2; fi; done"]
FAST_USAGE = {"MOORAGE_USAGE_INTERVAL_S": "1", "MOORAGE_USAGE_TIMEOUT_S": "2",
              "MOORAGE_AUTOSCALE_METRIC_WINDOW_S": "4"}


@pytest.fixture(scope="module")
def engine() -> dockerd.Engine:
    try:
        dockerd.require_tools()
        eng = dockerd.Engine(ENGINE)
        eng.start()
        dockerd.build_test_images(eng)
    except dockerd.EngineUnavailable as exc:
        unavailable(str(exc))
    return eng


@pytest.fixture
def stack(clean_db, engine: dockerd.Engine, tmp_path: Path) -> Iterator[Stack]:
    with running_stack(tmp_path, {"as": engine}, **FAST_USAGE) as s:
        yield s
    engine.docker("volume", "rm", "-f", VOLUME, check=False)


def _load(stack: Stack, on: bool) -> None:
    script = "touch /ctl/burn" if on else "rm -f /ctl/burn"
    stack.engine.docker("run", "--rm", "--network", "none", "-v", f"{VOLUME}:/ctl", WEB_V1,
                        "/bin/sh", "-c", script)


def _replicas(stack: Stack, name: str) -> list[dict]:
    with stack.client() as c:
        r = c.get(f"/v1/deployments/{name}/replicas")
        r.raise_for_status()
        return r.json()["items"]


def _docker_stats(stack: Stack) -> dict[str, dict]:
    out = stack.engine.docker("stats", "--no-stream", "--format", "{{json .}}").stdout
    rows = [json.loads(line) for line in out.splitlines() if line.strip()]
    return {row["Name"]: row for row in rows}


def _bytes(text: str) -> int:
    """docker stats' sizes: "1.2MiB", "512KiB", "64MiB", "1GiB", "900B"."""
    for unit, factor in (("GiB", 1 << 30), ("MiB", 1 << 20), ("KiB", 1 << 10), ("kB", 1000),
                         ("MB", 10**6), ("GB", 10**9), ("B", 1)):
        if text.endswith(unit):
            return int(float(text[: -len(unit)]) * factor)
    raise ValueError(text)


def test_usage_is_sampled_per_replica_summed_and_exported(stack: Stack) -> None:
    with stack.client() as c:
        r = c.put("/v1/deployments/burn", json={
            "image": WEB_V1, "replicas": 2, "command": BURN,
            "resources": {"memory_mb": 64},
            "volumes": [{"source": VOLUME, "target": "/ctl"}]})
        assert r.status_code == 201, r.text
        assert stack.wait_rollout(r.json()["current_rollout"]["id"])["state"] == "succeeded"
    _load(stack, on=True)

    def busy() -> list[dict] | None:
        replicas = _replicas(stack, "burn")
        usages = [r["usage"] for r in replicas]
        # A busy loop, on two cores shared with whatever else runs: well above idle.
        if all(u and u["cpu_percent"] is not None and u["cpu_percent"] > 10 for u in usages):
            return replicas
        return None

    replicas = wait_for(busy, 60, "both replicas to show CPU usage", interval=0.5)
    for replica in replicas:
        u = replica["usage"]
        assert u["memory_bytes"] > 0, u
        assert 0 < u["memory_percent"] < 100, u  # of its 64 MiB limit
        assert u["cpu_percent"] <= 220, u  # two cores at most, with rounding
    # docker stats agrees within a sane margin (each reads its own moment: CPU moves).
    seen = _docker_stats(stack)
    for replica in replicas:
        theirs = seen[replica["container_name"]]
        assert float(theirs["CPUPerc"].rstrip("%")) > 5, theirs
        used, limit = (_bytes(x) for x in theirs["MemUsage"].split(" / "))
        assert limit == 64 << 20, theirs
        ours = replica["usage"]["memory_bytes"]
        assert abs(ours - used) <= max(used * 0.25, 256 << 10), (ours, theirs)

    with stack.client() as c:
        points = c.get("/v1/deployments/burn/usage").json()["points"]
    assert points and points[-1]["replicas"] == 2, points
    status = stack.deployment("burn")["status"]
    assert status["usage"]["replicas"] == 2, status
    assert status["usage"]["memory_bytes"] > 0, status

    # /metrics: per replica and per deployment for a read token; only counts without one.
    with stack.client() as c:
        text = c.get("/metrics").text
    anonymous = httpx.get(f"{stack.url}/metrics", timeout=30).text
    for name in ("moorage_replica_cpu_percent", "moorage_replica_memory_bytes",
                 "moorage_deployment_cpu_percent", "moorage_deployment_memory_bytes"):
        assert f"{name}{{" in text, name
        assert f"{name}{{" not in anonymous, name
    assert f'replica="{replicas[0]["container_name"]}"' in text
    _load(stack, on=False)


def _scaled_events(stack: Stack, name: str) -> list[dict]:
    with stack.client() as c:
        items = c.get(f"/v1/deployments/{name}/events", params={"limit": 500}).json()["items"]
    return [e for e in items if e["reason"] == "Scaled"]


def test_under_load_it_scales_up_and_back_down_once_the_load_stops(stack: Stack) -> None:
    policy = {"min_replicas": 1, "max_replicas": 3, "target_cpu_percent": 20,
              "scale_down_window_s": 5}
    with stack.client() as c:
        r = c.put("/v1/deployments/busy", json={
            "image": WEB_V1, "replicas": 1, "command": BURN, "autoscale": policy,
            "volumes": [{"source": VOLUME, "target": "/ctl"}]})
        assert r.status_code == 201, r.text
        assert stack.wait_rollout(r.json()["current_rollout"]["id"])["state"] == "succeeded"

    # Idle: it stays at one, and says why.
    def looked() -> dict | None:
        status = stack.deployment("busy")["status"]
        return status if status.get("autoscaler") and status.get("usage") else None

    status = wait_for(looked, 30, "the autoscaler's first look", interval=0.5)
    assert status["autoscaler"]["desired_replicas"] == 1, status

    t0 = time.monotonic()
    _load(stack, on=True)
    up = wait_for(lambda: (d := stack.deployment("busy"))["spec"]["replicas"] >= 2 and d,
                  90, "a scale-up under load", interval=0.5)
    scaled_up_s = time.monotonic() - t0
    events = _scaled_events(stack, "busy")
    assert events and events[0]["message"].startswith("autoscaler: CPU "), events
    assert "of a 20% target over 4 s: 1 → " in events[0]["message"], events
    assert up["revision"] == 1  # scaling makes no revision
    with stack.client() as c:
        rollout = c.get(f"/v1/rollouts/{events[0]['rollout_id']}").json()
    assert rollout["kind"] == "scale", rollout
    # The new replicas run (the reconciler acted on the autoscaler's count).
    wait_for(lambda: len([x for x in stack.containers("busy") if x["state"] == "running"])
             >= 2, 60, "the new replicas to run", interval=0.5)
    assert stack.deployment("busy")["spec"]["replicas"] <= 3  # never past max_replicas

    t1 = time.monotonic()
    _load(stack, on=False)
    wait_for(lambda: stack.deployment("busy")["spec"]["replicas"] == 1, 90,
             "back to min_replicas once the load stopped", interval=0.5)
    scaled_down_s = time.monotonic() - t1
    last = _scaled_events(stack, "busy")[-1]
    assert last["message"].endswith("→ 1"), last
    wait_for(lambda: len(stack.containers("busy", all_states=True)) == 1, 60,
             "the extra replicas to be removed", interval=0.5)
    print(f"\nautoscale e2e: up in {scaled_up_s:.1f} s, down in {scaled_down_s:.1f} s "
          f"(down window 5 s, metric window 4 s, 1 s sampling)")
