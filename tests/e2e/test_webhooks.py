"""Webhook-triggered deploys end to end: a signed push rolls the deployment out on a real
engine; a push of an image that cannot be had fails on its rollout, visibly. (A push of a moved
tag, resolved from a real registry, is in test_registry.)"""

from __future__ import annotations

import json

import httpx
import pytest

from app.services.webhook_payloads import sign
from tests.e2e.conftest import Stack
from tests.e2e.test_rollouts import CHECK, versions
from tests.support.dockerd import WEB_V1

pytestmark = [pytest.mark.docker, pytest.mark.e2e]

STRATEGY = {"max_surge": 1, "max_unavailable": 0, "min_ready_s": 0.5, "progress_deadline_s": 15}


def deploy(stack: Stack, name: str, image: str) -> None:
    with stack.client() as c:
        r = c.put(f"/v1/deployments/{name}", json={
            "image": image, "replicas": 2, "health_check": CHECK, "update_strategy": STRATEGY})
        assert r.status_code == 201, r.text
    assert stack.wait_rollout(r.json()["current_rollout"]["id"])["state"] == "succeeded"


def deliver(stack: Stack, hook: dict, payload: dict, *, signed: bool = True) -> httpx.Response:
    body = json.dumps(payload).encode()
    headers = {"Content-Type": "application/json"}
    if signed:
        headers["X-Hub-Signature-256"] = sign(hook["secret"], body)
    return httpx.post(f"{stack.url}{hook['url']}", content=body, headers=headers, timeout=30)


def test_a_signed_push_rolls_out_and_a_bad_one_fails_visibly(stack: Stack) -> None:
    deploy(stack, "hooked", WEB_V1)
    with stack.client() as c:
        hook = c.post("/v1/deployments/hooked/webhooks",
                      json={"kind": "generic", "tag_pattern": r"v\d+"}).json()

    accepted = deliver(stack, hook, {"tag": "v2"})
    assert accepted.status_code == 202, accepted.text
    rollout = stack.wait_rollout(accepted.json()["rollout_id"])
    assert (rollout["kind"], rollout["state"]) == ("update", "succeeded"), rollout
    assert versions(stack, "hooked") == ["v2", "v2"]

    ignored = deliver(stack, hook, {"tag": "latest"})
    assert ignored.status_code == 200 and "does not match" in ignored.json()["ignored"]

    # A tag no registry has: the push is accepted, its rollout fails and says why, and
    # the deployment goes back to what ran before.
    missing = deliver(stack, hook, {"tag": "v404"})
    assert missing.status_code == 202, missing.text
    failed = stack.wait_rollout(missing.json()["rollout_id"], timeout=90)
    assert failed["state"] in ("failed", "rolled_back"), failed
    assert "v404" in failed["message"], failed["message"]
    with stack.client() as c:
        recorded = c.get(f"/v1/deployments/hooked/webhooks/{hook['id']}/deliveries").json()["items"]
        back = c.get("/v1/deployments/hooked").json()
    assert [d["outcome"] for d in recorded] == ["applied", "ignored", "applied"]
    assert recorded[0]["rollout_id"] == missing.json()["rollout_id"]
    if back["current_rollout"]["kind"] == "rollback":
        assert stack.wait_rollout(back["current_rollout"]["id"])["state"] == "succeeded"
    assert versions(stack, "hooked") == ["v2", "v2"]
