"""The hosts HTTP API against a real Postgres and, where a host must answer, a real engine.

Registering a host probes its engine, so the tests that register one run a private
dockerd (tests.support.dockerd) and are marked `docker`. Without one they skip, except
under CI, where a missing engine fails them.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient

from tests.conftest import unavailable
from tests.support import dockerd
from tests.support.dockerd import Engine, EngineUnavailable

PROBLEM = "application/problem+json"
NO_ENGINE = "unix:///tmp/moorage-nonexistent-engine.sock"


# A bearer token of this run's own: an admin token made through the token service.
TOKEN = f"mrg_it_{uuid.uuid4().hex}{uuid.uuid4().hex}"


@pytest.fixture(scope="module")
def app_client(postgres: str, redis_broker: str) -> Iterator[TestClient]:
    """Made once the `postgres` fixture has pointed the settings at the test database."""
    from app.main import create_app

    with TestClient(create_app(), headers={"Authorization": f"Bearer {TOKEN}"}) as test_client:
        yield test_client


@pytest.fixture
def client(app_client: TestClient, request: pytest.FixtureRequest) -> TestClient:
    """Tests that need no hosts at all ask for `clean_db` too."""
    from app.db import session_scope
    from app.services import tokens

    if "clean_db" in request.fixturenames:
        request.getfixturevalue("clean_db")  # empty the tables before the token is made
    with session_scope() as session:  # clean_db empties the token table too
        tokens.ensure_bootstrap(session, TOKEN)
    return app_client


@pytest.fixture(scope="module")
def engine() -> Engine:
    try:
        return dockerd.ensure_engines(1)[0]
    except EngineUnavailable as exc:
        unavailable(str(exc))
        raise  # not reached: unavailable() skips or fails


def ok(resp: httpx.Response, status: int = 200) -> Any:
    assert resp.status_code == status, resp.text
    return resp.json()


def problem(resp: httpx.Response, status: int) -> dict[str, Any]:
    assert resp.status_code == status, resp.text
    assert resp.headers["content-type"].startswith(PROBLEM)
    body = resp.json()
    assert body["status"] == status and body["title"] and body["type"]
    return body


def error_paths(body: dict[str, Any]) -> list[str]:
    return [".".join(str(part) for part in e["loc"]) for e in body["errors"]]


def host_names(client: TestClient) -> list[str]:
    return [h["name"] for h in ok(client.get("/v1/hosts", params={"limit": 500}))["items"]]


# -- without an engine -------------------------------------------------------------------


@pytest.mark.usefixtures("clean_db")
def test_an_engine_that_does_not_answer_is_422_naming_url(client: TestClient) -> None:
    resp = client.post("/v1/hosts", json={"name": "edge-1", "url": NO_ENGINE})
    body = problem(resp, 422)
    assert "body.url" in error_paths(body)
    assert "did not answer" in body["detail"]
    problem(client.get("/v1/hosts/edge-1"), 404)
    assert host_names(client) == []


@pytest.mark.usefixtures("clean_db")
def test_a_refused_tcp_engine_is_422(client: TestClient) -> None:
    # Port 9 (discard) on loopback: nothing listens, the connection is refused at once.
    body = problem(client.post("/v1/hosts", json={"name": "edge-1", "url": "tcp://127.0.0.1:9"}), 422)
    assert "body.url" in error_paths(body)
    assert host_names(client) == []


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1:2375",
        "docker.sock",
        "unix://relative.sock",
        "unix:///",
        "tcp://",
        "tcp://:2375",
        "tcp://host:notaport",
        "tcp://host:70000",
        "tcp://host:0",
        "tcp://[::1",
        "unix:///tmp/a\u0000b.sock",
        "tcp://host:2375\nX-Evil: 1",
        "",
    ],
    ids=lambda u: repr(u)[1:-1][:30],
)
def test_a_malformed_url_is_422_naming_url(client: TestClient, url: str) -> None:
    before = host_names(client)
    body = problem(client.post("/v1/hosts", json={"name": "edge-1", "url": url}), 422)
    assert "body.url" in error_paths(body)
    assert host_names(client) == before


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"name": "Edge_1", "url": NO_ENGINE}, "body.name"),
        ({"name": "a" * 64, "url": NO_ENGINE}, "body.name"),
        ({"url": NO_ENGINE}, "body.name"),
        ({"name": "edge-1"}, "body.url"),
        ({"name": "edge-1", "url": NO_ENGINE, "lables": {}}, "body.lables"),
        ({"name": "edge-1", "url": NO_ENGINE, "labels": {"-x": "1"}}, "body.labels.-x"),
        ({"name": "edge-1", "url": NO_ENGINE, "labels": ["zone=a"]}, "body.labels"),
    ],
    ids=["name-case", "name-long", "no-name", "no-url", "typo", "label-key", "labels-list"],
)
def test_invalid_registration_is_422(client: TestClient, body: dict[str, Any], field: str) -> None:
    before = host_names(client)
    details = problem(client.post("/v1/hosts", json=body), 422)
    paths = error_paths(details)
    assert any(p == field or p.startswith(field + ".") for p in paths), paths
    assert host_names(client) == before


def test_missing_host_is_404_everywhere(client: TestClient) -> None:
    problem(client.get("/v1/hosts/ghost"), 404)
    problem(client.patch("/v1/hosts/ghost", json={"labels": {}}), 404)
    problem(client.delete("/v1/hosts/ghost"), 404)
    problem(client.get("/v1/hosts/Not_A_Name"), 422)


def test_invalid_host_list_cursor_is_422(client: TestClient) -> None:
    body = problem(client.get("/v1/hosts", params={"cursor": "garbage!"}), 422)
    assert "query.cursor" in error_paths(body)
    problem(client.get("/v1/hosts", params={"limit": 0}), 422)


# -- ssh:// hosts: the key and known_hosts are write-only ---------------------------------

KEY_BODY = "b3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAEbm9uZQAAAAAAAAABAAAAMwAAAAtz"  # not a real key
FAKE_KEY = f"-----BEGIN OPENSSH PRIVATE KEY-----\n{KEY_BODY}\n-----END OPENSSH PRIVATE KEY-----\n"
KNOWN_HOSTS = "[127.0.0.1]:9 ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIHnotarealkeynotarealkeynotarealkey1\n"


@pytest.fixture(scope="module")
def ssh_key(tmp_path_factory: pytest.TempPathFactory) -> str:
    """A real (throwaway) private key, as ssh-keygen writes it."""
    import shutil
    import subprocess

    keygen = shutil.which("ssh-keygen")
    if keygen is None:
        unavailable("ssh-keygen (apt-get install openssh-client)")
    path = tmp_path_factory.mktemp("ssh") / "id_ed25519"
    subprocess.run([keygen, "-q", "-t", "ed25519", "-N", "", "-f", str(path)], check=True)
    return path.read_text()


def _ssh_body(url: str = "ssh://deploy@127.0.0.1:9", **ssh: Any) -> dict[str, Any]:
    return {"name": "edge-ssh", "url": url,
            "ssh": {"private_key": FAKE_KEY, "known_hosts": KNOWN_HOSTS, **ssh}}


def _assert_no_key(text: str, key: str = FAKE_KEY) -> None:
    body = [line for line in key.splitlines() if line and not line.startswith("-----")]
    assert "-----END" not in text and not any(line in text for line in body), text


@pytest.mark.parametrize(
    ("body", "field", "says"),
    [
        (_ssh_body("tcp://127.0.0.1:9"), "body.ssh", "only for ssh://"),
        (_ssh_body(NO_ENGINE), "body.ssh", "only for ssh://"),
        (_ssh_body("ssh://127.0.0.1:9"), "body.ssh", "user"),
        ({**_ssh_body(), "ssh": {"known_hosts": KNOWN_HOSTS}}, "body.ssh.private_key", "required"),
        ({**_ssh_body(), "ssh": {"private_key": FAKE_KEY}}, "body.ssh.known_hosts", "required"),
        (_ssh_body(private_key=""), "body.ssh.private_key", "at least 1"),
        (_ssh_body(known_hosts=" \n"), "body.ssh.known_hosts", "blank"),
        (_ssh_body(private_key=FAKE_KEY.replace("\n", "\n\x00", 1)), "body.ssh.private_key", "NUL"),
        (_ssh_body(known_hosts=KNOWN_HOSTS + "\x00"), "body.ssh.known_hosts", "NUL"),
        (_ssh_body(private_key=FAKE_KEY + "x" * 16_384), "body.ssh.private_key", "at most"),
        (_ssh_body(known_hosts="x" * 65_537), "body.ssh.known_hosts", "at most"),
        (_ssh_body(private_key=KEY_BODY), "body.ssh.private_key", "OpenSSH or PEM"),
        (_ssh_body(passphrase="x"), "body.ssh.passphrase", "not permitted"),
        (_ssh_body("ssh://deploy:secret@127.0.0.1:9"), "body.url", "no password"),
        (_ssh_body("ssh://deploy@127.0.0.1:9/var/run/docker.sock"), "body.url", "no password or path"),
    ],
    ids=["tcp-url", "unix-url", "no-user", "no-key", "no-known-hosts", "empty-key",
         "blank-known-hosts", "nul-key", "nul-known-hosts", "long-key", "long-known-hosts",
         "not-a-key", "unknown-field", "url-password", "url-path"],
)
def test_invalid_ssh_registration_is_422_naming_the_field(
    client: TestClient, body: dict[str, Any], field: str, says: str
) -> None:
    before = host_names(client)
    resp = client.post("/v1/hosts", json=body)
    details = problem(resp, 422)
    errors = [e for e in details["errors"] if ".".join(str(p) for p in e["loc"]) == field]
    assert errors, details
    assert says in errors[0]["msg"], details
    assert field in details["detail"], details
    _assert_no_key(resp.text)
    assert host_names(client) == before


@pytest.mark.usefixtures("clean_db")
def test_an_ssh_host_that_does_not_answer_is_422_without_the_key(client: TestClient, ssh_key: str) -> None:
    # Port 9 on loopback: ssh's connection is refused at once, and it says so.
    resp = client.post("/v1/hosts", json=_ssh_body(private_key=ssh_key))
    body = problem(resp, 422)
    assert error_paths(body) == ["body.url"]
    assert "the engine did not answer" in body["detail"], body
    assert "Connection refused" in body["detail"], body
    assert "ssh.private_key" not in body["detail"], body  # the hint is for hosts without one
    _assert_no_key(resp.text, ssh_key)

    # Without a key of its own, the system's ssh is tried, and the answer says what is missing.
    body = problem(client.post("/v1/hosts", json={"name": "edge-ssh", "url": "ssh://deploy@127.0.0.1:9"}), 422)
    assert "Connection refused" in body["detail"], body
    assert "ssh:// hosts need `ssh.private_key` and `ssh.known_hosts`" in body["detail"], body
    assert host_names(client) == []


# -- with a real engine ------------------------------------------------------------------


@pytest.mark.docker
@pytest.mark.usefixtures("clean_db")
def test_register_get_list_patch_delete(client: TestClient, engine: Engine) -> None:
    resp = client.post("/v1/hosts", json={"name": "edge-1", "url": engine.url,
                                          "labels": {"zone": "a"},
                                          "allowed_bind_prefixes": ["//srv/web/", "/srv/config:ro"]})
    host = ok(resp, 201)
    assert host["allowed_bind_prefixes"] == ["/srv/web", "/srv/config:ro"]  # normalised
    from app.db import session_scope
    from app.repositories import hosts as host_repo

    with session_scope() as session:  # its data root: an escalation path on this host
        assert host_repo.get_by_name(session, "edge-1").engine_root_dir == str(engine.data_dir)
    assert resp.headers["ETag"] == '"1"'
    assert resp.headers["Location"] == "/v1/hosts/edge-1"
    assert host["name"] == "edge-1"
    assert host["url"] == engine.url
    assert host["labels"] == {"zone": "a"}
    assert host["state"] == "ready"
    assert host["schedulable"] is True
    assert host["engine_version"]
    assert host["cpus"] > 0 and host["memory_bytes"] > 0
    assert host["last_heartbeat_at"] is not None
    assert host["resource_version"] == 1

    # The same name again is a conflict, whatever the url.
    problem(client.post("/v1/hosts", json={"name": "edge-1", "url": engine.url}), 409)
    problem(client.post("/v1/hosts", json={"name": "edge-1", "url": NO_ENGINE}), 409)

    fetched = client.get("/v1/hosts/edge-1")
    assert ok(fetched) == host
    assert fetched.headers["ETag"] == '"1"'
    assert host_names(client) == ["edge-1"]

    resp = client.patch("/v1/hosts/edge-1", json={"labels": {"zone": "b", "gpu": "yes"}},
                        headers={"If-Match": '"1"'})
    patched = ok(resp)
    assert patched["labels"] == {"zone": "b", "gpu": "yes"}
    assert patched["allowed_bind_prefixes"] == ["/srv/web", "/srv/config:ro"]  # left alone
    assert patched["resource_version"] == 2
    assert resp.headers["ETag"] == '"2"'

    # A stale If-Match changes nothing.
    problem(client.patch("/v1/hosts/edge-1", json={"labels": {}}, headers={"If-Match": '"1"'}), 412)
    problem(client.delete("/v1/hosts/edge-1", headers={"If-Match": '"1"'}), 412)
    current = ok(client.get("/v1/hosts/edge-1"))
    assert current["labels"] == {"zone": "b", "gpu": "yes"}
    assert current["resource_version"] == 2

    problem(client.patch("/v1/hosts/edge-1", json={"schedulable": "sometimes"}), 422)
    problem(client.patch("/v1/hosts/edge-1", json={"name": "edge-2"}), 422)
    assert ok(client.get("/v1/hosts/edge-1"))["resource_version"] == 2

    drained = ok(client.patch("/v1/hosts/edge-1", json={"schedulable": False}))
    assert drained["schedulable"] is False
    assert drained["state"] == "draining"
    assert drained["labels"] == {"zone": "b", "gpu": "yes"}  # labels left alone

    resp = client.delete("/v1/hosts/edge-1", headers={"If-Match": '"3"'})
    assert resp.status_code == 204, resp.text
    assert resp.content == b""
    problem(client.get("/v1/hosts/edge-1"), 404)
    assert host_names(client) == []
    problem(client.delete("/v1/hosts/edge-1"), 404)


@pytest.mark.docker
@pytest.mark.usefixtures("clean_db")
def test_hosts_list_pages(client: TestClient, engine: Engine) -> None:
    names = [f"h{i}" for i in range(5)]
    for name in names:
        ok(client.post("/v1/hosts", json={"name": name, "url": engine.url}), 201)
    seen, cursor = [], None
    for _ in range(10):
        params: dict[str, Any] = {"limit": 2, **({"cursor": cursor} if cursor else {})}
        page = ok(client.get("/v1/hosts", params=params))
        seen += [h["name"] for h in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert seen == names


@pytest.mark.docker
@pytest.mark.usefixtures("clean_db")
def test_dry_run_plans_replicas_on_registered_hosts(client: TestClient, engine: Engine) -> None:
    ok(client.post("/v1/hosts", json={"name": "edge-1", "url": engine.url,
                                      "labels": {"zone": "a"}}), 201)
    name = f"web-{uuid.uuid4().hex[:6]}"
    body = ok(client.put(f"/v1/deployments/{name}", params={"dry_run": "true"},
                         json={"image": "nginx:1.27", "replicas": 3}))
    creates = [a for a in body["actions"] if a["action"] == "create"]
    assert len(creates) == 3
    assert {a["host"] for a in creates} == {"edge-1"}
    assert len({a["slot"] for a in creates}) == 3  # one slot per replica
    problem(client.get(f"/v1/deployments/{name}"), 404)

    # A constraint no host meets plans nothing.
    body = ok(client.put(f"/v1/deployments/{name}", params={"dry_run": "true"},
                         json={"image": "nginx:1.27", "replicas": 3,
                               "placement": {"constraints": ["zone==b"]}}))
    assert [a for a in body["actions"] if a["action"] == "create"] == []
