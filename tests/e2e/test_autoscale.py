"""Usage per replica and autoscaling on it, end to end, on an engine of their own.

The replicas run a shell that burns a core while a file exists in a volume they share
(``/ctl/burn``), and idles otherwise: the test turns load on and off with one
``docker run`` that touches or removes it.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.conftest import unavailable
from tests.e2e.conftest import Stack, running_stack, wait_for
from tests.support import dockerd
from tests.support.dockerd import WEB_V1

pytestmark = [pytest.mark.docker, pytest.mark.e2e]

ENGINE = 91  # this suite's own engine (indices 91-93 are the autoscale suites')
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
        if all(u and u["cpu_percent"] is not None and u["cpu_percent"] > 30 for u in usages):
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
        assert float(theirs["CPUPerc"].rstrip("%")) > 20, theirs
        assert "64MiB" in theirs["MemUsage"], theirs

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
