"""Registry credentials over HTTP: global ones (/v1/registries, admin only) and a
deployment's own (spec.registry_auth). Passwords are write-only everywhere."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.integration.test_api_deployments import ok, problem, put, revision_numbers, spec

PASSWORD = "s3cret-registry-password"
OTHER = "another-registry-password"


@pytest.fixture
def name() -> str:
    return f"web-{uuid.uuid4().hex[:8]}"


def test_global_credentials_are_set_replaced_listed_and_deleted(client: TestClient) -> None:
    made = client.put("/v1/registries/ghcr.io", json={"username": "ci", "password": PASSWORD})
    assert made.status_code == 201, made.text
    assert made.headers["location"] == "/v1/registries/ghcr.io"
    replaced = ok(client.put("/v1/registries/GHCR.io",
                             json={"username": "bot", "password": OTHER}))
    assert replaced["registry"] == "ghcr.io" and replaced["username"] == "bot"
    assert replaced["updated_at"] >= replaced["created_at"]
    # Docker Hub goes by several names; its credentials are stored under one.
    assert ok(client.put("/v1/registries/index.docker.io",
                         json={"username": "hub", "password": PASSWORD}), 201)["registry"] == "docker.io"
    assert ok(client.put("/v1/registries/127.0.0.1:5000",
                         json={"username": "local", "password": PASSWORD}), 201)

    first = ok(client.get("/v1/registries", params={"limit": 2}))
    rest = ok(client.get("/v1/registries", params={"cursor": first["next_cursor"]}))
    listed = [r["registry"] for r in first["items"] + rest["items"]]
    assert listed == sorted(listed) and {"ghcr.io", "docker.io", "127.0.0.1:5000"} <= set(listed)
    for text in (first, rest, ok(client.get("/v1/registries/ghcr.io"))):
        assert PASSWORD not in str(text) and OTHER not in str(text) and "password" not in str(text)

    assert client.delete("/v1/registries/ghcr.io").status_code == 204
    problem(client.get("/v1/registries/ghcr.io"), 404)
    problem(client.delete("/v1/registries/ghcr.io"), 404)


@pytest.mark.parametrize(("path", "body"), [
    ("/v1/registries/not%20a%20host", {"username": "u", "password": "p"}),
    ("/v1/registries/ghcr.io", {"username": "u"}),
    ("/v1/registries/ghcr.io", {"username": "", "password": "p"}),
    ("/v1/registries/ghcr.io", {"username": "u\n", "password": "p"}),
    ("/v1/registries/ghcr.io", {"username": "u", "password": "p\x00"}),
    ("/v1/registries/ghcr.io", {"username": "u", "password": "p", "email": "x"}),
])
def test_bad_credentials_are_422_and_change_nothing(
    client: TestClient, path: str, body: dict[str, Any]
) -> None:
    problem(client.put(path, json=body), 422)
    assert client.get("/v1/registries/ghcr.io").status_code in (404, 200)
    assert all(r["username"] != "u" for r in ok(client.get("/v1/registries"))["items"])


@pytest.mark.parametrize("registry", ["[::1]:99999", "a:0", "a:00", "a:65536", "ghcr.io:99999"])
def test_a_registry_whose_port_is_no_tcp_port_is_422_and_stores_nothing(
    client: TestClient, registry: str
) -> None:
    """Were stored (201): credentials for a registry no pull can ever reach."""
    before = ok(client.get("/v1/registries"))["items"]
    body = problem(client.put(f"/v1/registries/{registry}",
                              json={"username": "u", "password": PASSWORD}), 422)
    assert [e["loc"] for e in body["errors"]] == [["path", "registry"]], body
    assert ok(client.get("/v1/registries"))["items"] == before
    problem(client.get(f"/v1/registries/{registry}"), 422)


@pytest.mark.parametrize("registry", ["a:1", "a:65535", "[::1]:5000", "10.0.0.5:05000"])
def test_a_registry_port_in_range_is_taken(client: TestClient, registry: str) -> None:
    ok(client.put(f"/v1/registries/{registry}", json={"username": "u", "password": PASSWORD}), 201)
    assert ok(client.get(f"/v1/registries/{registry}"))["registry"] == registry.lower()


@pytest.mark.parametrize("image", ["registry.local:99999/app:1", "registry.local:0/app:1",
                                   "[::1]:65536/app:1"])
def test_an_image_whose_registry_port_is_no_tcp_port_is_422(
    client: TestClient, name: str, image: str
) -> None:
    body = problem(put(client, name, spec(image=image)), 422)
    assert [".".join(map(str, e["loc"])) for e in body["errors"]] == ["body.image"], body
    problem(client.get(f"/v1/deployments/{name}"), 404)
    ok(put(client, name, spec(image="registry.local:65535/app:1")), 201)


def test_a_deployments_password_is_write_only_and_a_new_one_is_a_new_revision(
    client: TestClient, name: str
) -> None:
    auth = {"username": "ci", "password": PASSWORD}
    created = ok(put(client, name, spec(image="ghcr.io/acme/web:1", registry_auth=auth)), 201)
    assert created["spec"]["registry_auth"] == {"username": "ci"}
    # The same spec again changes nothing; a patch elsewhere keeps the password.
    ok(put(client, name, spec(image="ghcr.io/acme/web:1", registry_auth=auth)))
    assert revision_numbers(client, name) == [1]
    # (A patch of replicas is a scale, no revision: had it lost the password, the
    # spec would differ and it would have made one.)
    scaled = ok(client.patch(f"/v1/deployments/{name}", json={"replicas": 3}))
    assert scaled["current_rollout"]["kind"] == "scale", "the patch lost the password"
    assert revision_numbers(client, name) == [1]
    again = ok(put(client, name, spec(image="ghcr.io/acme/web:1", replicas=3, registry_auth=auth)))
    assert again["revision"] == 1 and again["resource_version"] == scaled["resource_version"]
    # A new password is a new revision; the diff says so and shows neither value.
    dry = ok(put(client, name, spec(image="ghcr.io/acme/web:1", replicas=3,
                                    registry_auth={**auth, "password": OTHER}),
                 params={"dry_run": "true"}))
    assert {"path": "registry_auth.password", "old": "(set)", "new": "(changed)"} in dry["changes"]
    ok(put(client, name, spec(image="ghcr.io/acme/web:1", replicas=3,
                              registry_auth={**auth, "password": OTHER})))
    assert sorted(revision_numbers(client, name)) == [1, 2]
    texts = [client.get(f"/v1/deployments/{name}").text,
             client.get(f"/v1/deployments/{name}/revisions").text,
             client.get(f"/v1/deployments/{name}/revisions/1").text,
             client.get(f"/v1/deployments/{name}/events").text, str(dry)]
    assert not any(PASSWORD in t or OTHER in t for t in texts)


@pytest.mark.parametrize("auth", [
    {"username": "ci"}, {"password": "p"}, {"username": "ci", "password": ""},
    {"username": "ci", "password": "p", "server": "ghcr.io"}, "ci:p",
])
def test_bad_registry_auth_is_422_naming_the_field(
    client: TestClient, name: str, auth: Any
) -> None:
    body = problem(put(client, name, spec(registry_auth=auth)), 422)
    assert any("registry_auth" in ".".join(map(str, e["loc"])) for e in body["errors"]), body
    problem(client.get(f"/v1/deployments/{name}"), 404)


def test_a_rollback_runs_the_image_its_target_pinned_even_if_the_tag_moved(
    client: TestClient, name: str
) -> None:
    from app.db import session_scope
    from app.models import Deployment, Revision

    ok(put(client, name, spec(image="ghcr.io/acme/web:1")), 201)
    pinned = "sha256:" + "1" * 64
    with session_scope() as session:  # what a worker recorded when it pinned revision 1
        deployment = session.query(Deployment).filter_by(name=name).one()
        rev = session.query(Revision).filter_by(deployment_id=deployment.id, number=1).one()
        rev.image_digest, rev.image_pull_ref = pinned, "ghcr.io/acme/web@sha256:" + "2" * 64
    ok(put(client, name, spec(image="ghcr.io/acme/web:2")))
    back = client.post(f"/v1/deployments/{name}/rollback", json={"revision": 1})
    assert back.status_code == 202, back.text
    with session_scope() as session:
        deployment = session.query(Deployment).filter_by(name=name).one()
        rev = session.query(Revision).filter_by(deployment_id=deployment.id, number=3).one()
        assert (rev.image_digest, rev.image_pull_ref) == (
            pinned, "ghcr.io/acme/web@sha256:" + "2" * 64)
        assert not rev.pin_from_registry


def test_a_deployments_password_never_follows_its_image_to_another_registry(
    client: TestClient, name: str
) -> None:
    """Given for ghcr.io, kept by a patch or a webhook: refused when the image moves to
    another registry (that registry would be handed the password at its login)."""
    from tests.integration.test_webhooks import post

    auth = {"username": "ci", "password": PASSWORD}
    ok(put(client, name, spec(image="ghcr.io/acme/web:1", registry_auth=auth)), 201)
    merge = {"Content-Type": "application/merge-patch+json"}

    body = problem(client.patch(f"/v1/deployments/{name}", json={"image": "evil.example:5000/x:1"},
                                headers=merge), 422)
    assert body["errors"][0]["loc"] == ["body", "registry_auth"], body
    assert "ghcr.io" in body["detail"] and PASSWORD not in str(body)
    assert revision_numbers(client, name) == [1]

    hook = ok(client.post(f"/v1/deployments/{name}/webhooks", json={"kind": "generic"}), 201)
    refused = post(TestClient(client.app), hook, {"image": "evil.example:5000/x:1"})
    assert refused.status_code == 422, refused.text
    assert revision_numbers(client, name) == [1]

    # Within its registry, and with the credentials given again or dropped, it goes on.
    ok(client.patch(f"/v1/deployments/{name}", json={"image": "ghcr.io/acme/web:2"}, headers=merge))
    assert ok(post(TestClient(client.app), hook, {"image": "ghcr.io/acme/web:3"}), 202)
    ok(client.patch(f"/v1/deployments/{name}", json={
        "image": "quay.io/acme/web:1", "registry_auth": {"username": "q", "password": OTHER}},
        headers=merge))
    moved = ok(client.patch(f"/v1/deployments/{name}", json={
        "image": "docker.io/library/nginx:1.27", "registry_auth": None}, headers=merge))
    assert "registry_auth" not in moved["spec"] or moved["spec"]["registry_auth"] is None
    assert sorted(revision_numbers(client, name)) == [1, 2, 3, 4, 5]
