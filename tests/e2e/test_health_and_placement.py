"""What the core decides about health and placement, on a real engine (issue 10): a
ready replica that turns unhealthy is replaced, a failing probe is said at once (once),
and a fixed-port rolling update that can never surge fails fast or replaces in place."""

from __future__ import annotations

import time

import pytest

from tests.e2e.conftest import Stack, free_port, wait_for
from tests.support.dockerd import WEB_BAD, WEB_V1, WEB_V2

pytestmark = [pytest.mark.docker, pytest.mark.e2e]

CHECK = {"http": {"path": "/healthz", "port": 8080}, "interval_s": 1, "timeout_s": 1,
         "retries": 2}


def put(stack: Stack, name: str, body: dict) -> dict:
    with stack.client() as c:
        r = c.put(f"/v1/deployments/{name}", json=body)
        assert r.status_code in (200, 201), r.text
        return r.json()


def events(stack: Stack, name: str) -> list[dict]:
    with stack.client() as c:
        r = c.get(f"/v1/deployments/{name}/events", params={"limit": 500})
        r.raise_for_status()
        body = r.json()
        return body["items"] if isinstance(body, dict) else body


def reasons(stack: Stack, name: str) -> list[str]:
    return [e["reason"] for e in events(stack, name)]


def test_a_ready_replica_that_turns_unhealthy_is_replaced(stack: Stack) -> None:
    d = put(stack, "sick", {"image": WEB_V1, "replicas": 2, "health_check": CHECK})
    assert stack.wait_rollout(d["current_rollout"]["id"])["state"] == "succeeded"
    before = {c["slot"]: c["id"] for c in stack.containers("sick")}

    # Slot 0 stops answering its health check (its /healthz is gone) but keeps running.
    stack.engine.docker("exec", before["0"], "rm", "/www/healthz")

    phases: set[str] = set()

    def replaced() -> bool:
        phases.add(stack.deployment("sick")["status"]["phase"])
        now = {c["slot"]: c["id"] for c in stack.containers("sick")}
        return now.get("0") not in (None, before["0"]) and now.get("1") == before["1"]

    wait_for(replaced, timeout=60, what="the unhealthy replica replaced")
    seen = reasons(stack, "sick")
    assert "ReplicaUnhealthy" in seen and "ReplicaRestarted" in seen, seen
    # Moorage removed it itself: its replacement is no replica gone behind its back.
    assert "ReplicaMissing" not in seen, seen
    wait_for(lambda: stack.deployment("sick")["status"]["phase"] == "available", timeout=60,
             what="available again")
    assert "degraded" in phases, phases
    unhealthy = next(e for e in events(stack, "sick") if e["reason"] == "ReplicaUnhealthy")
    assert "2 health checks in a row" in unhealthy["message"], unhealthy


def test_a_failing_probe_is_said_at_once_and_only_once_per_replica(stack: Stack) -> None:
    # A deadline far away: the reason must come from the probe, not from the deadline.
    d = put(stack, "mute", {"image": WEB_BAD, "replicas": 1,
                            "health_check": {**CHECK, "retries": 30},
                            "update_strategy": {"progress_deadline_s": 600}})
    rollout_id = d["current_rollout"]["id"]

    def said() -> dict | None:
        with stack.client() as c:
            body = c.get(f"/v1/rollouts/{rollout_id}").json()
        return body if "fails its health check" in body["message"] else None

    said_at = wait_for(said, timeout=30, what="the rollout to name the failing probe")
    assert said_at["state"] == "in_progress", said_at
    time.sleep(5)  # five more failed probes, at one a second
    failed_events = [e for e in events(stack, "mute") if e["reason"] == "HealthCheckFailed"]
    assert len(failed_events) == 1, failed_events  # one replica, one failing episode
    assert failed_events[0]["type"] == "warning"


def test_fixed_port_rolling_updates_replace_in_place_or_fail_fast(stack: Stack) -> None:
    fixed = [{"container_port": 8080, "host_port": free_port(), "host_ip": "127.0.0.1"}]
    body = {"image": WEB_V1, "replicas": 1, "ports": fixed, "health_check": CHECK,
            "update_strategy": {"max_surge": 1, "max_unavailable": 0,
                                "progress_deadline_s": 600}}
    d = put(stack, "pinned", body)
    assert stack.wait_rollout(d["current_rollout"]["id"])["state"] == "succeeded"

    # One host, the port taken by the running replica, and no replica may be lost: the
    # surge replica can never be placed. It fails at once and rolls back to v1.
    started = time.monotonic()
    d = put(stack, "pinned", {**body, "image": WEB_V2})
    failed = stack.wait_rollout(d["current_rollout"]["id"], timeout=30)
    assert failed["state"] == "rolled_back", failed
    assert "needs a host with the port free" in failed["message"], failed
    assert time.monotonic() - started < 30

    # May lose one: replaced in place, stop first.
    relaxed = {**body, "update_strategy": {**body["update_strategy"], "max_unavailable": 1}}
    d = put(stack, "pinned", {**relaxed, "image": WEB_V2})
    done = stack.wait_rollout(d["current_rollout"]["id"], timeout=60)
    assert done["state"] == "succeeded", done
