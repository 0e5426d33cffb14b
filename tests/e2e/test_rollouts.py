"""Health-gated rolling updates, rollbacks and restarts against a real engine."""

from __future__ import annotations

import time

import docker
import httpx
import pytest

from tests.e2e.conftest import Stack, wait_for
from tests.e2e.sampling import Sampler
from tests.support.dockerd import WEB_BAD, WEB_CRASH, WEB_V1, WEB_V2

pytestmark = [pytest.mark.docker, pytest.mark.e2e]

N = 4
CHECK = {"http": {"path": "/healthz", "port": 8080}, "interval_s": 1, "timeout_s": 1,
         "retries": 2}
STRATEGY = {"max_surge": 1, "max_unavailable": 0, "min_ready_s": 0.5,
            "progress_deadline_s": 8}


def spec(image: str, **extra) -> dict:
    return {"image": image, "replicas": N, "health_check": CHECK,
            "update_strategy": STRATEGY, **extra}


def put(stack: Stack, name: str, body: dict) -> dict:
    with stack.client() as c:
        r = c.put(f"/v1/deployments/{name}", json=body)
        assert r.status_code in (200, 201), r.text
        return r.json()


def versions_by_id(stack: Stack, name: str) -> dict[str, str]:
    """What each running container serves at /version (asked on our own bridge)."""
    api = docker.APIClient(base_url=stack.engine.url)
    try:
        out = {}
        for c in api.containers(filters={"label": f"moorage.deployment={name}"}):
            ip = next(iter(c["NetworkSettings"]["Networks"].values()))["IPAddress"]
            try:
                out[c["Id"][:12]] = httpx.get(f"http://{ip}:8080/version", timeout=2).text.strip()
            except httpx.HTTPError:
                out[c["Id"][:12]] = "unreachable"
        return out
    finally:
        api.close()


def versions(stack: Stack, name: str) -> list[str]:
    return sorted(versions_by_id(stack, name).values())


def container_ids(stack: Stack, name: str) -> set[str]:
    return {c["id"] for c in stack.containers(name, all_states=True)}


def test_rolling_update_rollback_and_restart(stack: Stack) -> None:
    d = put(stack, "roll", spec(WEB_V1))
    assert stack.wait_rollout(d["current_rollout"]["id"])["state"] == "succeeded"
    assert versions(stack, "roll") == ["v1"] * N
    with stack.client() as c:
        replicas = c.get("/v1/deployments/roll/replicas").json()["items"]
    assert {r["health"] for r in replicas} == {"healthy"}
    assert all("HTTP 200" in (r["last_probe"] or "") for r in replicas)

    # v1 -> v2 within the bounds, sampled every 100 ms.
    with Sampler([stack.engine.url], "roll") as sampler:
        d = put(stack, "roll", spec(WEB_V2))
        rollout = stack.wait_rollout(d["current_rollout"]["id"])
    assert rollout["state"] == "succeeded", rollout
    assert rollout["progress"] == {"desired": N, "updated": N, "ready": N, "unavailable": 0}
    sampler.assert_bounds(N, 1, 0)
    assert versions(stack, "roll") == ["v2"] * N

    # v2 -> bad: never healthy, fails by its deadline, rolls back to v2 on its own.
    with Sampler([stack.engine.url], "roll") as sampler:
        d = put(stack, "roll", spec(WEB_BAD))
        failed = stack.wait_rollout(d["current_rollout"]["id"], timeout=60)
        assert failed["state"] == "rolled_back", failed
        assert "deadline" in failed["message"], failed["message"]
        assert "replica roll." in failed["message"], failed["message"]  # the probe's output
        current = stack.deployment("roll")
        assert current["current_rollout"]["kind"] == "rollback"
        back = stack.wait_rollout(current["current_rollout"]["id"], timeout=60)
    assert back["state"] == "succeeded", back
    sampler.assert_bounds(N, 1, 0)
    assert versions(stack, "roll") == ["v2"] * N
    assert stack.deployment("roll")["spec"]["image"] == WEB_V2

    # Manual rollback to revision 1.
    with stack.client() as c:
        r = c.post("/v1/deployments/roll/rollback", json={"revision": 1})
        assert r.status_code == 202, r.text
        assert r.json()["kind"] == "rollback"
    assert stack.wait_rollout(r.json()["id"])["state"] == "succeeded"
    assert versions(stack, "roll") == ["v1"] * N

    # Restart: every container is new, same image.
    before = container_ids(stack, "roll")
    with stack.client() as c:
        r = c.post("/v1/deployments/roll/restart")
        assert r.status_code == 202, r.text
    assert stack.wait_rollout(r.json()["id"])["state"] == "succeeded"
    after = container_ids(stack, "roll")
    assert len(after) == N and not (before & after)
    assert versions(stack, "roll") == ["v1"] * N


def test_new_apply_supersedes_and_keeps_updated_replicas(stack: Stack) -> None:
    d = put(stack, "sup", spec(WEB_V1))
    stack.wait_rollout(d["current_rollout"]["id"])
    slow = {**STRATEGY, "min_ready_s": 1.5, "progress_deadline_s": 60}
    first = put(stack, "sup", spec(WEB_V2, update_strategy=slow))
    # Once some replicas run v2, change only the replica count.
    wait_for(lambda: versions(stack, "sup").count("v2") >= 2, 30, "two v2 replicas")
    v2_before = {cid for cid, v in versions_by_id(stack, "sup").items() if v == "v2"}
    with stack.client() as c:
        r = c.patch("/v1/deployments/sup", json={"replicas": N + 1})
        assert r.status_code == 200, r.text
        second = r.json()["current_rollout"]
    with stack.client() as c:
        assert c.get(f"/v1/rollouts/{first['current_rollout']['id']}").json()["state"] == \
            "superseded"
    assert stack.wait_rollout(second["id"])["state"] == "succeeded"
    assert versions(stack, "sup") == ["v2"] * (N + 1)
    kept = v2_before & container_ids(stack, "sup")
    assert len(kept) >= 2, "replicas already on the newest template were replaced"


def test_worker_killed_mid_rollout_finishes_within_bounds(stack: Stack) -> None:
    d = put(stack, "kill", spec(WEB_V1))
    stack.wait_rollout(d["current_rollout"]["id"])
    with Sampler([stack.engine.url], "kill") as sampler:
        # The dead worker's lease must expire first: give the deadline room for that.
        patient = {**STRATEGY, "min_ready_s": 1, "progress_deadline_s": 60}
        d = put(stack, "kill", spec(WEB_V2, update_strategy=patient))
        wait_for(lambda: "v2" in versions(stack, "kill"), 30, "the first v2 replica")
        stack.kill("worker")
        time.sleep(1)
        stack.start_worker()
        rollout = stack.wait_rollout(d["current_rollout"]["id"], timeout=90)
    assert rollout["state"] == "succeeded", rollout
    try:
        sampler.assert_bounds(N, 1, 0)
    except AssertionError:
        with stack.client() as c:
            events = c.get("/v1/deployments/kill/events", params={"limit": 500}).json()
        for e in events["items"]:
            print(e["time"][11:23], e["reason"], e["message"])
        raise
    assert versions(stack, "kill") == ["v2"] * N
    assert len(container_ids(stack, "kill")) == N


# A crash loop is no progress: the deadline counts from the last replica that became ready,
# however often a crashed container is replaced. Slack: the pass that notices, on a busy box.
SLACK_S = 10


def test_a_crashing_deployment_fails_at_its_progress_deadline(stack: Stack) -> None:
    deadline = 20
    started = time.monotonic()
    d = put(stack, "crashnew", {"image": WEB_CRASH, "replicas": 3,
                                "update_strategy": {"progress_deadline_s": deadline}})
    failed = stack.wait_rollout(d["current_rollout"]["id"], timeout=deadline + 60)
    took = time.monotonic() - started
    print(f"crashing deployment: {failed['state']} after {took:.1f}s: {failed['message']}")
    assert failed["state"] == "failed", failed
    assert f"no progress for {deadline}s (progress deadline)" in failed["message"], failed
    assert deadline - 1 < took < deadline + SLACK_S, took
    status = stack.deployment("crashnew")["status"]
    assert status["phase"] == "failed" and "progress deadline" in status["message"], status


def test_an_update_to_a_crashing_image_rolls_back_at_its_deadline_within_the_surge(
    stack: Stack,
) -> None:
    n, deadline = 3, 15
    strategy = {"max_surge": 1, "max_unavailable": 0, "min_ready_s": 0.5,
                "progress_deadline_s": 60}
    body = {"image": WEB_V1, "replicas": n, "health_check": CHECK, "update_strategy": strategy}
    d = put(stack, "crashup", body)
    assert stack.wait_rollout(d["current_rollout"]["id"])["state"] == "succeeded"

    with Sampler([stack.engine.url], "crashup") as sampler:
        started = time.monotonic()
        d = put(stack, "crashup", {**body, "image": WEB_CRASH,
                                   "update_strategy": {**strategy, "progress_deadline_s": deadline}})
        failed = stack.wait_rollout(d["current_rollout"]["id"], timeout=deadline + 60)
        took = time.monotonic() - started
        rollback = stack.deployment("crashup")["current_rollout"]
        back = stack.wait_rollout(rollback["id"], timeout=60)
    print(f"update to a crashing image: {failed['state']} after {took:.1f}s, "
          f"at most {sampler.most} containers: {failed['message']}")
    assert failed["state"] == "rolled_back", failed
    assert f"no progress for {deadline}s (progress deadline)" in failed["message"], failed
    assert deadline - 1 < took < deadline + SLACK_S, took
    assert rollback["kind"] == "rollback" and back["state"] == "succeeded", back
    # Crashed containers count too: never more than replicas + max_surge on the engine.
    assert sampler.most <= n + 1, sampler.samples
    sampler.assert_bounds(n, 1, 0)
    assert versions(stack, "crashup") == ["v1"] * n
    assert len(container_ids(stack, "crashup")) == n
