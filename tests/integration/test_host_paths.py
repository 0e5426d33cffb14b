"""Host paths an admin allows, against a real Postgres: the global list, a host's own list
(set with PATCH /v1/hosts), placement on the hosts that allow a path, and revisions
stored before paths were checked. The refusals themselves are in test_hostile.py.

Registering a host needs a live engine, so hosts here are rows made directly; PATCH and
the dry run's plan need none.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient


def ok(resp: httpx.Response, status: int = 200) -> Any:
    assert resp.status_code == status, resp.text
    return resp.json()


def refused(resp: httpx.Response) -> dict[str, Any]:
    assert resp.status_code == 422, resp.text
    return resp.json()


def paths(body: dict[str, Any]) -> list[str]:
    return [".".join(str(p) for p in e["loc"]) for e in body["errors"]]


@pytest.fixture
def deployer(client: TestClient) -> Iterator[TestClient]:
    token = ok(client.post("/v1/tokens", json={"name": "deployer", "scopes": ["deploy"]}), 201)
    with TestClient(client.app, headers={"Authorization": f"Bearer {token['token']}"}) as c:
        yield c


@pytest.fixture
def allowed_globally(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    from app.config import get_settings

    monkeypatch.setenv("MOORAGE_ALLOWED_BIND_PREFIXES", "/srv/web, /srv/config:ro, /var:ro")
    get_settings.cache_clear()
    yield
    monkeypatch.delenv("MOORAGE_ALLOWED_BIND_PREFIXES")
    get_settings.cache_clear()


def add_hosts(*names: str) -> None:
    from app.db import session_scope, utcnow
    from app.models import Host

    with session_scope() as session:
        for name in names:
            session.add(Host(name=name, url=f"unix:///run/{name}.sock", state="ready",
                             schedulable=True, labels={}, last_heartbeat_at=utcnow(),
                             engine_root_dir=f"/srv/{name}-docker"))


def spec(*volumes: dict[str, Any], replicas: int = 1) -> dict[str, Any]:
    return {"image": "nginx:1.27", "replicas": replicas, "volumes": list(volumes)}


def test_an_admin_allowed_path_works_for_a_deploy_token(
    allowed_globally: None, deployer: TestClient
) -> None:
    d = ok(deployer.put("/v1/deployments/web", json=spec(
        {"source": "//srv/./web/", "target": "/data"},
        {"source": "/srv/config/nginx", "target": "/etc/nginx", "read_only": True},
        {"source": "/var/log/nginx", "target": "/logs", "read_only": True})), 201)
    # Stored as checked: the normalised path is what the engine will mount.
    assert [v["source"] for v in d["spec"]["volumes"]] == [
        "/srv/web", "/srv/config/nginx", "/var/log/nginx"]
    assert d["revision"] == 1

    for volume, says in (
        ({"source": "/srv/web/sub", "target": "/x"}, "nothing below a read-write entry"),
        ({"source": "/srv/config", "target": "/x"}, "read-only only: set read_only: true"),
        ({"source": "/var/run/docker.sock", "target": "/x", "read_only": True},
         "under /var/run, which gives root on the host"),
        ({"source": "/var/lib/docker/volumes", "target": "/x", "read_only": True},
         "under /var/lib/docker"),
        ({"source": "/var", "target": "/x", "read_only": True},
         "contains /var/lib/containerd"),
        ({"source": "/srv/webapp", "target": "/x"}, "not an allowed host path"),
    ):
        body = refused(deployer.patch("/v1/deployments/web", json={"volumes": [volume]}))
        assert paths(body) == ["body.volumes.0.source"], body
        assert says in body["errors"][0]["msg"], body
    assert ok(deployer.get("/v1/deployments/web"))["resource_version"] == d["resource_version"]


def test_a_path_one_host_allows_is_planned_only_there(
    client: TestClient, deployer: TestClient
) -> None:
    add_hosts("edge-1", "edge-2", "edge-3")
    # No host allows it yet: refused, naming the field.
    web = {"source": "/srv/web", "target": "/data"}
    body = refused(deployer.put("/v1/deployments/web", json=spec(web)))
    assert paths(body) == ["body.volumes.0.source"]

    host = ok(client.patch("/v1/hosts/edge-2", json={"allowed_bind_prefixes": ["//srv/web/"]},
                           headers={"If-Match": '"1"'}))
    assert host["allowed_bind_prefixes"] == ["/srv/web"] and host["resource_version"] == 2
    assert ok(client.get("/v1/hosts/edge-2"))["allowed_bind_prefixes"] == ["/srv/web"]
    assert ok(client.get("/v1/hosts/edge-1"))["allowed_bind_prefixes"] == []

    plan = ok(deployer.put("/v1/deployments/web?dry_run=true", json=spec(web, replicas=3)))
    assert {(a["action"], a["host"]) for a in plan["actions"]} == {("create", "edge-2")}
    assert len(plan["actions"]) == 3 and plan["pending"] == []
    ok(deployer.put("/v1/deployments/web", json=spec(web, replicas=3)), 201)

    # Two paths that no single host allows together: refused as a whole.
    ok(client.patch("/v1/hosts/edge-3", json={"allowed_bind_prefixes": ["/srv/cache:ro"]}))
    cache = {"source": "/srv/cache/v2", "target": "/cache", "read_only": True}
    body = refused(deployer.put("/v1/deployments/web", json=spec(web, cache)))
    assert paths(body) == ["body.volumes"], body
    assert "no host allows all of these host paths together" in body["detail"], body

    # The engine's own socket and data root: never by a broad entry.
    ok(client.patch("/v1/hosts/edge-3", json={"allowed_bind_prefixes": ["/srv:ro", "/run:ro"]}))
    for source in ("/srv/edge-3-docker", "/run/edge-3.sock"):
        body = refused(deployer.put("/v1/deployments/other", json=spec(
            {"source": source, "target": "/x", "read_only": True})))
        assert "gives root on the host" in body["errors"][0]["msg"], body
    # Elsewhere below the entry, fine; and the plan keeps it off hosts that refuse it.
    plan = ok(deployer.put("/v1/deployments/other?dry_run=true", json=spec(
        {"source": "/srv/edge-2-docker", "target": "/x", "read_only": True}, replicas=2)))
    assert {a["host"] for a in plan["actions"]} == {"edge-3"}

    # Narrowed: the deployment's next change is refused; nothing changed.
    before = ok(deployer.get("/v1/deployments/web"))
    ok(client.patch("/v1/hosts/edge-2", json={"allowed_bind_prefixes": []}))
    refused(deployer.patch("/v1/deployments/web", json={"replicas": 5}))
    after = ok(deployer.get("/v1/deployments/web"))
    assert (after["resource_version"], after["revision"]) == (before["resource_version"], 1)


def test_an_unplaceable_dry_run_says_why(client: TestClient, deployer: TestClient) -> None:
    add_hosts("edge-1", "edge-2")
    ok(client.patch("/v1/hosts/edge-2", json={"allowed_bind_prefixes": ["/srv/web"],
                                              "schedulable": False}))
    plan = ok(deployer.put("/v1/deployments/web?dry_run=true", json=spec(
        {"source": "/srv/web", "target": "/data"})))
    assert plan["actions"] == []
    assert plan["pending"] == [
        "0/2 hosts match: 1 do not allow bind mount /srv/web, 1 is not schedulable"]


def test_a_revision_stored_before_paths_were_checked(
    client: TestClient, deployer: TestClient
) -> None:
    """Its spec still reads (no 500), but nothing applies it again: not a restart, a
    rollback to it, or a change on top of it."""
    from app.db import get_engine

    ok(deployer.put("/v1/deployments/web", json=spec({"source": "data", "target": "/d"})), 201)
    ok(deployer.patch("/v1/deployments/web", json={"env": {"A": "1"}}))
    with get_engine().begin() as conn:  # as the old code stored it (0015 converts it so)
        conn.execute(sa.text(
            "UPDATE revision SET spec = jsonb_set(spec::jsonb, '{volumes,0,source}', "
            "'\"/../../etc\"')::json, template = jsonb_set(template::jsonb, "
            "'{container,volumes,0,source}', '\"/../../etc\"')::json"))
    # Read by the upgraded code, which starts with no revision's spec kept.
    from app.api import presenters

    presenters.forget_specs()
    d = ok(deployer.get("/v1/deployments/web"))
    assert d["spec"]["volumes"][0]["source"] == "/../../etc"
    ok(deployer.get("/v1/deployments/web/revisions"))

    for resp in (deployer.post("/v1/deployments/web/restart"),
                 deployer.post("/v1/deployments/web/rollback", json={"revision": 1})):
        body = refused(resp)
        assert "spec is no longer valid" in body["detail"], body
        assert paths(body) == ["body.volumes.0.source"], body
    body = refused(deployer.patch("/v1/deployments/web", json={"replicas": 3}))
    assert paths(body) == ["body.volumes.0.source"], body
    assert ok(deployer.get("/v1/deployments/web"))["revision"] == 2

    # A new spec that binds no host path replaces it.
    ok(deployer.put("/v1/deployments/web", json=spec({"source": "data", "target": "/d"})))


@pytest.mark.parametrize("value", ["/srv/../etc", "srv", "/srv:rx", "/a,/b/../c"])
def test_a_malformed_global_list_stops_startup(monkeypatch: pytest.MonkeyPatch, value: str) -> None:
    from pydantic import ValidationError

    from app.config import Settings

    monkeypatch.setenv("MOORAGE_ALLOWED_BIND_PREFIXES", value)
    with pytest.raises(ValidationError, match="MOORAGE_ALLOWED_BIND_PREFIXES"):
        Settings()


def test_unknown_names_for_hosts_are_still_404(client: TestClient) -> None:
    resp = client.patch(f"/v1/hosts/h-{uuid.uuid4().hex[:8]}", json={"allowed_bind_prefixes": []})
    assert resp.status_code == 404, resp.text
