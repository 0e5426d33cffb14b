"""Autoscaling's desired state through the API, and the autoscaler's looks, against a
real Postgres. No engine: the samples a worker would take are written as it writes
them, on replica records as a reconcile pass records them."""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import update

from app.db import session_scope, utcnow
from app.models import Host, Replica, Rollout, UsageSample
from app.repositories import deployments as deployment_repo
from app.services import autoscaler

POLICY = {"min_replicas": 1, "max_replicas": 5, "target_cpu_percent": 50,
          "scale_down_window_s": 0}


def _put(client: TestClient, name: str, **spec: Any) -> dict:
    r = client.put(f"/v1/deployments/{name}", json={"image": "nginx:1.27", **spec})
    assert r.status_code in (200, 201), r.text
    return r.json()


def _patch(client: TestClient, name: str, patch: dict) -> dict:
    r = client.patch(f"/v1/deployments/{name}", json=patch,
                     headers={"content-type": "application/merge-patch+json"})
    assert r.status_code == 200, r.text
    return r.json()


def _events(client: TestClient, name: str) -> list[dict]:
    return client.get(f"/v1/deployments/{name}/events").json()["items"]


def test_autoscale_is_the_deployments_not_a_revisions(client: TestClient) -> None:
    d = _put(client, "web", replicas=2, autoscale=POLICY)
    assert d["spec"]["autoscale"]["max_replicas"] == 5
    assert (d["revision"], d["spec"]["replicas"]) == (1, 2)
    revision = client.get("/v1/deployments/web/revisions/1").json()
    assert "autoscale" not in revision["spec"]

    # A new policy alone: no revision, no rollout, no container replaced.
    again = _put(client, "web", replicas=2, autoscale={**POLICY, "max_replicas": 6})
    assert again["revision"] == 1
    assert again["current_rollout"]["id"] == d["current_rollout"]["id"]
    assert again["resource_version"] > d["resource_version"]
    assert again["spec"]["autoscale"]["max_replicas"] == 6
    changed = [e for e in _events(client, "web") if e["reason"] == "AutoscaleChanged"]
    assert changed and "1–6 replicas" in changed[-1]["message"], changed

    # A patch of something else keeps it; an image change is a revision that keeps it.
    patched = _patch(client, "web", {"image": "nginx:1.28"})
    assert patched["revision"] == 2
    assert patched["spec"]["autoscale"]["max_replicas"] == 6
    # And a rollback brings back a template, not an autoscale policy.
    r = client.post("/v1/deployments/web/rollback", json={"revision": 1})
    assert r.status_code == 202, r.text
    assert client.get("/v1/deployments/web").json()["spec"]["autoscale"]["max_replicas"] == 6


def test_while_set_the_autoscaler_owns_the_count(client: TestClient) -> None:
    _put(client, "web", replicas=3, autoscale=POLICY)
    # An apply's replicas are only where it starts: a later one does not move the count.
    assert _put(client, "web", replicas=1, autoscale=POLICY)["spec"]["replicas"] == 3
    assert _patch(client, "web", {"replicas": 4})["spec"]["replicas"] == 3
    # Bounds that exclude the count move it, as a scale.
    d = _patch(client, "web", {"autoscale": {"max_replicas": 2}})
    assert d["spec"]["replicas"] == 2
    assert d["current_rollout"]["kind"] == "scale"
    # Off: the count stays, and is the apply's again.
    off = _patch(client, "web", {"autoscale": None})
    assert off["spec"]["autoscale"] is None and off["spec"]["replicas"] == 2
    assert "autoscale off: replicas stay at 2" in _events(client, "web")[-1]["message"]
    assert _patch(client, "web", {"replicas": 4})["spec"]["replicas"] == 4


def test_a_new_policy_starts_from_the_apply_clamped(client: TestClient) -> None:
    _put(client, "web", replicas=9)
    d = _patch(client, "web", {"autoscale": POLICY})
    assert d["spec"]["replicas"] == 5  # 9, within 1-5


def test_bounds_are_validated(client: TestClient) -> None:
    r = client.put("/v1/deployments/web", json={
        "image": "nginx:1.27", "autoscale": {**POLICY, "min_replicas": 6}})
    assert r.status_code == 422, r.text
    assert "min_replicas is more than max_replicas" in r.text


# ---- the autoscaler's looks --------------------------------------------------------------


def _running(name: str, replicas: int, cpu: float, *, host: bool = True) -> list[str]:
    """``replicas`` running records of deployment ``name`` with samples at ``cpu`` %,
    its creation rollout over, and (``host``) one roomy ready host."""
    ids = []
    with session_scope() as session:
        deployment = deployment_repo.get_by_name(session, name)
        session.execute(update(Rollout).where(Rollout.deployment_id == deployment.id)
                        .values(state="succeeded", finished_at=utcnow()))
        h = Host(name=f"h-{uuid.uuid4().hex[:6]}", url="unix:///nowhere.sock", state="ready",
                 schedulable=host, cpus=64, memory_bytes=1 << 36)
        session.add(h)
        session.flush()
        now = utcnow()
        for slot in range(replicas):
            cid = uuid.uuid4().hex * 2
            ids.append(cid)
            session.add(Replica(deployment_id=deployment.id, host_id=h.id, slot=slot,
                                revision=deployment.revision, template_hash="x",
                                container_id=cid, container_name=f"{name}-{slot}",
                                state="running"))
            for back in (2, 1):
                session.add(UsageSample(
                    deployment_id=deployment.id, container_id=cid,
                    sampled_at=now - timedelta(seconds=back), cpu_percent=cpu,
                    memory_bytes=1 << 20, memory_percent=1.0, cpu_total_ns=1, online_cpus=2))
    return ids


def test_the_autoscaler_scales_up_with_its_reason_and_a_scale_rollout(client: TestClient) -> None:
    _put(client, "web", replicas=2, autoscale=POLICY)
    _running("web", 2, cpu=100)
    looks = autoscaler.look_at_all()
    assert [(x.current, x.desired) for x in looks] == [(2, 4)]
    d = client.get("/v1/deployments/web").json()
    assert d["spec"]["replicas"] == 4
    assert d["current_rollout"]["kind"] == "scale"
    assert d["revision"] == 1
    status = d["status"]["autoscaler"]
    assert (status["current_replicas"], status["desired_replicas"]) == (2, 4)
    assert status["last_decision"] == "CPU 100% of a 50% target over 30 s: 2 → 4"
    scaled = [e for e in _events(client, "web") if e["reason"] == "Scaled"]
    assert scaled[-1]["message"] == "autoscaler: CPU 100% of a 50% target over 30 s: 2 → 4"
    assert scaled[-1]["rollout_id"] == d["current_rollout"]["id"]
    # The samples show on the replicas and summed in the status.
    replicas = client.get("/v1/deployments/web/replicas").json()["items"]
    assert [r["usage"]["cpu_percent"] for r in replicas] == [100, 100]
    assert d["status"]["usage"]["cpu_percent"] == 200
    assert d["status"]["usage"]["replicas"] == 2
    # A series a chart can draw: a point per tick (and, once the last is half an interval
    # old, one for now), summed over the replicas.
    series = client.get("/v1/deployments/web/usage").json()
    points = [(p["cpu_percent"], p["replicas"]) for p in series["points"]]
    assert points[:2] == [(200, 2), (200, 2)] and set(points) == {(200, 2)}, points
    assert [p["at"] for p in series["points"]] == sorted({p["at"] for p in series["points"]})
    assert series["interval_s"] > 0


def test_a_scale_up_that_cannot_be_placed_says_so(client: TestClient) -> None:
    _put(client, "web", replicas=2, autoscale=POLICY)
    _running("web", 2, cpu=100, host=False)  # its only host is drained
    [look] = autoscaler.look_at_all()
    assert look.desired == 2
    assert "only 0 can be placed: 0/1 hosts match: 1 is not schedulable" in look.message


def test_it_waits_while_an_update_rolls_out(client: TestClient) -> None:
    _put(client, "web", replicas=2, autoscale=POLICY)
    _running("web", 2, cpu=100)
    _patch(client, "web", {"image": "nginx:1.28"})
    [look] = autoscaler.look_at_all()
    assert (look.desired, look.message) == (2, "waits for the update rollout to end: stays at 2")


def test_and_scales_down_when_idle(client: TestClient) -> None:
    _put(client, "web", replicas=4, autoscale=POLICY)
    _running("web", 4, cpu=5)
    [look] = autoscaler.look_at_all()
    assert (look.current, look.desired) == (4, 1)
