"""Pulling from a real registry (loopback, htpasswd auth): credentials global or per
deployment, never shown; pull progress and failures as events; a pushed tag that moved
is resolved from the registry, not from a host's stale copy; a host pulls exactly the
pinned content."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import unavailable
from tests.e2e.conftest import Stack, free_port, running_stack, wait_for
from tests.e2e.test_rollouts import CHECK, versions
from tests.e2e.test_webhooks import deliver
from tests.support import dockerd
from tests.support.registry import Registry

pytestmark = [pytest.mark.docker, pytest.mark.e2e]

STRATEGY = {"max_surge": 1, "max_unavailable": 0, "min_ready_s": 0.5, "progress_deadline_s": 20}
BLOB = "moorage-test/blob:v1"  # web:v1 plus a 2 MB layer no engine has until it pulls


@pytest.fixture(scope="module")
def registry(tmp_path_factory: pytest.TempPathFactory, engine: dockerd.Engine) -> Iterator[Registry]:
    reg = Registry(tmp_path_factory.mktemp("registry"), free_port())
    try:
        reg.start()
    except dockerd.EngineUnavailable as exc:
        unavailable(str(exc))
    try:
        yield reg
    finally:
        reg.stop()


@pytest.fixture
def pulling_stack(clean_db, engine: dockerd.Engine, tmp_path: Path) -> Iterator[Stack]:
    # Every pull message becomes a progress event, so even a fast pull shows some.
    with running_stack(tmp_path, {"e2e": engine}, MOORAGE_PULL_PROGRESS_INTERVAL_S="0") as s:
        yield s


def _build_blob(engine: dockerd.Engine, folder: Path) -> None:
    folder.mkdir(exist_ok=True)
    (folder / "blob").write_bytes(os.urandom(2_000_000))
    (folder / "Dockerfile").write_text(f"FROM {dockerd.WEB_V1}\nCOPY blob /blob\n")
    engine.docker("build", "-q", "-t", BLOB, str(folder))


def _events(stack: Stack, name: str) -> list[dict]:
    items: list[dict] = []
    cursor = None
    with stack.client() as c:
        while True:
            r = c.get(f"/v1/deployments/{name}/events",
                      params={"limit": 200, **({"cursor": cursor} if cursor else {})})
            assert r.status_code == 200, r.text
            items += r.json()["items"]
            if not (cursor := r.json()["next_cursor"]):
                return items


def _reasons(events: list[dict]) -> list[str]:
    return [e["reason"] for e in events]


def _apply(stack: Stack, name: str, spec: dict, expect: str) -> dict:
    with stack.client() as c:
        r = c.put(f"/v1/deployments/{name}", json=spec)
        assert r.status_code in (200, 201), r.text
    rollout = stack.wait_rollout(r.json()["current_rollout"]["id"])
    assert rollout["state"] == expect, (rollout, _events(stack, name))
    return rollout


def _image_ids(stack: Stack, name: str) -> set[str]:
    ids = stack.engine.docker("ps", "-q", "--no-trunc", "--filter",
                              f"label=moorage.deployment={name}").stdout.split()
    return {stack.engine.docker("inspect", "-f", "{{.Image}}", cid).stdout.strip() for cid in ids}


def test_global_credentials_pull_with_progress_and_the_password_never_shows(
    pulling_stack: Stack, registry: Registry, tmp_path: Path
) -> None:
    stack = pulling_stack
    _build_blob(stack.engine, tmp_path / "blob")
    ref = registry.push(stack.engine, BLOB, "moorage/blob", "v1").split("@")[0] + ":v1"
    stack.engine.docker("rmi", BLOB)  # now only the registry has the 2 MB layer
    spec = {"image": ref, "replicas": 2, "health_check": CHECK, "update_strategy": STRATEGY}

    # No credentials: the registry refuses, at once and for good.
    failed = _apply(stack, "pulled", spec, "failed")
    assert "no basic auth credentials" in failed["message"], failed
    assert {"ImagePulling", "ImagePullFailed"} <= set(_reasons(_events(stack, "pulled")))

    with stack.client() as c:
        r = c.put(f"/v1/registries/{registry.address}",
                  json={"username": registry.username, "password": "wrong-" + registry.password})
        assert r.status_code == 201, r.text
        r = c.put(f"/v1/registries/{registry.address}",
                  json={"username": registry.username, "password": registry.password})
        assert r.status_code == 200, r.text
        assert r.json()["username"] == registry.username and "password" not in r.json()
        listed = c.get("/v1/registries").json()["items"]
        assert [x["registry"] for x in listed] == [registry.address]
        assert c.put("/v1/registries/not a registry", json={"username": "u", "password": "p"}
                     ).status_code == 422

    _apply(stack, "pulled", {**spec, "env": {"TRY": "2"}}, "succeeded")
    events = _events(stack, "pulled")
    messages = "\n".join(e["message"] for e in events)
    assert f"as {registry.username} (global credentials for {registry.address})" in messages
    progress = [e["message"] for e in events if e["reason"] == "ImagePullProgress"]
    assert any("MB downloaded" in m for m in progress), progress
    assert "ImagePulled" in _reasons(events)
    pinned = [e["message"] for e in events if e["reason"] == "ImagePinned"][-1]
    assert f"hosts pull {registry.address}/moorage/blob@sha256:" in pinned, pinned
    with stack.client() as c:
        deployment = c.get("/v1/deployments/pulled").json()
        revisions = c.get("/v1/deployments/pulled/revisions").text
        registries = c.get(f"/v1/registries/{registry.address}").text
    assert deployment["status"]["phase"] == "available", deployment
    assert len(_image_ids(stack, "pulled")) == 1
    for text in (json.dumps(events), json.dumps(deployment), revisions, registries, stack.logs()):
        assert registry.password not in text


def test_a_deployments_own_credentials_win_and_are_write_only(
    stack: Stack, registry: Registry
) -> None:
    ref = registry.push(stack.engine, dockerd.WEB_V2, "moorage/own", "v2").split("@")[0] + ":v2"
    with stack.client() as c:
        assert c.put(f"/v1/registries/{registry.address}",
                     json={"username": "nobody", "password": "wrong-password"}).status_code in (200, 201)
    auth = {"username": registry.username, "password": registry.password}
    spec = {"image": ref, "replicas": 1, "health_check": CHECK, "update_strategy": STRATEGY,
            "registry_auth": auth}
    _apply(stack, "own", spec, "succeeded")
    assert versions(stack, "own") == ["v2"]
    with stack.client() as c:
        body = c.get("/v1/deployments/own").json()
        assert body["spec"]["registry_auth"] == {"username": registry.username}
        # A merge patch keeps the password it does not mention...
        r = c.patch("/v1/deployments/own", json={"env": {"A": "1"}})
        assert r.status_code == 200, r.text
        # ...and a dry run names a changed one without showing either value.
        r = c.put("/v1/deployments/own", params={"dry_run": "true"},
                  json={**spec, "env": {"A": "1"}, "registry_auth": {**auth, "password": "x" * 12}})
        changes = {ch["path"]: ch for ch in r.json()["changes"]}
        assert changes["registry_auth.password"]["new"] == "(changed)", changes
        texts = [json.dumps(body), r.text, c.get("/v1/deployments/own/revisions").text]
    assert all(registry.password not in t for t in texts)
    assert "(deployment credentials" in "\n".join(e["message"] for e in _events(stack, "own"))


def test_a_moved_tag_is_resolved_from_the_registry_not_a_stale_copy(
    stack: Stack, registry: Registry
) -> None:
    ref = registry.push(stack.engine, dockerd.WEB_V1, "moorage/web", "stable").split("@")[0] + ":stable"
    auth = {"username": registry.username, "password": registry.password}
    spec = {"image": ref, "replicas": 2, "health_check": CHECK, "update_strategy": STRATEGY,
            "registry_auth": auth}
    _apply(stack, "moved", spec, "succeeded")
    assert versions(stack, "moved") == ["v1", "v1"]
    # The tag moves in the registry; the engine's own copy of it still means v1, as it
    # does on any host that pulled it before.
    registry.push(stack.engine, dockerd.WEB_V2, "moorage/web", "stable")
    stack.engine.docker("tag", dockerd.WEB_V1, ref)
    with stack.client() as c:
        hook = c.post("/v1/deployments/moved/webhooks", json={"kind": "registry"}).json()
    # A push notification that does not say which digest (Docker Hub's never do): only
    # the registry can tell what the tag means now.
    push = {"id": "push-1", "action": "push", "target": {
        "mediaType": "application/vnd.docker.distribution.manifest.v2+json",
        "repository": "moorage/web", "tag": "stable"}}
    r = deliver(stack, hook, {"events": [push]})
    assert r.status_code == 202, r.text
    rollout = stack.wait_rollout(r.json()["rollout_id"])
    assert rollout["state"] == "succeeded", rollout
    assert versions(stack, "moved") == ["v2", "v2"]


def test_a_missing_repository_fails_at_once_and_a_down_registry_at_the_deadline(
    stack: Stack, registry: Registry
) -> None:
    auth = {"username": registry.username, "password": registry.password}
    failed = _apply(stack, "absent", {"image": f"{registry.address}/moorage/absent:v1",
                                      "registry_auth": auth}, "failed")
    assert "not found" in failed["message"] or "unknown" in failed["message"], failed

    # Nobody listens there: the pull is retried (with back-off) until the deadline.
    down = f"127.0.0.1:{free_port()}/moorage/web:v1"
    failed = _apply(stack, "down", {"image": down, "update_strategy": {"progress_deadline_s": 4}},
                    "failed")
    assert "progress deadline" in failed["message"] and "connection refused" in failed["message"]
    pulls = _reasons(_events(stack, "down")).count("ImagePulling")
    assert 1 <= pulls <= 4, pulls  # backed off, not once per pass
    assert stack.containers("down", all_states=True) == []


def test_every_host_pulls_the_pinned_digest_even_after_the_tag_moves(
    fleet: Stack, registry: Registry, tmp_path: Path
) -> None:
    source = fleet.hosts["h1"]  # type: ignore[attr-defined]
    _build_blob(source, tmp_path / "blob")  # content only h1 has, until it is pushed
    ref = registry.push(source, BLOB, "moorage/spread", "v1").split("@")[0] + ":v1"
    pinned_id = source.docker("image", "inspect", "-f", "{{.Id}}", BLOB).stdout.strip()
    auth = {"username": registry.username, "password": registry.password}
    spec = {"image": ref, "replicas": 1, "health_check": CHECK, "update_strategy": STRATEGY,
            "registry_auth": auth, "placement": {"constraints": ["region==eu"]}}
    _apply(fleet, "spread", spec, "succeeded")
    # The tag now means other content; the revision still means what it pinned.
    registry.push(source, dockerd.WEB_V2, "moorage/spread", "v1")
    _apply(fleet, "spread", {**spec, "replicas": 3, "placement": {"max_per_host": 1}}, "succeeded")

    for host, eng in fleet.hosts.items():  # type: ignore[attr-defined]
        ids = eng.docker("ps", "-q", "--no-trunc", "--filter", "label=moorage.deployment=spread"
                         ).stdout.split()
        assert len(ids) == 1, (host, ids)
        assert eng.docker("inspect", "-f", "{{.Image}}", ids[0]).stdout.strip() == pinned_id
    pulls = [e["message"] for e in _events(fleet, "spread") if e["reason"] == "ImagePulling"]
    by_tag = [m for m in pulls if f"pulling {ref} " in m]
    by_digest = [m for m in pulls if f"pulling {registry.address}/moorage/spread@sha256:" in m]
    # The tag was pulled once, to pin it; every later pull asked for the pinned digest.
    assert len(by_tag) == 1 and by_digest and len(pulls) == len(by_tag) + len(by_digest), pulls
    source.docker("rmi", BLOB, check=False)


def test_a_push_notified_by_the_registry_itself_rolls_out(
    stack: Stack, registry: Registry
) -> None:
    ref = registry.push(stack.engine, dockerd.WEB_V1, "moorage/notified", "v1").split("@")[0] + ":v1"
    auth = {"username": registry.username, "password": registry.password}
    _apply(stack, "notified", {"image": ref, "replicas": 2, "health_check": CHECK,
                               "update_strategy": STRATEGY, "registry_auth": auth}, "succeeded")
    with stack.client() as c:
        hook = c.post("/v1/deployments/notified/webhooks", json={"kind": "registry"}).json()
    # The registry posts its own notifications, with the hook's secret as a bearer token.
    registry.restart(notify=(f"{stack.url}{hook['url']}", f"Bearer {hook['secret']}"))
    try:
        digest_ref = registry.push(stack.engine, dockerd.WEB_V2, "moorage/notified", "v2")

        def rolled_out() -> bool:
            body = stack.deployment("notified")
            return body["spec"]["image"].endswith("@" + digest_ref.split("@")[1]) and (
                body["status"]["phase"] == "available")

        wait_for(rolled_out, 60, "the notified push to roll out")
        assert versions(stack, "notified") == ["v2", "v2"]
        with stack.client() as c:
            delivered = c.get(f"/v1/deployments/notified/webhooks/{hook['id']}/deliveries"
                              ).json()["items"]
        assert "applied" in {d["outcome"] for d in delivered}, delivered
    finally:
        registry.restart(notify=None)
