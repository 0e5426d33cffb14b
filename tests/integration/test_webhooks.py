"""Webhooks against a real Postgres: management, signed deliveries from each provider,
duplicates and replays, filters, limits, and the record of every delivery.

No worker runs here: what is checked is the desired state a delivery records (a new
revision and its rollout). The e2e suite runs a webhook-triggered rollout for real.
"""

from __future__ import annotations

import copy
import json
import logging
import os
import uuid
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient

from app.logs import RedactSecrets
from app.services.webhook_payloads import sign
from tests.conftest import AUTH
from tests.support.webhook_payloads import (
    DIGEST,
    DOCKERHUB_PUSH,
    GITHUB_PING,
    GITHUB_REGISTRY_PACKAGE,
    MANIFEST,
    registry_event,
    tagged,
)

PROBLEM = "application/problem+json"


@pytest.fixture
def public(client: TestClient) -> TestClient:
    """What a registry or CI is: no bearer token."""
    return TestClient(client.app)


def ok(resp: httpx.Response, status: int = 200) -> Any:
    assert resp.status_code == status, resp.text
    return resp.json() if resp.content else None


def problem(resp: httpx.Response, status: int) -> dict[str, Any]:
    assert resp.status_code == status, resp.text
    assert resp.headers["content-type"].startswith(PROBLEM)
    return resp.json()


def deploy(client: TestClient, image: str, name: str = "web", **spec: Any) -> dict[str, Any]:
    resp = client.put(f"/v1/deployments/{name}", json={"image": image, "replicas": 2, **spec})
    assert resp.status_code in (200, 201), resp.text
    return resp.json()


def make_hook(client: TestClient, kind: str, name: str = "web", **extra: Any) -> dict[str, Any]:
    return ok(client.post(f"/v1/deployments/{name}/webhooks", json={"kind": kind, **extra}), 201)


def post(public: TestClient, hook: dict[str, Any], payload: Any, *, secret: str | None = "hook",
         headers: dict[str, str] | None = None, raw: bytes | None = None) -> httpx.Response:
    body = raw if raw is not None else json.dumps(payload).encode()
    h = {"Content-Type": "application/json", **(headers or {})}
    key = hook.get("secret") if secret == "hook" else secret
    if key is not None:
        h["X-Hub-Signature-256"] = sign(key, body)
    return public.post(hook["url"], content=body, headers=h)


def deliveries(client: TestClient, hook: dict[str, Any], name: str = "web") -> list[dict[str, Any]]:
    return ok(client.get(f"/v1/deployments/{name}/webhooks/{hook['id']}/deliveries"))["items"]


def current(client: TestClient, name: str = "web") -> dict[str, Any]:
    return ok(client.get(f"/v1/deployments/{name}"))


# -- management --------------------------------------------------------------------------


def test_create_list_delete_and_the_secret_is_shown_once(client: TestClient) -> None:
    deploy(client, "nginx:1.27")
    resp = client.post("/v1/deployments/web/webhooks", json={"kind": "github", "tag_pattern": r"1\..*"})
    made = ok(resp, 201)
    assert made["url"] == f"/v1/hooks/{made['id']}"
    assert resp.headers["Location"] == f"/v1/deployments/web/webhooks/{made['id']}"
    assert len(made["secret"]) == 64
    assert (made["kind"], made["tag_pattern"], made["deployment"]) == ("github", r"1\..*", "web")
    hub = make_hook(client, "dockerhub")
    assert hub["secret"] is None

    listed = client.get("/v1/deployments/web/webhooks")
    assert made["secret"] not in listed.text
    items = ok(listed)["items"]
    assert [h["id"] for h in items] == [made["id"], hub["id"]]
    assert all("secret" not in h for h in items)

    assert client.delete(f"/v1/deployments/web/webhooks/{made['id']}").status_code == 204
    problem(client.delete(f"/v1/deployments/web/webhooks/{made['id']}"), 404)
    problem(client.get(f"/v1/deployments/web/webhooks/{made['id']}/deliveries"), 404)
    assert [h["id"] for h in ok(client.get("/v1/deployments/web/webhooks"))["items"]] == [hub["id"]]


@pytest.mark.parametrize(("body", "field"), [
    ({"kind": "gitlab"}, "body.kind"),
    ({}, "body.kind"),
    ({"kind": "generic", "tag_pattern": "(unclosed"}, "body.tag_pattern"),
    ({"kind": "generic", "tag_pattern": r"(v)\d+\1"}, "body.tag_pattern"),  # RE2: no backreferences
    ({"kind": "generic", "tag_pattern": r"(?!dev).*"}, "body.tag_pattern"),  # nor lookaround
    ({"kind": "generic", "tag_pattern": "x" * 257}, "body.tag_pattern"),
    ({"kind": "generic", "secret": "mine"}, "body.secret"),
])
def test_invalid_webhook_requests_are_422(client: TestClient, body: dict[str, Any], field: str) -> None:
    deploy(client, "nginx:1.27")
    details = problem(client.post("/v1/deployments/web/webhooks", json=body), 422)
    assert field in [".".join(map(str, e["loc"])) for e in details["errors"]], details
    assert ok(client.get("/v1/deployments/web/webhooks"))["items"] == []


def test_webhooks_of_a_missing_deployment_are_404(client: TestClient) -> None:
    problem(client.post("/v1/deployments/ghost/webhooks", json={"kind": "generic"}), 404)
    problem(client.get("/v1/deployments/ghost/webhooks"), 404)
    deploy(client, "nginx:1.27", name="other")
    hook = make_hook(client, "generic", name="other")
    problem(client.delete(f"/v1/deployments/web/webhooks/{hook['id']}"), 404)  # not web's


def test_a_read_token_cannot_see_webhook_urls(client: TestClient) -> None:
    deploy(client, "nginx:1.27")
    make_hook(client, "dockerhub")
    read = ok(client.post("/v1/tokens", json={"name": "r", "scopes": ["read"]}), 201)["token"]
    problem(client.get("/v1/deployments/web/webhooks", headers={"Authorization": f"Bearer {read}"}), 403)


# -- generic -------------------------------------------------------------------------------


def test_a_signed_generic_push_starts_an_update_rollout(client: TestClient, public: TestClient) -> None:
    before = deploy(client, "nginx:1.27", secrets={"DB": "s3cret-value"})
    hook = make_hook(client, "generic")
    resp = post(public, hook, {"tag": "1.28"}, headers={"X-Delivery-Id": "ci-run-1"})
    accepted = ok(resp, 202)
    assert set(accepted) == {"rollout_id"}

    after = current(client)
    assert after["revision"] == before["revision"] + 1
    assert after["spec"]["image"] == "nginx:1.28"
    assert after["spec"]["secret_keys"] == ["DB"]  # the rest of the spec is kept
    rollout = ok(client.get(f"/v1/rollouts/{accepted['rollout_id']}"))
    assert (rollout["kind"], rollout["from_revision"], rollout["to_revision"]) == ("update", 1, 2)

    [delivery] = deliveries(client, hook)
    assert delivery["outcome"] == "applied"
    assert delivery["rollout_id"] == accepted["rollout_id"]
    assert delivery["delivery_id"] == "ci-run-1"
    assert "nginx:1.27 → nginx:1.28" in delivery["reason"]
    events = ok(client.get("/v1/deployments/web/events"))["items"]
    assert any(e["reason"] == "WebhookDelivery" and e["rollout_id"] == accepted["rollout_id"]
               for e in events)


def test_the_same_delivery_id_is_applied_once(client: TestClient, public: TestClient) -> None:
    deploy(client, "nginx:1.27")
    hook = make_hook(client, "generic")
    ok(post(public, hook, {"tag": "1.28"}, headers={"X-Delivery-Id": "d-1"}), 202)
    again = ok(post(public, hook, {"tag": "1.29", "n": 2}, headers={"X-Delivery-Id": "d-1"}))
    assert again["ignored"].startswith("duplicate delivery")
    assert current(client)["spec"]["image"] == "nginx:1.28"
    assert [d["outcome"] for d in deliveries(client, hook)] == ["ignored", "applied"]


def test_a_replayed_signed_body_is_not_applied_again(client: TestClient, public: TestClient) -> None:
    """A captured delivery sent again (whatever its unsigned headers) must not roll the
    deployment back to what it carried."""
    deploy(client, "nginx:1.27")
    hook = make_hook(client, "generic")
    body = json.dumps({"tag": "1.28", "build": 17}).encode()
    headers = {"X-Hub-Signature-256": sign(hook["secret"], body), "Content-Type": "application/json"}
    ok(public.post(hook["url"], content=body, headers={**headers, "X-Delivery-Id": "a"}), 202)
    ok(post(public, hook, {"tag": "1.29", "build": 18}), 202)
    replay = ok(public.post(hook["url"], content=body, headers={**headers, "X-Delivery-Id": "b"}))
    assert replay["ignored"].startswith("duplicate delivery")
    assert current(client)["spec"]["image"] == "nginx:1.29"


def test_a_pathological_tag_pattern_cannot_hold_a_delivery(client: TestClient, public: TestClient) -> None:
    """(a+)+b against a long run of a's: a backtracking engine doubles its time with each
    character (hours at 60); RE2 answers at once. The test's own timeout is the bound."""
    deploy(client, "nginx:1.27")
    hook = make_hook(client, "generic", tag_pattern="(a+)+b")
    tag = "a" * 64
    assert ok(post(public, hook, {"tag": tag})) == {"ignored": f"tag {tag!r} does not match tag_pattern"}
    assert current(client)["revision"] == 1


def test_a_tag_pattern_stored_before_patterns_were_re2_ignores_its_pushes(
        client: TestClient, public: TestClient) -> None:
    from app.db import session_scope
    from app.models import Webhook

    deploy(client, "nginx:1.27")
    hook = make_hook(client, "generic", tag_pattern=r"1\..*")
    with session_scope() as session:  # as an older Moorage took it
        session.get(Webhook, uuid.UUID(hook["id"])).tag_pattern = r"(?!dev)1\..*"
    ignored = ok(post(public, hook, {"tag": "1.28"}))["ignored"]
    assert ignored.startswith("tag_pattern cannot be matched (not a valid RE2"), ignored
    assert current(client)["revision"] == 1


def test_filtered_and_already_running_pushes_are_ignored(client: TestClient, public: TestClient) -> None:
    deploy(client, "nginx:1.27")
    hook = make_hook(client, "generic", tag_pattern=r"\d+\.\d+")
    assert ok(post(public, hook, {"tag": "latest"})) == {"ignored": "tag 'latest' does not match tag_pattern"}
    assert ok(post(public, hook, {"tag": "1.27"})) == {"ignored": "nginx:1.27 is already running"}
    assert ok(post(public, hook, {"image": "nginx:1.27"})) == {"ignored": "nginx:1.27 is already running"}
    assert current(client)["revision"] == 1
    assert [d["outcome"] for d in deliveries(client, hook)] == ["ignored"] * 3


def test_bad_or_missing_signatures_are_401_and_recorded(client: TestClient, public: TestClient) -> None:
    deploy(client, "nginx:1.27")
    hook = make_hook(client, "generic")
    other = make_hook(client, "generic")
    body = json.dumps({"tag": "1.28"}).encode()
    for headers in ({}, {"X-Hub-Signature-256": "sha256=" + "0" * 64},
                    {"X-Hub-Signature-256": sign(other["secret"], body)},
                    {"X-Hub-Signature-256": sign(hook["secret"], body + b" ")},
                    {"X-Hub-Signature-256": sign(hook["secret"], body).replace("sha256=", "sha1=")},
                    {"X-Hub-Signature-256": sign(hook["secret"], body)[:-1]}):
        resp = public.post(hook["url"], content=body, headers={**headers, "X-Delivery-Id": "same"})
        problem(resp, 401)
        assert resp.headers["WWW-Authenticate"].startswith("HMAC-SHA256")
        assert hook["secret"] not in resp.text
    assert current(client)["revision"] == 1
    recorded = deliveries(client, hook)
    assert [d["outcome"] for d in recorded] == ["rejected"] * 6
    assert recorded[-1]["reason"] == "missing X-Hub-Signature-256"
    # A rejected delivery does not burn its id: the real one still applies.
    ok(post(public, hook, {"tag": "1.28"}, headers={"X-Delivery-Id": "same"}), 202)


def test_a_bearer_token_is_no_substitute_for_the_signature(client: TestClient) -> None:
    deploy(client, "nginx:1.27")
    hook = make_hook(client, "generic")
    problem(client.post(hook["url"], json={"tag": "1.28"}), 401)  # client sends AUTH


@pytest.mark.parametrize("raw", [b"", b"{", b"[1]", b'{"nothing": 1}', b'{"tag": "bad tag"}',
                                 b'{"image": "Not A Ref"}', b"\xff\xfe", b"[" * 50_000])
def test_a_signed_but_malformed_payload_is_422(client: TestClient, public: TestClient, raw: bytes) -> None:
    deploy(client, "nginx:1.27")
    hook = make_hook(client, "generic")
    body = problem(post(public, hook, None, raw=raw), 422)
    assert body["detail"].startswith("malformed payload")
    assert [d["outcome"] for d in deliveries(client, hook)] == ["rejected"]


@pytest.mark.parametrize("bad", ["evil\x00x", "evil\ud800"], ids=["nul", "surrogate"])
@pytest.mark.parametrize("kind", ["dockerhub", "github", "registry"])
def test_a_repository_named_with_text_no_database_stores_is_a_recorded_422(
        client: TestClient, public: TestClient, kind: str, bad: str) -> None:
    """The name went into the delivery's reason ("… is not this deployment's
    repository"), Postgres refused it, and the delivery was not recorded: a 500 (for a
    dockerhub hook, from anyone who knows its URL)."""
    before = deploy(client, "nginx:1.27")
    hook = make_hook(client, kind)
    headers: dict[str, str] = {}
    if kind == "dockerhub":
        payload: Any = copy.deepcopy(DOCKERHUB_PUSH)
        payload["repository"]["repo_name"] = bad
    elif kind == "github":
        payload = tagged(GITHUB_REGISTRY_PACKAGE, "registry_package", "1.1")
        payload["registry_package"]["package_version"]["package_url"] = f"ghcr.io/x/{bad}:1"
        headers["X-GitHub-Event"] = "registry_package"
    else:
        payload = {"events": [registry_event(0, MANIFEST, DIGEST, tag="1.1", repository=bad)]}
    body = problem(post(public, hook, payload, headers=headers), 422)
    assert body["detail"].startswith("malformed payload")
    assert [e["loc"] for e in body["errors"]] == [["body"]]
    [recorded] = deliveries(client, hook)
    assert recorded["outcome"] == "rejected" and recorded["reason"].startswith("malformed payload")
    assert recorded["rollout_id"] is None
    after = current(client)
    assert (after["revision"], after["spec"]) == (before["revision"], before["spec"])


def test_a_malformed_delivery_id_is_422(client: TestClient, public: TestClient) -> None:
    deploy(client, "nginx:1.27")
    hook = make_hook(client, "generic")
    problem(post(public, hook, {"tag": "1.28"}, headers={"X-Delivery-Id": "x" * 300}), 422)
    assert current(client)["revision"] == 1


def test_unknown_hooks(public: TestClient) -> None:
    problem(public.post(f"/v1/hooks/{uuid.uuid4()}", json={"tag": "1"}), 404)
    problem(public.post("/v1/hooks/not-a-uuid", json={"tag": "1"}), 422)
    problem(public.post("/v1/hooks/..%2F..%2Fv1%2Ftokens", json={"tag": "1"}), 404)


def test_bodies_over_256_kib_are_413_before_any_work(client: TestClient, public: TestClient) -> None:
    deploy(client, "nginx:1.27")
    hook = make_hook(client, "generic")
    big = json.dumps({"tag": "1.28", "pad": "x" * 256 * 1024}).encode()
    resp = public.post(hook["url"], content=big,
                       headers={"X-Hub-Signature-256": sign(hook["secret"], big)})
    assert "262144" in problem(resp, 413)["detail"]

    def chunks() -> Iterator[bytes]:  # no Content-Length: refused while it streams
        for i in range(0, len(big), 32 * 1024):
            yield big[i:i + 32 * 1024]

    problem(public.post(hook["url"], content=chunks(),
                        headers={"X-Hub-Signature-256": sign(hook["secret"], big)}), 413)
    problem(public.post(f"/v1/hooks/{uuid.uuid4()}", content=big), 413)  # before the lookup
    assert deliveries(client, hook) == []
    # Other routes keep their own (larger) limit.
    ok(client.put("/v1/deployments/web", json={"image": "nginx:1.27", "replicas": 2,
                                               "env": {"PAD": "x" * 30_000}}))


def test_a_delivery_to_a_deployment_being_deleted_fails_visibly(client: TestClient, public: TestClient) -> None:
    deploy(client, "nginx:1.27")
    hook = make_hook(client, "generic")
    ok(client.delete("/v1/deployments/web"), 202)
    problem(post(public, hook, {"tag": "1.28"}), 409)
    [delivery] = deliveries(client, hook)
    assert delivery["outcome"] == "failed" and "being deleted" in delivery["reason"]
    events = ok(client.get("/v1/deployments/web/events"))["items"]
    assert events[-1]["reason"] == "WebhookFailed" and events[-1]["type"] == "warning"


# -- the providers' payloads -------------------------------------------------------------


def test_github_ping_then_a_registry_package_push(client: TestClient, public: TestClient) -> None:
    deploy(client, "ghcr.io/codertocat/hello-world:1.0")
    hook = make_hook(client, "github")
    ping = post(public, hook, GITHUB_PING, headers={"X-GitHub-Event": "ping",
                                                    "X-GitHub-Delivery": str(uuid.uuid4())})
    assert ok(ping) == {"ignored": "ping"}

    payload = tagged(GITHUB_REGISTRY_PACKAGE, "registry_package", "1.1")
    delivery = {"X-GitHub-Event": "registry_package", "X-GitHub-Delivery": str(uuid.uuid4())}
    accepted = ok(post(public, hook, payload, headers=delivery), 202)
    assert current(client)["spec"]["image"] == f"ghcr.io/codertocat/hello-world:1.1@{DIGEST}"
    # GitHub redelivers with the same X-GitHub-Delivery: applied once.
    again = ok(post(public, hook, payload, headers=delivery))
    assert again["ignored"].startswith("duplicate delivery")
    recorded = deliveries(client, hook)
    assert [d["outcome"] for d in recorded] == ["ignored", "applied", "ignored"]
    assert recorded[1]["rollout_id"] == accepted["rollout_id"]
    assert recorded[1]["delivery_id"] == delivery["X-GitHub-Delivery"]


def test_github_push_of_another_package_is_ignored(client: TestClient, public: TestClient) -> None:
    deploy(client, "ghcr.io/acme/web:1.0")
    hook = make_hook(client, "github")
    payload = tagged(GITHUB_REGISTRY_PACKAGE, "registry_package", "1.1")
    body = ok(post(public, hook, payload, headers={"X-GitHub-Event": "registry_package"}))
    assert "is not this deployment's repository" in body["ignored"]


def test_dockerhub_needs_no_signature_and_a_moved_tag_redeploys(client: TestClient, public: TestClient) -> None:
    before = deploy(client, "svendowideit/testhook:latest")
    hook = make_hook(client, "dockerhub")
    accepted = ok(post(public, hook, DOCKERHUB_PUSH, secret=None), 202)
    after = current(client)
    assert after["revision"] == before["revision"] + 1
    assert after["spec"] == before["spec"]  # same reference, resolved again
    rollout = ok(client.get(f"/v1/rollouts/{accepted['rollout_id']}"))
    assert rollout["kind"] == "update"
    pushed = copy.deepcopy(DOCKERHUB_PUSH)
    pushed["push_data"]["tag"] = "v2"
    ok(post(public, hook, pushed, secret=None), 202)
    assert current(client)["spec"]["image"] == "svendowideit/testhook:v2"


def test_a_dockerhub_hook_s_id_is_in_no_event_and_no_log_line(client: TestClient, public: TestClient) -> None:
    """Its id is its secret (it cannot sign), and events are a read token's to see."""
    deploy(client, "svendowideit/testhook:latest")
    hook = make_hook(client, "dockerhub")
    ok(post(public, hook, DOCKERHUB_PUSH, secret=None), 202)
    events = ok(client.get("/v1/events", params={"limit": 200}))["items"]
    told = [e for e in events if e["reason"] in ("WebhookDelivery", "WebhookFailed")]
    assert [e["reason"] for e in told] == ["WebhookDelivery"], told
    assert all(hook["id"] not in e["message"] and "dockerhub webhook made" in e["message"]
               for e in told), told
    # uvicorn's access log line, as it makes it: the path is shown without the id.
    line = logging.LogRecord("uvicorn.access", logging.INFO, __file__, 0, '%s - "%s %s HTTP/%s" %d',
                             ("127.0.0.1:5000", "POST", f"/v1/hooks/{hook['id']}", "1.1", 202), None)
    RedactSecrets().filter(line)
    assert hook["id"] not in line.getMessage() and "/v1/hooks/***" in line.getMessage()


def test_a_registry_envelope_with_several_events(client: TestClient, public: TestClient) -> None:
    deploy(client, "registry.local:5000/team/app:1.0")
    hook = make_hook(client, "registry", tag_pattern=r"\d+\.\d+")
    envelope = {"events": [
        registry_event(0, MANIFEST, DIGEST, tag="1.1", repository="team/app"),
        registry_event(1, "application/vnd.docker.container.image.rootfs.diff+x-gtar", DIGEST,
                       repository="team/app"),
        registry_event(2, MANIFEST, DIGEST, tag="edge", repository="team/app"),
        registry_event(3, MANIFEST, DIGEST, tag="9.9", repository="team/other"),
    ]}
    accepted = ok(post(public, hook, envelope), 202)
    assert current(client)["spec"]["image"] == f"registry.local:5000/team/app:1.1@{DIGEST}"
    [delivery] = deliveries(client, hook)
    assert delivery["delivery_id"] == "asdf-asdf-asdf-asdf-0"
    assert delivery["rollout_id"] == accepted["rollout_id"]
    # The registry retries an envelope it thinks was lost: the event id is known.
    resent = copy.deepcopy(envelope)
    resent["events"][0]["timestamp"] = "2006-01-02T15:04:06Z"
    assert ok(post(public, hook, resent))["ignored"].startswith("duplicate delivery")


# -- secrets -------------------------------------------------------------------------------


def test_no_delivery_and_no_answer_carries_a_secret(client: TestClient, public: TestClient) -> None:
    deploy(client, "nginx:1.27", secrets={"API_KEY": "deployment-secret-value"})
    hook = make_hook(client, "generic")
    texts = [
        post(public, hook, {"tag": "1.28"}).text,
        post(public, hook, {"tag": "1.28"}, secret="wrong").text,
        post(public, hook, None, raw=b"{").text,
        client.get("/v1/deployments/web/webhooks").text,
        client.get(f"/v1/deployments/web/webhooks/{hook['id']}/deliveries").text,
        client.get("/v1/deployments/web/events").text,
        client.get("/v1/deployments/web").text,
    ]
    for text in texts:
        assert hook["secret"] not in text
        assert "deployment-secret-value" not in text


def test_a_flood_at_one_hook_is_429_unrecorded_and_others_still_work(
    client: TestClient, public: TestClient
) -> None:
    from app.config import get_settings

    os.environ["MOORAGE_HOOK_DELIVERIES_PER_MINUTE"] = "5"
    get_settings.cache_clear()
    try:
        deploy(client, "nginx:1.27")
        flooded, other = make_hook(client, "generic"), make_hook(client, "generic")
        for _ in range(5):  # forged deliveries count: they are what a flood is made of
            problem(post(public, flooded, {"tag": "1.28"}, secret="forged"), 401)
        limited = problem(post(public, flooded, {"tag": "1.28"}), 429)
        assert "5 deliveries in the last minute" in limited["detail"]
        assert int(public.post(flooded["url"], content=b"{}").headers["Retry-After"]) > 0
        assert len(deliveries(client, flooded)) == 5  # the refused ones wrote nothing
        assert current(client)["revision"] == 1
        ok(post(public, other, {"tag": "1.28"}), 202)  # the limit is per webhook
    finally:
        del os.environ["MOORAGE_HOOK_DELIVERIES_PER_MINUTE"]
        get_settings.cache_clear()


def test_a_registry_hook_takes_its_secret_as_a_bearer_token_and_only_it(
    client: TestClient, public: TestClient
) -> None:
    deploy(client, "registry.example.com/acme/web:1")
    registry, generic = make_hook(client, "registry"), make_hook(client, "generic")
    envelope = {"events": [{"id": "e-1", "action": "push", "target": {
        "mediaType": "application/vnd.docker.distribution.manifest.v2+json",
        "repository": "acme/web", "tag": "2", "digest": "sha256:" + "a" * 64}}]}
    body = json.dumps(envelope).encode()
    for header in (f"Bearer {generic['secret']}", f"Bearer {registry['secret']}x",
                   registry["secret"], f"Basic {registry['secret']}", AUTH["Authorization"]):
        problem(public.post(registry["url"], content=body, headers={"Authorization": header}), 401)
    # Only a registry hook takes the bearer form: a generic one still wants a signature.
    problem(public.post(generic["url"], content=json.dumps({"tag": "2"}).encode(),
                        headers={"Authorization": f"Bearer {generic['secret']}"}), 401)
    accepted = public.post(registry["url"], content=body,
                           headers={"Authorization": f"Bearer {registry['secret']}"})
    assert accepted.status_code == 202, accepted.text
    assert current(client)["spec"]["image"] == "registry.example.com/acme/web:2@sha256:" + "a" * 64
