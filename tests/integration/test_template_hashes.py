"""What a reader sees of a template hash (container names, their labels) is keyed with
the installation's own key: no wordlist run against it finds a secret. Revisions made
before the key existed keep the hashes they had, so an upgrade replaces no container.
Real Postgres, the app in-process; no engine (the containers are what the reconciler
would ask one for)."""

from __future__ import annotations

import json
import uuid
from typing import Any

import pytest
from fastapi.testclient import TestClient

SECRET = "hunter2"
WORDLIST = ["123456", "password", "letmein", "hunter2", "qwerty", "dragon"]


def _spec(**overrides: Any) -> dict[str, Any]:
    return {"image": "nginx:1.27", "replicas": 1, "env": {"DB_USER": "app"},
            "secrets": {"DB_PASSWORD": SECRET}, **overrides}


def _ok(resp, status: int = 200) -> Any:
    assert resp.status_code == status, resp.text
    return resp.json()


def _revision(name: str, number: int | None = None):
    from app.db import session_scope
    from app.repositories import deployments as deployment_repo

    with session_scope() as session:
        d = deployment_repo.get_by_name(session, name)
        return deployment_repo.revision(session, d.id, number or d.revision)


def _key() -> bytes:
    from app.db import session_scope
    from app.services import installation

    with session_scope() as session:
        return installation.hash_key(session)


def _as_the_reconciler_would(name: str) -> tuple[str, dict[str, str]]:
    """The container the reconciler asks an engine for (slot 0), and records once seen."""
    from app.config import get_settings
    from app.db import session_scope
    from app.models import Host, Replica
    from app.reconcile.planner import container_name
    from app.reconcile.types import Create
    from app.repositories import deployments as deployment_repo
    from app.services.reconciler.act import container_request
    from app.services.reconciler.context import load

    with session_scope() as session:
        d = deployment_repo.get_by_name(session, name)
        host = Host(name=f"h-{uuid.uuid4().hex[:6]}", url="unix:///nonexistent.sock", labels={},
                    state="ready", schedulable=True, resource_version=1)
        session.add(host)
        session.flush()
        deployment_id, host_id = d.id, host.id
    settings = get_settings()
    ctx = load(deployment_id, settings, on_generation=lambda _g: None)
    assert ctx is not None
    create = Create(0, "h", container_name(name, 0, ctx.desired.template_hash), "missing replica")
    request = container_request(ctx, create, settings)
    with session_scope() as session:
        session.add(Replica(deployment_id=deployment_id, host_id=host_id, slot=0,
                            revision=ctx.desired.revision, template_hash=ctx.desired.template_hash,
                            container_id=uuid.uuid4().hex, container_name=request.name,
                            state="running"))
    return request.name, request.labels


def test_nothing_a_reader_sees_matches_a_wordlist(client: TestClient) -> None:
    from app.dockerhost.engine import L_INSTALLATION, L_TEMPLATE
    from app.services import specs

    name = "web"
    _ok(client.put(f"/v1/deployments/{name}", json=_spec()), 201)
    container, labels = _as_the_reconciler_would(name)
    rev = _revision(name)

    reader = _ok(client.post("/v1/tokens", json={"name": "r", "scopes": ["read"]}), 201)
    headers = {"Authorization": f"Bearer {reader['token']}"}
    seen = [_ok(client.get(path, headers=headers)) for path in (
        "/v1/deployments", f"/v1/deployments/{name}", f"/v1/deployments/{name}/revisions",
        f"/v1/deployments/{name}/revisions/1", f"/v1/deployments/{name}/rollouts",
        f"/v1/deployments/{name}/events", f"/v1/deployments/{name}/replicas")]
    replicas = seen[-1]["items"]
    assert [r["container_name"] for r in replicas] == [container]
    visible = json.dumps(seen) + json.dumps([container, labels])
    assert SECRET not in visible

    def guessed(formula) -> list[str]:
        """Wordlist entries whose hash under ``formula`` shows up anywhere visible."""
        return [w for w in WORDLIST
                if formula({"DB_PASSWORD": w})[:10] in visible]

    # Before 0012 the suffix was the unkeyed hash, and this found the secret.
    assert guessed(lambda s: specs.unkeyed_template_hash(rev.spec, s, rev.restart_nonce)) == []
    # The suffix is the keyed hash, which only the key makes; another key makes another.
    key = _key()
    assert guessed(lambda s: specs.template_hash(key, rev.spec, s, rev.restart_nonce)) == [SECRET]
    other = uuid.uuid4().hex.encode()
    assert guessed(lambda s: specs.template_hash(other, rev.spec, s, rev.restart_nonce)) == []
    assert container.endswith("." + rev.template_hash[:10]) and labels[L_TEMPLATE] == rev.template_hash
    assert rev.spec_hash == specs.spec_hash(key, rev.spec, rev.secrets)
    assert rev.spec_hash != specs.unkeyed_spec_hash(rev.spec, rev.secrets)
    # The installation label is the stored id, not a function of the database URL.
    from app.db import session_scope
    from app.services import installation

    with session_scope() as session:
        assert labels[L_INSTALLATION] == installation.installation_id(session)


@pytest.mark.usefixtures("clean_db")
def test_revisions_made_before_the_key_keep_their_hashes(client: TestClient) -> None:
    """An upgraded installation: its revisions hold unkeyed hashes and its containers are
    named after them. The same spec again is no new revision; a scale (no revision at
    all) keeps the hash (no container replaced); a changed template is keyed; a rollback to an old template
    finds its old hash again."""
    from app.db import session_scope
    from app.models import Revision
    from app.services import specs

    name = "legacy"
    _ok(client.put(f"/v1/deployments/{name}", json=_spec()), 201)
    with session_scope() as session:  # as a Moorage before 0012 wrote revision 1
        rev = session.query(Revision).one()
        rev.template_hash = specs.unkeyed_template_hash(rev.spec, rev.secrets, rev.restart_nonce)
        rev.spec_hash = specs.unkeyed_spec_hash(rev.spec, rev.secrets, rev.registry_password)
        old_hash = rev.template_hash

    _ok(client.put(f"/v1/deployments/{name}", json=_spec()))
    assert _ok(client.get(f"/v1/deployments/{name}"))["revision"] == 1  # nothing changed

    container, _ = _as_the_reconciler_would(name)  # its replica, named after the old hash
    assert container.endswith("." + old_hash[:10])
    dry = _ok(client.put(f"/v1/deployments/{name}", json=_spec(replicas=3),
                         params={"dry_run": "true"}))
    assert not dry["new_revision"]  # a scale makes no revision
    assert sorted((a["action"], a["slot"]) for a in dry["actions"]) == [("create", 1), ("create", 2)]
    scaled = _ok(client.patch(f"/v1/deployments/{name}", json={"replicas": 3},
                              headers={"Content-Type": "application/merge-patch+json"}))
    assert scaled["current_rollout"]["kind"] == "scale"
    assert scaled["revision"] == 1 and _revision(name).template_hash == old_hash

    changed = _ok(client.patch(f"/v1/deployments/{name}", json={"secrets": {"DB_PASSWORD": "new"}},
                               headers={"Content-Type": "application/merge-patch+json"}))
    assert changed["current_rollout"]["kind"] == "update"
    rev2 = _revision(name, 2)
    assert rev2.template_hash == specs.template_hash(_key(), rev2.spec, rev2.secrets,
                                                     rev2.restart_nonce)
    assert rev2.template_hash != specs.unkeyed_template_hash(rev2.spec, rev2.secrets,
                                                             rev2.restart_nonce)

    _ok(client.post(f"/v1/deployments/{name}/rollback", json={"revision": 1}), 202)
    assert _revision(name, 3).template_hash == old_hash
    # Revision 1 (unkeyed) is the current spec (keyed) now: refused as such, not a 500.
    assert client.post(f"/v1/deployments/{name}/rollback", json={"revision": 1}).status_code == 409
