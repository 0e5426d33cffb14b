"""Many hosts: spread, constraints, a lost host, its return, drain, and no room at all."""

from __future__ import annotations

from collections import Counter

import pytest

from tests.e2e.conftest import GRACE_S, Stack, wait_for
from tests.e2e.sampling import Sampler
from tests.support import dockerd

pytestmark = [pytest.mark.docker, pytest.mark.e2e]

CHECK = {"http": {"path": "/healthz", "port": 8080}, "interval_s": 1, "timeout_s": 1,
         "retries": 2}


def placement(stack: Stack, name: str) -> Counter[str]:
    counts: Counter[str] = Counter()
    for host, eng in stack.hosts.items():  # type: ignore[attr-defined]
        if eng.is_up():
            counts[host] = sum(c["state"] == "running"
                               for c in stack.containers(name, engine=eng))
    return counts


def apply(stack: Stack, name: str, **spec) -> dict:
    with stack.client() as c:
        r = c.put(f"/v1/deployments/{name}", json={"image": dockerd.WEB_V1, **spec})
        assert r.status_code in (200, 201), r.text
        return r.json()


def test_spread_and_constraints(fleet: Stack) -> None:
    d = apply(fleet, "spread", replicas=6)
    assert fleet.wait_rollout(d["current_rollout"]["id"])["state"] == "succeeded"
    assert placement(fleet, "spread") == {"h1": 2, "h2": 2, "h3": 2}

    d = apply(fleet, "eu-only", replicas=4, placement={"constraints": ["region==eu"]})
    assert fleet.wait_rollout(d["current_rollout"]["id"])["state"] == "succeeded"
    assert placement(fleet, "eu-only") == {"h1": 4, "h2": 0, "h3": 0}


def test_too_big_for_the_fleet_says_why(fleet: Stack) -> None:
    apply(fleet, "huge", replicas=3, resources={"memory_mb": 4_000_000})

    def pending_message() -> str:
        status = fleet.deployment("huge")["status"]
        return status["message"] if "0/3 hosts match" in status["message"] else ""

    message = wait_for(pending_message, 30, "the pending reason")
    assert "3 have no memory left" in message, message


def test_lost_host_replicas_move_and_come_back_once(fleet: Stack) -> None:
    d = apply(fleet, "ha", replicas=6)
    assert fleet.wait_rollout(d["current_rollout"]["id"])["state"] == "succeeded"
    h3 = fleet.hosts["h3"]  # type: ignore[attr-defined]
    # Lost without warning: its replicas keep running, unseen. (A graceful stop exits them
    # first; they would be restarted elsewhere at once, before the host is missed, and
    # the host's story would go to no deployment: tests/integration/test_drift_check.py.)
    h3.kill()

    # Within the grace period plus a reconcile, all 6 run on the two others.
    wait_for(lambda: sum(placement(fleet, "ha").values()) == 6, GRACE_S + 30,
             "replicas to move off the lost host")
    assert placement(fleet, "ha") == {"h1": 3, "h2": 3}
    wait_for(lambda: fleet.deployment("ha")["status"]["phase"] == "available", 30,
             "the deployment to be available again")

    # The host returns: its stale containers go, and no replica runs twice.
    h3.start()
    wait_for(lambda: fleet.containers("ha", all_states=True, engine=h3) == [], 40,
             "stale containers on the returned host to be removed")
    total = placement(fleet, "ha")
    assert sum(total.values()) == 6, total
    slots = [c["slot"] for e in fleet.hosts.values()  # type: ignore[attr-defined]
             for c in fleet.containers("ha", engine=e)]
    assert sorted(slots) == sorted(str(i) for i in range(6))
    # The deployment's events tell the host's story.
    with fleet.client() as c:
        events = c.get("/v1/deployments/ha/events", params={"limit": 500}).json()["items"]
    told = [e["reason"] for e in events if e["reason"] in ("HostUnreachable", "HostLost", "HostReady")]
    # (A pass that finds the host gone before the heartbeat does says so too: dedupe.)
    firsts = [r for i, r in enumerate(told) if r not in told[:i]]
    assert firsts == ["HostUnreachable", "HostLost", "HostReady"], told


def test_drain_moves_replicas_without_downtime(fleet: Stack) -> None:
    d = apply(fleet, "drain", replicas=3, health_check=CHECK,
              update_strategy={"max_surge": 1, "max_unavailable": 0, "min_ready_s": 0.5})
    assert fleet.wait_rollout(d["current_rollout"]["id"])["state"] == "succeeded"
    urls = [e.url for e in fleet.hosts.values()]  # type: ignore[attr-defined]
    with Sampler(urls, "drain") as sampler:
        with fleet.client() as c:
            r = c.patch("/v1/hosts/h1", json={"schedulable": False})
            assert r.status_code == 200 and r.json()["state"] == "draining", r.text
        wait_for(lambda: placement(fleet, "drain")["h1"] == 0
                 and sum(placement(fleet, "drain").values()) == 3, 60, "h1 to be drained")
        # A drain now starts at the PATCH and can end within a second, sooner than a
        # loaded machine takes a dozen samples: go on sampling the settled state too, so
        # the bound is checked over enough of them.
        wait_for(lambda: len(sampler.samples) > 12, 30, "a dozen samples")
    sampler.assert_bounds(3, 1, 0)
    with fleet.client() as c:
        # Drained: it holds no replicas, so it may go.
        wait_for(lambda: c.delete("/v1/hosts/h1").status_code == 204, 20, "host delete")
        r = c.delete("/v1/hosts/h2")
        assert r.status_code == 409, r.text
