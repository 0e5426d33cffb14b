"""Stacks through the API, against a real Postgres: apply a Compose file (YAML or JSON),
its services as owned deployments, 422s naming service and field, 409s for direct changes,
revisions, dry runs, ETag/If-Match, Idempotency-Key, scopes; and the release step driven
by hand (no worker: deployment rollouts are moved in the database, as their reconciler
would), in depends_on order, with a whole-stack rollback."""

from __future__ import annotations

import time
import uuid
from typing import Any

import httpx
import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient

from app.db import session_scope
from app.models import Deployment, Rollout, Stack
from app.services import stacks as stack_service

YAML = {"content-type": "application/yaml"}

SHOP = """
services:
  web:
    image: web:v1
    command: ["httpd", "-f", "-p", "8080"]
    ports: ["127.0.0.1::8080"]
    depends_on:
      db: {condition: service_healthy}
      queue: {condition: service_started}
  db:
    image: db:v1
    volumes: ["data:/data"]
    healthcheck: {test: ["CMD", "true"], interval: 1s}
    secrets: [{source: db_password, target: DB_PASSWORD}]
  queue:
    image: queue:v1
volumes:
  data: {}
secrets:
  db_password: {}
"""


def ok(resp: httpx.Response, status: int = 200) -> Any:
    assert resp.status_code == status, resp.text
    return resp.json() if resp.content else None


def problem(resp: httpx.Response, status: int) -> dict[str, Any]:
    assert resp.status_code == status, resp.text
    assert resp.headers["content-type"].startswith("application/problem+json")
    return resp.json()


def put_json(client: TestClient, name: str, compose: str, secrets: dict[str, str] | None = None,
             **kw: Any) -> httpx.Response:
    return client.put(f"/v1/stacks/{name}", json={"compose": compose, "secrets": secrets or {}}, **kw)


def shop(client: TestClient, text: str = SHOP, status: int = 201) -> dict[str, Any]:
    return ok(put_json(client, "shop", text, {"db_password": "hunter2"}), status)


def stack_id(name: str) -> uuid.UUID:
    with session_scope() as session:
        return session.scalar(sa.select(Stack.id).where(Stack.name == name))


def service_rollout(name: str) -> Rollout | None:
    with session_scope() as session:
        d = session.scalar(sa.select(Deployment).where(Deployment.name == name))
        if d is None:
            return None
        r = session.scalar(sa.select(Rollout).where(Rollout.deployment_id == d.id)
                           .order_by(Rollout.created_at.desc()).limit(1))
        session.expunge_all()
        return r


def settle(deployment: str, state: str, message: str = "") -> None:
    """What the deployment's reconciler would write when its rollout ends."""
    with session_scope() as session:
        d = session.scalar(sa.select(Deployment).where(Deployment.name == deployment))
        r = session.scalar(sa.select(Rollout).where(Rollout.deployment_id == d.id,
                                                    Rollout.state.in_(("pending", "in_progress"))))
        r.state, r.message = state, message
        d.phase = "available" if state == "succeeded" else "failed"
        d.ready_replicas = d.replicas if state == "succeeded" else 0
        d.message = message


def step(name: str = "shop") -> float | None:
    return stack_service.step(stack_id(name))


# ---- apply --------------------------------------------------------------------------------


def test_a_compose_file_becomes_a_stack_of_owned_deployments(client: TestClient) -> None:
    body = shop(client)
    assert body["name"] == "shop" and body["revision"] == 1
    assert [s["name"] for s in body["services"]] == ["db", "queue", "web"]  # depends_on order
    web = next(s for s in body["services"] if s["name"] == "web")
    assert web["deployment"] == "shop-web"
    assert web["depends_on"] == {"db": "service_healthy", "queue": "service_started"}
    assert web["phase"] is None  # not applied yet: it waits for db
    assert body["volumes"] == ["shop_data"]
    assert body["current_rollout"]["state"] == "pending"
    assert "hunter2" not in str(body)

    # The release's id works where a deployment rollout's does.
    rid = body["current_rollout"]["id"]
    assert ok(client.get(f"/v1/rollouts/{rid}"))["stack"] == "shop"

    revisions = ok(client.get("/v1/stacks/shop/revisions"))["items"]
    assert revisions[0]["number"] == 1 and revisions[0]["secret_keys"] == ["DB_PASSWORD"]
    assert revisions[0]["compose"] == SHOP
    assert [s["name"] for s in ok(client.get("/v1/stacks"))["items"]] == ["shop"]


def test_the_same_file_again_changes_nothing(client: TestClient) -> None:
    first = shop(client)
    again = shop(client, status=200)
    assert again["revision"] == first["revision"] == 1
    assert again["resource_version"] == first["resource_version"]
    # The same file as YAML: the secret (here none) is part of it, so this one differs.
    changed = ok(put_json(client, "shop", SHOP, {"db_password": "other"}), 200)
    assert changed["revision"] == 2


def test_yaml_body(client: TestClient) -> None:
    body = ok(client.put("/v1/stacks/blog", content="services:\n  web:\n    image: web:v1\n",
                         headers=YAML), 201)
    assert body["services"][0]["deployment"] == "blog-web"
    assert client.put("/v1/stacks/blog", content="services:\n  web:\n    image: web:v1\n",
                      headers=YAML).status_code == 200
    problem(client.put("/v1/stacks/blog", content="x", headers={"content-type": "text/plain"}), 422)


def test_refusals_name_the_service_and_the_field(client: TestClient) -> None:
    text = ("services:\n  web:\n    image: web:v1\n    privileged: true\n    cap_add: [ALL]\n"
            "  db:\n    build: .\n    network_mode: host\n")
    body = problem(put_json(client, "shop", text), 422)
    locs = {tuple(e["loc"]): e["msg"] for e in body["errors"]}
    assert ("body", "compose", "services", "web", "privileged") in locs
    assert ("body", "compose", "services", "web", "cap_add") in locs
    assert "does not build" in locs[("body", "compose", "services", "db", "build")]
    assert ("body", "compose", "services", "db", "network_mode") in locs
    body = problem(client.put("/v1/stacks/shop", content=text, headers=YAML), 422)
    assert ["body", "services", "web", "privileged"] in [e["loc"] for e in body["errors"]]
    assert client.get("/v1/stacks/shop").status_code == 404  # nothing was made
    # A missing secret value, and a stray one.
    body = problem(put_json(client, "shop", SHOP, {"nope": "x"}), 422)
    locs = [tuple(e["loc"]) for e in body["errors"]]
    assert ("body", "compose", "services", "db", "secrets", 0) in locs
    assert ("body", "compose", "secrets", "nope") in locs


def bomb(levels: int) -> str:
    """The reviewer's file: each level an anchored list of ten aliases of the level before
    (438 bytes at 8 levels, standing for 10**8 strings)."""
    text = "x-bomb:\n  l0: &l0 [a,a,a,a,a,a,a,a,a,a]\n"
    for i in range(1, levels):
        text += f"  l{i}: &l{i} [" + ",".join([f"*l{i - 1}"] * 10) + "]\n"
    return text + "services:\n  web:\n    image: nginx\n"


@pytest.mark.timeout(60)
def test_an_alias_bomb_is_a_fast_422_that_changes_nothing(client: TestClient) -> None:
    token = ok(client.post("/v1/tokens", json={"name": "d", "scopes": ["deploy"]}), 201)["token"]
    deployer = TestClient(client.app, headers={"Authorization": f"Bearer {token}"})
    before = shop(client)
    for name, params in [("shop", {}), ("shop", {"dry_run": "true"}), ("other", {})]:
        started = time.monotonic()
        resp = deployer.put(f"/v1/stacks/{name}", content=bomb(8), headers=YAML, params=params)
        took = time.monotonic() - started
        body = problem(resp, 422)
        assert took < 5, took  # before the file was read within bounds: 141 s
        (error,) = body["errors"]
        assert error["type"] == "yaml_aliases" and error["loc"][:3] == ["body", "x-bomb", "l4"]
        assert "over 100000 nodes" in error["msg"]
    after = ok(client.get("/v1/stacks/shop"))
    assert (after["revision"], after["resource_version"]) == (before["revision"],
                                                              before["resource_version"])
    assert len(ok(client.get("/v1/stacks/shop/revisions"))["items"]) == 1
    problem(client.get("/v1/stacks/other"), 404)
    assert client.get("/v1/deployments/other-web").status_code == 404


@pytest.mark.parametrize(("text", "loc", "kind"), [
    ("services:\n  web:\n    image: nginx\n    labels: " + "[" * 500 + "]" * 500 + "\n",
     ["body", "services", "web", "labels"], "yaml_depth"),
    ("? [a, b]\n: 1\nservices:\n  web:\n    image: nginx\n", ["body"], "yaml_key"),
    ("services:\n  1: {image: nginx}\n", ["body", "services"], "yaml_key"),
    ("services:\n  web:\n    image: nginx\n    environment: {~: x}\n",
     ["body", "services", "web", "environment"], "yaml_key"),
    ("services:\n  web:\n    image: nginx\n    environment: {1.5: x}\n",
     ["body", "services", "web", "environment"], "yaml_key"),
])
def test_what_yaml_cannot_mean_here_is_a_422_naming_where(client: TestClient, text: str,
                                                          loc: list[str], kind: str) -> None:
    body = problem(client.put("/v1/stacks/shop", content=text, headers=YAML), 422)
    (error,) = body["errors"]
    assert error["type"] == kind and error["loc"][:len(loc)] == loc, error
    # The same file inside JSON is named under body.compose.
    body = problem(put_json(client, "shop", text), 422)
    assert body["errors"][0]["loc"][:2] == ["body", "compose"]
    assert client.get("/v1/stacks/shop").status_code == 404


def test_a_host_path_needs_an_admin_as_for_any_deployment(client: TestClient) -> None:
    text = "services:\n  web:\n    image: web:v1\n    volumes: ['/srv/www:/www:ro']\n"
    body = problem(put_json(client, "shop", text), 422)
    assert "service web" in body["detail"]


def test_a_service_is_changed_only_through_its_stack(client: TestClient) -> None:
    shop(client)
    step()  # db and queue are applied: their deployments exist
    assert ok(client.get("/v1/deployments/shop-db"))["stack"] == "shop"
    assert {d["name"]: d["stack"] for d in ok(client.get("/v1/deployments"))["items"]} == {
        "shop-db": "shop", "shop-queue": "shop"}
    for method, path, kw in [
        ("PUT", "/v1/deployments/shop-db", {"json": {"image": "db:v2"}}),
        ("PATCH", "/v1/deployments/shop-db", {"json": {"replicas": 3},
                                              "headers": {"content-type": "application/merge-patch+json"}}),
        ("DELETE", "/v1/deployments/shop-db", {}),
        ("POST", "/v1/deployments/shop-db/restart", {}),
        ("POST", "/v1/deployments/shop-db/rollback", {"json": {"revision": 1}}),
    ]:
        body = problem(client.request(method, path, **kw), 409)
        assert "belongs to stack 'shop'" in body["detail"], (method, path)
    # A stack never takes over a deployment that is not its own.
    ok(client.put("/v1/deployments/blog-web", json={"image": "web:v1"}), 201)
    body = problem(client.put("/v1/stacks/blog", content="services:\n  web:\n    image: web:v2\n",
                              headers=YAML), 409)
    assert "blog-web" in body["detail"] and "no stack's" in body["detail"]


def test_if_match_and_etag(client: TestClient) -> None:
    resp = put_json(client, "shop", SHOP, {"db_password": "x"})
    etag = resp.headers["ETag"]
    assert client.get("/v1/stacks/shop").headers["ETag"] == etag
    problem(put_json(client, "shop", SHOP.replace("queue:v1", "queue:v2"), {"db_password": "x"},
                     headers={"If-Match": '"999"'}), 412)
    ok(put_json(client, "shop", SHOP.replace("queue:v1", "queue:v2"), {"db_password": "x"},
                headers={"If-Match": etag}))


def test_dry_run_shows_each_service(client: TestClient) -> None:
    plan = ok(put_json(client, "shop", SHOP, {"db_password": "x"}, params={"dry_run": "true"}))
    assert plan["dry_run"] is True and plan["revision"] == 1
    assert {s["service"]: s["change"] for s in plan["services"]} == {
        "db": "create", "queue": "create", "web": "create"}
    assert client.get("/v1/stacks/shop").status_code == 404
    shop(client, SHOP.replace("hunter2", "x"))
    ok(put_json(client, "shop", SHOP, {"db_password": "hunter2"}), 200)
    step()
    text = SHOP.replace("queue:v1", "queue:v2").replace(
        "  web:\n", "  web:\n").replace("volumes:\n  data: {}\n", "volumes:\n  data: {}\n")
    plan = ok(put_json(client, "shop", text, {"db_password": "hunter2"},
                       params={"dry_run": "true"}))
    changes = {s["service"]: s for s in plan["services"]}
    assert changes["queue"]["change"] == "update"
    assert {"path": "image", "old": "queue:v1", "new": "queue:v2"} in changes["queue"]["plan"]["changes"]
    assert changes["db"]["change"] == "unchanged"


def test_scopes(client: TestClient) -> None:
    token = ok(client.post("/v1/tokens", json={"name": "r", "scopes": ["read"]}), 201)["token"]
    reader = TestClient(client.app, headers={"Authorization": f"Bearer {token}"})
    assert problem(put_json(reader, "shop", SHOP), 403)
    shop(client)
    ok(reader.get("/v1/stacks/shop"))
    problem(reader.delete("/v1/stacks/shop"), 403)
    problem(reader.post("/v1/stacks/shop/rollback", json={}), 403)


# ---- the release ------------------------------------------------------------------------


def test_services_roll_out_in_depends_on_order(client: TestClient) -> None:
    rid = shop(client)["current_rollout"]["id"]
    assert step() is not None
    # db and queue depend on nothing: applied at once; web waits for db to be healthy.
    assert service_rollout("shop-db") is not None and service_rollout("shop-queue") is not None
    assert service_rollout("shop-web") is None
    release = ok(client.get(f"/v1/rollouts/{rid}"))
    assert release["state"] == "in_progress" and "web waits for db (service_healthy)" in release["message"]
    settle("shop-queue", "succeeded")
    step()
    assert service_rollout("shop-web") is None  # queue is up, db is not healthy yet
    settle("shop-db", "succeeded")
    step()
    assert service_rollout("shop-web") is not None
    assert ok(client.get(f"/v1/rollouts/{rid}"))["state"] == "in_progress"
    settle("shop-web", "succeeded")
    assert step() is None
    release = ok(client.get(f"/v1/rollouts/{rid}", params={"wait": 1}))
    assert release["state"] == "succeeded"
    assert set(release["services"]) == {"db", "queue", "web"}
    stack = ok(client.get("/v1/stacks/shop"))
    assert stack["status"]["phase"] == "available"
    assert {s["name"]: s["ready_replicas"] for s in stack["services"]} == {"db": 1, "queue": 1, "web": 1}
    assert step() is None  # idempotent: nothing more to do


def release_revision_1(client: TestClient) -> None:
    shop(client)
    step()
    settle("shop-db", "succeeded")
    settle("shop-queue", "succeeded")
    step()
    settle("shop-web", "succeeded")
    step()


def test_a_failed_service_rolls_the_whole_stack_back(client: TestClient) -> None:
    release_revision_1(client)
    bad = SHOP.replace("db:v1", "db:v2").replace("web:v1", "web:bad")
    rid = shop(client, bad, status=200)["current_rollout"]["id"]
    step()  # db (v2) and queue (unchanged) applied
    assert service_rollout("shop-queue").kind == "create"  # no new rollout: it did not change
    settle("shop-db", "succeeded")
    step()
    settle("shop-web", "failed", "no progress: web:bad exits at once")
    step()
    release = ok(client.get(f"/v1/rollouts/{rid}"))
    assert release["state"] == "rolled_back"
    assert "service web failed: no progress: web:bad exits at once" in release["message"]
    assert "rolling the stack back to revision 1" in release["message"]
    stack = ok(client.get("/v1/stacks/shop"))
    assert stack["revision"] == 3 and stack["current_rollout"]["kind"] == "rollback"
    # Revision 3 is revision 1 again, for every service: db goes back to v1 as well.
    step()
    db = service_rollout("shop-db")
    assert db.kind == "rollback"
    with session_scope() as session:
        d = session.scalar(sa.select(Deployment).where(Deployment.name == "shop-db"))
        assert d.revision == 3  # v1 -> v2 -> v1 again
    settle("shop-db", "succeeded")
    step()
    settle("shop-web", "succeeded")
    step()
    assert ok(client.get("/v1/stacks/shop"))["current_rollout"]["state"] == "succeeded"


def test_a_failed_rollback_or_first_release_fails_with_the_truth(client: TestClient) -> None:
    rid = shop(client)["current_rollout"]["id"]
    step()
    settle("shop-db", "failed", "db:v1 crashes")
    step()
    release = ok(client.get(f"/v1/rollouts/{rid}"))
    assert release["state"] == "failed" and "nothing to roll back to" in release["message"]
    stack = ok(client.get("/v1/stacks/shop"))
    assert stack["status"]["phase"] == "failed" and "db:v1 crashes" in stack["status"]["message"]
    assert service_rollout("shop-web") is None  # never applied


def test_pause_leaves_the_stack_where_it_stopped(client: TestClient) -> None:
    release_revision_1(client)
    paused = SHOP.replace("queue:v1", "queue:v2").replace(
        "  queue:\n    image: queue:v2\n",
        "  queue:\n    image: queue:v2\n    deploy: {update_config: {failure_action: pause}}\n")
    rid = shop(client, paused, status=200)["current_rollout"]["id"]
    step()
    settle("shop-queue", "failed", "queue:v2 crashes")
    step()
    release = ok(client.get(f"/v1/rollouts/{rid}"))
    assert release["state"] == "failed" and "pause" in release["message"]
    assert ok(client.get("/v1/stacks/shop"))["revision"] == 2


def test_manual_rollback_of_the_whole_stack(client: TestClient) -> None:
    release_revision_1(client)
    shop(client, SHOP.replace("web:v1", "web:v2").replace("db:v1", "db:v2"), status=200)
    headers = {"Idempotency-Key": "roll-1"}
    first = ok(client.post("/v1/stacks/shop/rollback", json={"revision": 1}, headers=headers), 202)
    again = client.post("/v1/stacks/shop/rollback", json={"revision": 1}, headers=headers)
    assert again.json()["id"] == first["id"] and again.headers["Idempotent-Replayed"] == "true"
    assert first["kind"] == "rollback" and first["to_revision"] == 3
    stack = ok(client.get("/v1/stacks/shop"))
    assert stack["revision"] == 3
    problem(client.post("/v1/stacks/shop/rollback", json={"revision": 1}), 409)  # same content
    problem(client.post("/v1/stacks/shop/rollback", json={"revision": 3}), 409)  # current
    problem(client.post("/v1/stacks/shop/rollback", json={"revision": 99}), 404)


def test_a_service_dropped_from_the_file_is_deleted(client: TestClient) -> None:
    release_revision_1(client)
    fewer = SHOP.replace("      queue: {condition: service_started}\n", "").replace(
        "  queue:\n    image: queue:v1\n", "")
    shop(client, fewer, status=200)
    step()
    with session_scope() as session:
        queue = session.scalar(sa.select(Deployment).where(Deployment.name == "shop-queue"))
        assert queue.deleting


def test_delete_removes_every_service_then_the_stack(client: TestClient) -> None:
    release_revision_1(client)
    rollout = ok(client.delete("/v1/stacks/shop"), 202)
    assert rollout["kind"] == "delete"
    problem(put_json(client, "shop", SHOP, {"db_password": "hunter2"}), 409)
    assert step() is not None
    with session_scope() as session:
        owned = list(session.scalars(sa.select(Deployment).where(Deployment.name.like("shop-%"))))
        assert owned and all(d.deleting for d in owned)
        for d in owned:  # what each deployment's reconciler does once its replicas are gone
            session.delete(d)
    assert step() is None
    assert ok(client.get(f"/v1/rollouts/{rollout['id']}"))["state"] == "succeeded"
    problem(client.get("/v1/stacks/shop"), 404)


@pytest.mark.parametrize("path", ["/v1/stacks/shop", "/v1/stacks/shop/revisions"])
def test_not_found(client: TestClient, path: str) -> None:
    problem(client.get(path), 404)


def test_a_service_is_known_by_its_service_name_on_the_stacks_network(client: TestClient) -> None:
    from app.config import get_settings
    from app.reconcile.types import Create
    from app.services.reconciler.act import container_request
    from app.services.reconciler.context import load

    shop(client)
    step()
    with session_scope() as session:
        db = session.scalar(sa.select(Deployment.id).where(Deployment.name == "shop-db"))
    ctx = load(db, get_settings(), on_generation=lambda _g: None)
    assert ctx is not None and ctx.stack_service == "db"
    request = container_request(ctx, Create(0, "h1", "shop-db.0", "missing"), get_settings())
    assert request.networks == ["shop-default"]
    assert request.aliases == ["shop-db", "db"]  # the deployment's name, and Compose's


def test_a_stack_rollback_runs_the_image_each_service_ran(client: TestClient) -> None:
    """As a deployment's own rollback: the pinned image, not what the tag means now."""
    from app.models import Revision

    release_revision_1(client)
    with session_scope() as session:
        d = session.scalar(sa.select(Deployment).where(Deployment.name == "shop-queue"))
        rev = session.scalar(sa.select(Revision).where(Revision.deployment_id == d.id))
        rev.image_digest = "sha256:" + "1" * 64  # what the worker pinned for queue:v1
    shop(client, SHOP.replace("queue:v1", "queue:v2"), status=200)
    step()
    settle("shop-queue", "failed", "queue:v2 crashes")
    step()  # the release is rolled back: revision 3 is revision 1 again
    step()
    with session_scope() as session:
        d = session.scalar(sa.select(Deployment).where(Deployment.name == "shop-queue"))
        current = session.scalar(sa.select(Revision).where(Revision.deployment_id == d.id,
                                                           Revision.number == d.revision))
        assert d.revision == 3 and current.image_digest == "sha256:" + "1" * 64


def test_a_release_waiting_on_what_cannot_move_ends_past_the_deadline(client: TestClient) -> None:
    from datetime import timedelta

    from app.db import utcnow
    from app.models import StackRollout

    release_revision_1(client)
    with session_scope() as session:  # the db (not changed by the next file) degrades
        db = session.scalar(sa.select(Deployment).where(Deployment.name == "shop-db"))
        db.phase, db.ready_replicas = "degraded", 0
    rid = shop(client, SHOP.replace("web:v1", "web:v2"), status=200)["current_rollout"]["id"]
    step()  # db and queue: nothing to change
    step()
    release = ok(client.get(f"/v1/rollouts/{rid}"))
    assert release["state"] == "in_progress"
    assert "db is degraded (0/1 ready); web waits for db (service_healthy)" in release["message"]
    with session_scope() as session:
        r = session.get(StackRollout, uuid.UUID(rid))
        r.last_progress_at = utcnow() - timedelta(seconds=601)  # past the 600 s default
    step()
    release = ok(client.get(f"/v1/rollouts/{rid}"))
    assert release["state"] == "rolled_back"
    assert release["message"].startswith("no progress for 600 s: db is degraded")


def test_two_stacks_cannot_claim_one_deployment_name(client: TestClient) -> None:
    """Stack "a"'s service "b-web" and stack "a-b"'s "web" are both deployment "a-b-web":
    the second is refused, before any release has made it."""
    ok(put_json(client, "a", "services:\n  b-web:\n    image: nginx:1.27\n"), 201)
    body = problem(put_json(client, "a-b", "services:\n  web:\n    image: nginx:1.27\n"), 409)
    assert "stack 'a'" in body["detail"], body
    assert client.get("/v1/stacks/a-b").status_code == 404
