"""Hostile input against a real Postgres: path and unicode tricks, malformed and oversized
bodies, odd headers and queries. Whatever comes in, the answer is a 4xx problem, never a
500, nothing is written, and no secret (a deployment's, a webhook's, a token) comes out.
"""

from __future__ import annotations

import json
import logging
import uuid
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient

from app.services.webhook_payloads import sign
from tests.conftest import AUTH, BOOTSTRAP_TOKEN

PROBLEM = "application/problem+json"

NAMES = [
    "..", "%2E%2E", "%2e%2e%2F%2e%2e", "a%2Fb", "%2F", "web%00", "web%0Aevil", "w%E2%80%8Beb",
    "%E2%80%AEweb", "w%D0%B5b", "%F0%9F%98%80", "a" * 64, "a" * 10_000, "web%20", "WEB", "-web",
    "web;rm", "%25", "%", "web%C0%AF", "%FF%FE", "web.", "xn--WEB", "web%2F..%2F..%2Ftokens",
]


@pytest.fixture(scope="module")
def client(postgres: str, redis_broker: str) -> Iterator[TestClient]:
    """Most cases write nothing, so they share one app; each works on names of its own."""
    from app.main import create_app
    from tests.conftest import ensure_bootstrap_token

    ensure_bootstrap_token()
    with TestClient(create_app(), headers=AUTH) as c:
        yield c


@pytest.fixture(autouse=True)
def _token() -> None:
    from tests.conftest import ensure_bootstrap_token

    ensure_bootstrap_token()  # other modules' clean_db may have emptied the token table


def four_xx(resp: httpx.Response) -> dict[str, Any] | None:
    assert 400 <= resp.status_code < 500, (resp.request.method, resp.request.url, resp.text[:500])
    if resp.headers.get("content-type", "").startswith(PROBLEM):
        body = resp.json()
        assert body["status"] == resp.status_code and body["title"]
        return body
    return None


def count(table: str) -> int:
    from app.db import get_engine

    with get_engine().connect() as conn:
        return conn.execute(sa.text(f"SELECT count(*) FROM {table}")).scalar_one()


@pytest.fixture
def deployment(client: TestClient) -> str:
    name = f"h-{uuid.uuid4().hex[:10]}"
    resp = client.put(f"/v1/deployments/{name}", json={"image": "nginx:1.27"})
    assert resp.status_code == 201, resp.text
    return name


# -- names -------------------------------------------------------------------------------


@pytest.mark.parametrize("name", NAMES, ids=lambda n: n[:20])
def test_tricky_names_in_paths_are_4xx(client: TestClient, name: str) -> None:
    before = count("deployment"), count("host"), count("webhook")
    spec = {"image": "nginx:1.27"}
    for method, path, body in (
        ("GET", f"/v1/deployments/{name}", None),
        ("PUT", f"/v1/deployments/{name}", spec),
        ("PATCH", f"/v1/deployments/{name}", {"replicas": 2}),
        ("DELETE", f"/v1/deployments/{name}", None),
        ("POST", f"/v1/deployments/{name}/rollback", {}),
        ("POST", f"/v1/deployments/{name}/restart", None),
        ("GET", f"/v1/deployments/{name}/events", None),
        ("GET", f"/v1/deployments/{name}/logs", None),
        ("GET", f"/v1/deployments/{name}/revisions/1", None),
        ("POST", f"/v1/deployments/{name}/webhooks", {"kind": "generic"}),
        ("GET", f"/v1/hosts/{name}", None),
        ("PATCH", f"/v1/hosts/{name}", {"labels": {}}),
        ("DELETE", f"/v1/hosts/{name}", None),
        ("GET", f"/v1/rollouts/{name}", None),
        ("DELETE", f"/v1/tokens/{name}", None),
        ("POST", f"/v1/hooks/{name}", {"tag": "1"}),
    ):
        resp = client.request(method, path, json=body, follow_redirects=False)
        if 300 <= resp.status_code < 400:  # "%2F" ends in "//": Starlette's slash redirect
            assert "%2F" in name
            continue
        if name == ".." and resp.request.url.path == "/v1/events":
            # The client itself resolved /v1/deployments/../events: a read of every
            # deployment's events (GET /v1/events), which no name reached.
            assert method == "GET" and resp.status_code == 200
            continue
        four_xx(resp)
    assert (count("deployment"), count("host"), count("webhook")) == before


@pytest.mark.parametrize("name", [
    "..", "a/b", "web\x00", "w\u200beb", "\u202eweb", "w\u0435b", "\U0001f600", "a" * 64,
    "a" * 100_000, "", " web", "WEB", None, 42, ["web"], {"web": 1},
], ids=lambda n: repr(n)[:20])
def test_tricky_names_in_bodies_are_422(client: TestClient, name: Any) -> None:
    before = count("deployment"), count("host")
    body = four_xx(client.post("/v1/deployments", json={"name": name, "image": "nginx:1.27"}))
    assert body and body["status"] == 422
    four_xx(client.post("/v1/hosts", json={"name": name, "url": "unix:///x.sock"}))
    assert (count("deployment"), count("host")) == before


# -- bodies ------------------------------------------------------------------------------


MALFORMED = [
    b"", b"{", b"}", b"null", b"[]", b'"x"', b"0", b"true", b"{image: nginx}", b"{'a': 1}",
    b'{"image": "nginx:1.27",}', b'{"image": NaN}', b'{"replicas": 1e999}',
    b'{"replicas": 1' + b"0" * 5000 + b"}", b'{"replicas": -0.0}', b'{"replicas": "1"}',
    b"\xff\xfe\x00\x00", b"\x00" * 16,
    b'{"image": "\\ud800"}', b'{"image": "nginx:1.27\\u0000"}', b"[" * 100_000,
    b'{"a":' * 10_000 + b"1" + b"}" * 10_000,
    json.dumps({"image": "nginx:1.27", "env": {"K": "v\x00"}}).encode(),
    json.dumps({"image": "nginx:1.27", "labels": {"k": "v\x00"}}).encode(),
    json.dumps({"image": "nginx:1.27", "labels": {"k\x00": "v"}}).encode(),
    json.dumps({"image": "nginx:1.27", "command": ["a\x00"]}).encode(),
    json.dumps({"image": "nginx:1.27", "volumes": [{"source": "/x\x00", "target": "/y"}]}).encode(),
    json.dumps({"image": "nginx:1.27", "ports": [{"container_port": 80, "host_ip": "::ffff:x"}]}).encode(),
    json.dumps({"image": "nginx:1.27", "placement": {"constraints": ["a\x00==b"]}}).encode(),
    json.dumps({"image": "nginx:1.27", "health_check": {"http": {"path": "/\x00", "port": 1}}}).encode(),
    json.dumps({"image": "nginx:1.27", "replicas": 2**63}).encode(),
    json.dumps({"image": "nginx:1.27", "resources": {"cpus": float("inf")}}).encode(),
]


@pytest.mark.parametrize("raw", MALFORMED, ids=lambda b: repr(b[:24]))
@pytest.mark.parametrize("content_type", ["application/json", "text/plain"])
def test_malformed_deployment_bodies_are_4xx(client: TestClient, raw: bytes, content_type: str) -> None:
    name = f"h-{uuid.uuid4().hex[:10]}"
    before = count("deployment")
    four_xx(client.put(f"/v1/deployments/{name}", content=raw, headers={"Content-Type": content_type}))
    four_xx(client.post("/v1/deployments", content=raw, headers={"Content-Type": content_type}))
    assert count("deployment") == before


@pytest.mark.parametrize("body", [
    {"name": "x\x00", "scopes": ["read"]}, {"name": "x", "scopes": ["read\x00"]},
    {"name": "x", "scopes": ["read"], "expires_at": "9999-99-99T00:00:00Z"},
    {"name": "x", "scopes": ["read"], "expires_at": "10000-01-01T00:00:00Z"},
    {"name": "x", "scopes": ["read"], "expires_at": 1e30}, {"name": {"a": 1}, "scopes": ["read"]},
    {"name": "x", "scopes": ["read"] * 1000},
], ids=lambda b: repr(b)[:30])
def test_malformed_token_requests_are_4xx(client: TestClient, body: dict[str, Any]) -> None:
    before = count("api_token")
    four_xx(client.post("/v1/tokens", json=body))
    assert count("api_token") == before


@pytest.mark.parametrize("body", [
    {"kind": "generic", "tag_pattern": "a\x00"}, {"kind": "generic", "tag_pattern": "(" * 300},
    {"kind": "generic", "tag_pattern": "[z-a]"}, {"kind": "generic\x00"}, {"kind": ["generic"]},
    {"kind": "generic", "tag_pattern": 5},
], ids=lambda b: repr(b)[:30])
def test_malformed_webhook_requests_are_4xx(client: TestClient, deployment: str, body: dict[str, Any]) -> None:
    four_xx(client.post(f"/v1/deployments/{deployment}/webhooks", json=body))
    assert client.get(f"/v1/deployments/{deployment}/webhooks").json()["items"] == []


def test_oversized_bodies_are_413(client: TestClient, deployment: str) -> None:
    big = b'{"name": "' + b"x" * 1_100_000 + b'", "scopes": ["read"]}'
    for method, path in (("POST", "/v1/tokens"), ("POST", "/v1/deployments"),
                         ("PATCH", f"/v1/deployments/{deployment}"),
                         ("POST", f"/v1/deployments/{deployment}/webhooks")):
        resp = client.request(method, path, content=big, headers={"Content-Type": "application/json"})
        assert resp.status_code == 413, (path, resp.text[:200])


# -- headers and queries ------------------------------------------------------------------


@pytest.mark.parametrize("value", ['"abc"', "W/", '"1', "*, *", "x" * 10_000, '"1"' * 500,
                                   '"99999999999999999999999"', "\t"])
def test_odd_if_match_values_are_412_not_500(client: TestClient, deployment: str, value: str) -> None:
    resp = client.put(f"/v1/deployments/{deployment}", json={"image": "nginx:1.28"},
                      headers={"If-Match": value})
    assert resp.status_code in (200, 412), resp.text  # "*, *" matches anything
    four_xx(client.delete(f"/v1/deployments/{deployment}", headers={"If-Match": '"0"'}))


@pytest.mark.parametrize("query", [
    "limit=0", "limit=-1", "limit=501", "limit=1" + "0" * 30, "limit=abc", "limit=1.5",
    "cursor=" + "A" * 600, "cursor=%00", "cursor=eyJrIjogW119", "cursor=eyJrIjogMWUzMDB9",
    "cursor=" + "eyJrIjoi" + "QUFB" * 40, "label=%00=x", "label=noequals",
])
def test_odd_list_queries_are_4xx(client: TestClient, deployment: str, query: str) -> None:
    hook = client.post(f"/v1/deployments/{deployment}/webhooks", json={"kind": "generic"}).json()
    for path in ("/v1/deployments", "/v1/hosts", "/v1/tokens", f"/v1/deployments/{deployment}/revisions",
                 f"/v1/deployments/{deployment}/rollouts", f"/v1/deployments/{deployment}/replicas",
                 f"/v1/deployments/{deployment}/webhooks",
                 f"/v1/deployments/{deployment}/webhooks/{hook['id']}/deliveries"):
        resp = client.get(f"{path}?{query}")
        if resp.status_code != 200:  # e.g. a label filter the path does not take
            four_xx(resp)


@pytest.mark.parametrize("query", ["wait=-1", "wait=1e308", "wait=nan", "wait=inf", "wait=301"])
def test_odd_rollout_waits_are_422(client: TestClient, deployment: str, query: str) -> None:
    rollout = client.get(f"/v1/deployments/{deployment}").json()["current_rollout"]["id"]
    four_xx(client.get(f"/v1/rollouts/{rollout}?{query}"))


@pytest.mark.parametrize("query", ["after=-1", f"after={2**63}", "after=x", "tail=0", "tail=10001"])
def test_odd_event_and_log_queries_are_422(client: TestClient, deployment: str, query: str) -> None:
    path = "logs" if query.startswith("tail") else "events"
    four_xx(client.get(f"/v1/deployments/{deployment}/{path}?{query}"))


def test_odd_last_event_ids_are_422(client: TestClient, deployment: str) -> None:
    for value in ("x", "-1", "²".encode(), "\u0661".encode(), str(2**63), "1" * 30):
        four_xx(client.get(f"/v1/deployments/{deployment}/events",
                           headers={"Accept": "text/event-stream", "Last-Event-ID": value}))


# -- host access: a deploy token must not take root on a host ------------------------------

# Every one was accepted once, and ran: a deploy token mounted / read-write and wrote to
# the host as uid 0. No admin has allowed a host path here, so every path is refused, and
# the escalation paths would be even under a broad entry (tests/unit/test_host_access.py).
ESCALATIONS = [
    "/", "/var/run/docker.sock", "/run/docker.sock", "/run/containerd/containerd.sock",
    "/proc", "/proc/1/root", "/proc/sys/kernel/core_pattern", "/dev/mem", "/dev/sda",
    "/sys/kernel", "/sys/fs/cgroup", "/etc", "//etc", "/etc/shadow", "/root/.ssh",
    "/var/lib/docker", "/boot", "/usr/bin", "/tmp", "/srv/data",
]
# Not even host paths by the time they are mounted: refused by the schema.
NOT_PATHS = ["/../../etc", "/etc/../etc/shadow", "/srv/..", "../etc", "./etc", "etc/shadow",
             "/srv:/etc", "/srv/x:/etc:rw", "/srv\nx"]


@pytest.fixture(scope="module")
def deployer(client: TestClient) -> Iterator[TestClient]:
    made = client.post("/v1/tokens", json={"name": "hostile-deployer", "scopes": ["deploy"]})
    assert made.status_code == 201, made.text
    with TestClient(client.app, headers={"Authorization": f"Bearer {made.json()['token']}"}) as c:
        yield c


def _unchanged(client: TestClient, name: str, before: dict[str, Any]) -> None:
    after = client.get(f"/v1/deployments/{name}").json()
    assert (after["resource_version"], after["revision"], after["spec"]) == (
        before["resource_version"], before["revision"], before["spec"])
    assert len(client.get(f"/v1/deployments/{name}/revisions").json()["items"]) == before["revision"]


def _refused(resp: httpx.Response, field: str = "body.volumes.0.source") -> str:
    body = four_xx(resp)
    assert resp.status_code == 422 and body is not None, resp.text
    assert field in [".".join(str(p) for p in e["loc"]) for e in body["errors"]], body
    return body["detail"]


@pytest.mark.parametrize("source", ESCALATIONS + NOT_PATHS, ids=lambda s: repr(s)[1:-1])
@pytest.mark.parametrize("read_only", [False, True], ids=["rw", "ro"])
def test_a_deploy_token_binding_a_host_path_is_422_and_changes_nothing(
    client: TestClient, deployer: TestClient, deployment: str, source: str, read_only: bool
) -> None:
    volumes = [{"source": source, "target": "/host", "read_only": read_only}]
    spec = {"image": "nginx:1.27", "volumes": volumes}
    before = client.get(f"/v1/deployments/{deployment}").json()
    deployments = count("deployment")
    new = f"h-{uuid.uuid4().hex[:10]}"
    beside_a_name = [{"source": "data", "target": "/data"}, *volumes]
    for resp, field in (
        (deployer.put(f"/v1/deployments/{new}", json=spec), "body.volumes.0.source"),
        (deployer.put(f"/v1/deployments/{new}?dry_run=true", json=spec), "body.volumes.0.source"),
        (deployer.post("/v1/deployments", json={"name": new, **spec}), "body.volumes.0.source"),
        (deployer.put(f"/v1/deployments/{deployment}", json=spec), "body.volumes.0.source"),
        (deployer.put(f"/v1/deployments/{deployment}?dry_run=true", json=spec),
         "body.volumes.0.source"),
        (deployer.patch(f"/v1/deployments/{deployment}", json={"volumes": volumes}),
         "body.volumes.0.source"),
        (deployer.patch(f"/v1/deployments/{deployment}?dry_run=true", json={"volumes": volumes}),
         "body.volumes.0.source"),
        # A named volume beside it lets nothing through.
        (deployer.put(f"/v1/deployments/{new}", json={**spec, "volumes": beside_a_name}),
         "body.volumes.1.source"),
    ):
        _refused(resp, field)
    _unchanged(client, deployment, before)
    assert count("deployment") == deployments
    four_xx(client.get(f"/v1/deployments/{new}"))


def test_the_refusal_says_why_and_an_admin_token_gets_no_bypass(
    client: TestClient, deployer: TestClient, deployment: str
) -> None:
    before = client.get(f"/v1/deployments/{deployment}").json()
    for who in (deployer, client):  # `client` holds the admin bootstrap token
        detail = _refused(who.put(f"/v1/deployments/{deployment}", json={
            "image": "nginx:1.27", "volumes": [{"source": "/var/run/docker.sock",
                                                 "target": "/var/run/docker.sock"}]}))
        assert detail.startswith("volumes.0.source: /var/run/docker.sock is a host path, and "
                                 "none is allowed: an admin allows them"), detail
    resp = client.put(f"/v1/deployments/{deployment}", json={
        "image": "nginx:1.27", "volumes": [{"source": "/proc/../etc", "target": "/x"}]})
    _refused(resp)
    assert "'..' is not allowed in a host path" in resp.json()["errors"][0]["msg"], resp.text
    _unchanged(client, deployment, before)


def test_named_volumes_stay_open_to_a_deploy_token(
    client: TestClient, deployer: TestClient, deployment: str
) -> None:
    resp = deployer.patch(f"/v1/deployments/{deployment}", json={"volumes": [
        {"source": "web-data", "target": "/data"}, {"source": "cache.v2", "target": "/cache",
                                                      "read_only": True}]})
    assert resp.status_code == 200, resp.text
    assert [v["source"] for v in resp.json()["spec"]["volumes"]] == ["web-data", "cache.v2"]


@pytest.mark.parametrize("field", [
    {"privileged": True}, {"cap_add": ["SYS_ADMIN"]}, {"devices": ["/dev/mem"]},
    {"network_mode": "host"}, {"pid_mode": "host"}, {"pid": "host"}, {"ipc_mode": "host"},
    {"userns_mode": "host"}, {"security_opt": ["apparmor=unconfined"]},
    {"sysctls": {"kernel.core_pattern": "|/x"}}, {"user": "0"}, {"cgroup_parent": "/"},
    {"mounts": [{"type": "bind", "source": "/", "target": "/host"}]}, {"binds": ["/:/host"]},
    {"tmpfs": {"/x": ""}}, {"volumes_from": ["other"]},
    {"volumes": [{"source": "data", "target": "/d", "type": "bind"}]},
    {"volumes": [{"source": "data", "target": "/d", "propagation": "rshared"}]},
], ids=lambda f: next(iter(f)))
def test_no_other_field_gives_host_access(
    client: TestClient, deployer: TestClient, deployment: str, field: dict[str, Any]
) -> None:
    """The spec has no privileged mode, capabilities, devices, host namespaces or raw
    mounts: asking for one is an unknown field (422), never silently ignored."""
    before = client.get(f"/v1/deployments/{deployment}").json()
    body = four_xx(deployer.put(f"/v1/deployments/{deployment}",
                                json={"image": "nginx:1.27", **field}))
    assert body and body["status"] == 422
    assert any(e["type"] == "extra_forbidden" for e in body["errors"]), body
    _unchanged(client, deployment, before)


@pytest.mark.parametrize("entries", [
    ["/srv/../etc"], ["srv"], ["/srv:rx"], ["/srv\x00"], [""], ["/srv", "/a/../b"], "/srv",
    [["/srv"]], ["/" + "a" * 5000],
], ids=lambda e: repr(e)[:24])
def test_malformed_allow_lists_are_422(client: TestClient, entries: Any) -> None:
    before = count("host")
    body = four_xx(client.post("/v1/hosts", json={"name": "edge-x", "url": "unix:///x.sock",
                                                  "allowed_bind_prefixes": entries}))
    assert body and body["status"] == 422
    assert any(".".join(map(str, e["loc"])).startswith("body.allowed_bind_prefixes")
               for e in body["errors"]), body
    assert count("host") == before
    four_xx(client.patch("/v1/hosts/ghost", json={"allowed_bind_prefixes": entries}))


def test_a_deploy_token_cannot_change_a_hosts_allow_list(deployer: TestClient) -> None:
    resp = deployer.patch("/v1/hosts/anything", json={"allowed_bind_prefixes": ["/"]})
    assert resp.status_code == 403, resp.text
    resp = deployer.post("/v1/hosts", json={"name": "mine", "url": "unix:///x.sock",
                                            "allowed_bind_prefixes": ["/"]})
    assert resp.status_code == 403, resp.text


# -- secrets never leak ------------------------------------------------------------------


def test_no_secret_appears_in_any_answer_event_delivery_or_log_line(
    client: TestClient, caplog: pytest.LogCaptureFixture
) -> None:
    from app.db import get_engine

    caplog.set_level(logging.DEBUG)
    name = f"h-{uuid.uuid4().hex[:10]}"
    deployment_secret = f"dep-secret-{uuid.uuid4().hex}"
    shown: list[str] = []  # answers that carry a secret once, by design

    created = client.put(f"/v1/deployments/{name}", json={
        "image": "nginx:1.27", "secrets": {"DB_PASSWORD": deployment_secret}})
    hook_resp = client.post(f"/v1/deployments/{name}/webhooks", json={"kind": "generic"})
    hook = hook_resp.json()
    token_resp = client.post("/v1/tokens", json={"name": "leak-check", "scopes": ["deploy"]})
    token = token_resp.json()["token"]
    shown += [hook_resp.text, token_resp.text]
    secrets = {"deployment": deployment_secret, "webhook": hook["secret"], "token": token,
               "bootstrap": BOOTSTRAP_TOKEN}

    texts = [created.text]
    with TestClient(client.app, headers={"Authorization": f"Bearer {token}"}) as as_deployer:
        body = json.dumps({"tag": "1.28"}).encode()
        texts.append(as_deployer.post(hook["url"], content=body,
                                      headers={"X-Hub-Signature-256": sign(hook["secret"], body)}).text)
        texts.append(as_deployer.post(hook["url"], content=body,
                                      headers={"X-Hub-Signature-256": "sha256=" + "0" * 64}).text)
        texts.append(as_deployer.patch(f"/v1/deployments/{name}",
                                       json={"secrets": {"DB_PASSWORD": deployment_secret + "2"}}).text)
        texts.append(as_deployer.put(f"/v1/deployments/{name}?dry_run=true", json={
            "image": "nginx:1.27", "secrets": {"DB_PASSWORD": deployment_secret}}).text)
        texts.append(as_deployer.post(f"/v1/deployments/{name}/rollback", json={"revision": 1}).text)
        texts.append(as_deployer.post(f"/v1/deployments/{name}/restart").text)
        texts.append(as_deployer.put(f"/v1/deployments/{name}", json={
            "image": "nginx:1.27", "secrets": {"DB_PASSWORD": deployment_secret}, "replicas": -1}).text)
    for path in (f"/v1/deployments/{name}", "/v1/deployments", f"/v1/deployments/{name}/revisions",
                 f"/v1/deployments/{name}/revisions/1", f"/v1/deployments/{name}/rollouts",
                 f"/v1/deployments/{name}/events", f"/v1/deployments/{name}/replicas",
                 f"/v1/deployments/{name}/webhooks",
                 f"/v1/deployments/{name}/webhooks/{hook['id']}/deliveries", "/v1/tokens",
                 "/v1/hosts", "/openapi.json", "/metrics"):
        texts.append(client.get(path).text)
    for rollout in client.get(f"/v1/deployments/{name}/rollouts").json()["items"]:
        texts.append(client.get(f"/v1/rollouts/{rollout['id']}").text)
    with get_engine().connect() as conn:
        for table in ("event", "webhook_delivery", "idempotency_key", "rollout", "api_token"):
            texts.append(repr(conn.execute(sa.text(f"SELECT * FROM {table}")).all()))
    texts += [r.getMessage() for r in caplog.records]

    for what, secret in secrets.items():
        for text in texts:
            assert secret not in text, f"the {what} secret leaked"
    assert hook["secret"] in shown[0] and token in shown[1]  # shown once, at creation
