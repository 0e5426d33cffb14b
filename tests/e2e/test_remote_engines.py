"""Hosts reached over the network: a ``tcp://`` engine that demands mutual TLS, and an
``ssh://`` host whose engine is reached through sshd.

The TLS engine is a private dockerd listening on 127.0.0.1 with ``--tlsverify``: only a
client holding a certificate of the test's own CA gets in. Moorage is given the CA,
client certificate and key when the host is registered; they are stored, used by the
API and the workers, and never shown again.

The ssh host is a private sshd on 127.0.0.1 whose one authorized key may run only
``docker system dial-stdio`` against another private engine. Moorage is given that key
and a known_hosts line for the daemon; likewise stored, used and never shown again.
"""

from __future__ import annotations

import json
import urllib.request
from collections.abc import Iterator
from contextlib import suppress
from datetime import datetime
from pathlib import Path

import certifi
import pytest

from tests.conftest import unavailable
from tests.e2e.conftest import Stack, running_stack, wait_for
from tests.support import dockerd, sshd, tls
from tests.support.parallel import engine_index, fixed_port

pytestmark = [pytest.mark.docker, pytest.mark.e2e]

# Its own engine: other suites and benchmarks use 1-3, 5, 7, 8, 11-13, 21-23, 31-35.
TLS_ENGINE = engine_index(14)
# Fixed, below the ephemeral range: a running engine keeps its listener.
TLS_PORT = fixed_port(12_314)
SSH_ENGINE = engine_index(15)  # behind sshd
SSH_PORT = fixed_port(12_315)  # sshd's, on 127.0.0.1 only
PORT = [{"container_port": 8080, "host_ip": "127.0.0.1"}]


@pytest.fixture(scope="module")
def tls_engine() -> tls.TLSEngine:
    try:
        dockerd.require_tools()
        te = tls.start_tls_engine(TLS_ENGINE, TLS_PORT)
        dockerd.build_test_images(te.engine)  # over the unix socket: test setup, not Moorage
    except dockerd.EngineUnavailable as exc:
        unavailable(str(exc))
    return te


@pytest.fixture
def tls_stack(clean_db, tls_engine: tls.TLSEngine, tmp_path: Path) -> Iterator[Stack]:
    """A stack with no host registered: the test registers the TLS engine itself."""
    # requests lets REQUESTS_CA_BUNDLE (or CURL_CA_BUNDLE) replace a session's own CA;
    # pin it to a public bundle, which lacks our CA, so the host's CA has to win anywhere.
    try:
        with running_stack(tmp_path, {}, engine=tls_engine.engine,
                           REQUESTS_CA_BUNDLE=certifi.where(), CURL_CA_BUNDLE=certifi.where()) as s:
            yield s
    finally:
        if tls_engine.engine.is_up():
            tls_engine.engine.remove_all_containers()


def _tls_body(te: tls.TLSEngine, name: str, **tls_fields: str) -> dict:
    return {"name": name, "url": te.url, "labels": {"net": "tls"}, "tls": tls_fields}


def _full_tls(te: tls.TLSEngine) -> dict[str, str]:
    f = te.files
    return {"ca_cert": f.pem("ca"), "client_cert": f.pem("client-cert"), "client_key": f.pem("client-key")}


def _assert_no_pem(text: str, te: tls.TLSEngine) -> None:
    assert "-----BEGIN" not in text and "tls" not in json.loads(text), text
    for name in ("ca", "client-cert", "client-key"):
        # Any line of the base64 body, however the PEM might have been re-encoded around it.
        body = [line for line in te.files.pem(name).splitlines() if line and not line.startswith("-----")]
        assert not any(line in text for line in body), f"{name} material in {text}"


def _get(url: str) -> str:
    with urllib.request.urlopen(url, timeout=5) as r:  # noqa: S310 (loopback only)
        return r.read().decode()


def test_tls_host_registers_and_runs_replicas(tls_stack: Stack, tls_engine: tls.TLSEngine) -> None:
    te = tls_engine
    info = json.loads(te.engine.docker("info", "--format", "{{json .}}").stdout)

    with tls_stack.client() as c:
        r = c.post("/v1/hosts", json=_tls_body(te, "tls1", **_full_tls(te)))
        assert r.status_code == 201, r.text
        _assert_no_pem(r.text, te)
        host = r.json()
        assert r.headers["Location"] == "/v1/hosts/tls1"
        assert (host["url"], host["state"], host["last_error"]) == (te.url, "ready", None)
        assert host["engine_version"] == info["ServerVersion"]
        assert (host["cpus"], host["memory_bytes"]) == (info["NCPU"], info["MemTotal"])
        assert host["cpus"] > 0 and host["memory_bytes"] > 0
        registered_at = datetime.fromisoformat(host["last_heartbeat_at"])

        r = c.get("/v1/hosts/tls1")
        assert r.status_code == 200, r.text
        _assert_no_pem(r.text, te)
        r = c.get("/v1/hosts")
        assert r.status_code == 200, r.text
        _assert_no_pem(r.text, te)
        assert [h["name"] for h in r.json()["items"]] == ["tls1"]

        # The workers reach it too: heartbeats come from beat and the worker, not the API.
        def heartbeat() -> dict | None:
            h = c.get("/v1/hosts/tls1").json()
            return h if datetime.fromisoformat(h["last_heartbeat_at"]) > registered_at else None

        h = wait_for(heartbeat, 20, "a heartbeat over TLS")
        assert (h["state"], h["last_error"]) == ("ready", None), h

        r = c.put("/v1/deployments/web", json={
            "image": dockerd.WEB_V1, "replicas": 2, "ports": PORT,
            "placement": {"constraints": ["net==tls"]},
        })
        assert r.status_code in (200, 201), r.text
        rollout = tls_stack.wait_rollout(r.json()["current_rollout"]["id"])
        assert rollout["state"] == "succeeded", f"{rollout}\n{tls_stack.logs()}"
        wait_for(lambda: tls_stack.deployment("web")["status"]["phase"] == "available", 30,
                 "the deployment to be available")
        replicas = c.get("/v1/deployments/web/replicas").json()["items"]

    # What Moorage says runs on tls1 is what engine 14 runs (asked over its unix socket).
    running = [x for x in tls_stack.containers("web", all_states=True) if x["state"] == "running"]
    assert sorted(x["slot"] for x in running) == ["0", "1"], running
    assert {r["host"] for r in replicas} == {"tls1"}, replicas
    assert {r["container_id"] for r in replicas} == {
        te.engine.docker("inspect", "--format", "{{.Id}}", x["id"]).stdout.strip() for x in running}
    for replica in replicas:
        (port,) = replica["ports"]
        assert port["host_ip"] == "127.0.0.1"
        assert _get(f"http://127.0.0.1:{port['host_port']}/version").strip() == "v1"


def test_tls_host_refused_without_client_certificate(tls_stack: Stack, tls_engine: tls.TLSEngine) -> None:
    te = tls_engine
    assert te.answers_tls()  # the engine is up: the refusals below are about credentials

    with tls_stack.client() as c:
        # The CA alone: the engine's certificate verifies, but the engine demands one of
        # ours and ends the handshake with a TLS alert: "bad certificate" up to TLS 1.2,
        # "certificate required" in 1.3.
        r = c.post("/v1/hosts", json=_tls_body(te, "tls2", ca_cert=te.files.pem("ca")))
        assert r.status_code == 422, r.text
        assert r.headers["content-type"].startswith("application/problem+json"), r.headers
        problem = r.json()
        detail = problem["detail"].lower()
        assert "the engine did not answer" in detail and "ssl" in detail, problem
        assert "bad certificate" in detail or "certificate required" in detail, problem
        assert "certificate verify failed" not in detail, problem
        assert problem["errors"][0]["loc"] == ["body", "url"], problem

        # No TLS at all: the engine says it speaks only HTTPS.
        r = c.post("/v1/hosts", json={"name": "tls3", "url": te.url})
        assert r.status_code == 422, r.text
        assert "HTTP request to an HTTPS server" in r.json()["detail"], r.text

        # A client certificate, but no CA to check the engine's own: refused as unverified.
        f = te.files
        r = c.post("/v1/hosts", json=_tls_body(te, "tls4", client_cert=f.pem("client-cert"),
                                               client_key=f.pem("client-key")))
        assert r.status_code == 422, r.text
        assert "certificate verify failed" in r.json()["detail"], r.text
        _assert_no_pem(r.text, te)

        # Nothing was stored, and the name is still free.
        for name in ("tls2", "tls3", "tls4"):
            assert c.get(f"/v1/hosts/{name}").status_code == 404
        assert c.get("/v1/hosts").json()["items"] == []
        r = c.post("/v1/hosts", json=_tls_body(te, "tls2", **_full_tls(te)))
        assert r.status_code == 201, r.text


# -- ssh:// ----------------------------------------------------------------------------


@pytest.fixture(scope="module")
def ssh_server() -> Iterator[tuple[dockerd.Engine, sshd.SSHServer]]:
    """Engine 15 (on its unix socket only) and an sshd whose client key leads to it."""
    try:
        dockerd.require_tools()
        engine = dockerd.Engine(SSH_ENGINE)
        engine.start()
        dockerd.build_test_images(engine)  # over the unix socket: test setup, not Moorage
        server = sshd.start_sshd(engine.root / "ssh", SSH_PORT, engine.socket)
    except dockerd.EngineUnavailable as exc:
        unavailable(str(exc))
    yield engine, server
    server.stop()
    assert server.pid() is None and not server.answers(), "sshd is still running"


@pytest.fixture
def ssh_stack(clean_db, ssh_server: tuple[dockerd.Engine, sshd.SSHServer], tmp_path: Path) -> Iterator[Stack]:
    """A stack with no host registered: the test registers the ssh host itself."""
    engine, _ = ssh_server
    try:
        with running_stack(tmp_path, {}, engine=engine) as s:
            yield s
    finally:
        if engine.is_up():
            engine.remove_all_containers()


def _ssh_body(server: sshd.SSHServer, name: str, key: str = "client", host_key: str = "host") -> dict:
    return {"name": name, "url": server.url, "labels": {"net": "ssh"},
            "ssh": {"private_key": server.key(key), "known_hosts": server.known_hosts(host_key)}}


def _assert_no_ssh_key(text: str, server: sshd.SSHServer) -> None:
    assert "PRIVATE KEY-----" not in text, text
    for name in ("client", "stranger"):
        body = [line for line in server.key(name).splitlines() if line and not line.startswith("-----")]
        assert not any(line in text for line in body), f"{name} key material in {text}"
    with suppress(ValueError):
        assert "ssh" not in json.loads(text), text


def test_ssh_host_registers_and_runs_replicas(ssh_stack: Stack, ssh_server) -> None:
    engine, server = ssh_server
    info = json.loads(engine.docker("info", "--format", "{{json .}}").stdout)

    with ssh_stack.client() as c:
        r = c.post("/v1/hosts", json=_ssh_body(server, "ssh1"))
        assert r.status_code == 201, f"{r.text}\n{server.log_tail()}"
        _assert_no_ssh_key(r.text, server)
        host = r.json()
        assert (host["url"], host["state"], host["last_error"]) == (server.url, "ready", None)
        assert host["engine_version"] == info["ServerVersion"]
        assert (host["cpus"], host["memory_bytes"]) == (info["NCPU"], info["MemTotal"])
        registered_at = datetime.fromisoformat(host["last_heartbeat_at"])

        for path in ("/v1/hosts/ssh1", "/v1/hosts"):
            r = c.get(path)
            assert r.status_code == 200, r.text
            _assert_no_ssh_key(r.text, server)

        # The workers reach it too, from the stored key: heartbeats come from them.
        def heartbeat() -> dict | None:
            h = c.get("/v1/hosts/ssh1").json()
            return h if datetime.fromisoformat(h["last_heartbeat_at"]) > registered_at else None

        h = wait_for(heartbeat, 20, "a heartbeat over ssh")
        assert (h["state"], h["last_error"]) == ("ready", None), h

        r = c.put("/v1/deployments/web", json={
            "image": dockerd.WEB_V1, "replicas": 2, "ports": PORT,
            "placement": {"constraints": ["net==ssh"]},
        })
        assert r.status_code in (200, 201), r.text
        rollout = ssh_stack.wait_rollout(r.json()["current_rollout"]["id"])
        assert rollout["state"] == "succeeded", f"{rollout}\n{ssh_stack.logs()}"
        wait_for(lambda: ssh_stack.deployment("web")["status"]["phase"] == "available", 30,
                 "the deployment to be available")
        replicas = c.get("/v1/deployments/web/replicas").json()["items"]
        _assert_no_ssh_key(c.get("/v1/hosts").text, server)

    # What Moorage says runs on ssh1 is what engine 15 runs (asked over its unix socket).
    running = [x for x in ssh_stack.containers("web", all_states=True) if x["state"] == "running"]
    assert sorted(x["slot"] for x in running) == ["0", "1"], running
    assert {r["host"] for r in replicas} == {"ssh1"}, replicas
    assert {r["container_id"] for r in replicas} == {
        engine.docker("inspect", "--format", "{{.Id}}", x["id"]).stdout.strip() for x in running}
    for replica in replicas:
        (port,) = replica["ports"]
        assert port["host_ip"] == "127.0.0.1"
        assert _get(f"http://127.0.0.1:{port['host_port']}/version").strip() == "v1"

    # Nor did the key reach a log line of the API, worker or beat.
    for log in ssh_stack.workdir.glob("*.log"):
        _assert_no_ssh_key(log.read_text(errors="replace"), server)


def test_ssh_host_refused_with_the_wrong_key_or_host_key(ssh_stack: Stack, ssh_server) -> None:
    _, server = ssh_server
    assert server.answers()  # sshd is up: the refusals below are about credentials

    with ssh_stack.client() as c:
        # The daemon's key is not the one known_hosts names: ssh refuses to go on.
        r = c.post("/v1/hosts", json=_ssh_body(server, "ssh2", host_key="stranger"))
        assert r.status_code == 422, r.text
        assert r.headers["content-type"].startswith("application/problem+json"), r.headers
        problem = r.json()
        assert "the engine did not answer" in problem["detail"], problem
        assert "Host key verification failed" in problem["detail"], problem
        assert "has changed" in problem["detail"], problem
        assert problem["errors"][0]["loc"] == ["body", "url"], problem
        _assert_no_ssh_key(r.text, server)

        # known_hosts that does not mention the daemon at all: refused the same way.
        body = _ssh_body(server, "ssh3")
        body["ssh"]["known_hosts"] = body["ssh"]["known_hosts"].replace(f"]:{SSH_PORT} ", "]:1 ")
        r = c.post("/v1/hosts", json=body)
        assert r.status_code == 422, r.text
        assert "Host key verification failed" in r.json()["detail"], r.text
        assert "No ED25519 host key is known" in r.json()["detail"], r.text

        # A key sshd does not accept.
        r = c.post("/v1/hosts", json=_ssh_body(server, "ssh4", key="stranger"))
        assert r.status_code == 422, r.text
        assert "Permission denied (publickey)" in r.json()["detail"], r.text
        _assert_no_ssh_key(r.text, server)

        # Nothing was stored, and the name is still free.
        for name in ("ssh2", "ssh3", "ssh4"):
            assert c.get(f"/v1/hosts/{name}").status_code == 404
        assert c.get("/v1/hosts").json()["items"] == []
        r = c.post("/v1/hosts", json=_ssh_body(server, "ssh2"))
        assert r.status_code == 201, r.text
        _assert_no_ssh_key(r.text, server)


def test_an_exec_and_a_followed_log_read_their_output_over_ssh(ssh_server, tmp_path: Path) -> None:
    """The SDK reads a hijacked stream (an exec's output: an edge's `caddy reload`) from the
    connection itself, and lifts its timeout for a followed one; over ssh both failed
    with AttributeError 'channel' after the exec had run."""
    import docker

    from app.dockerhost import ssh

    engine, server = ssh_server
    known_hosts = tmp_path / "known_hosts"
    known_hosts.write_text(server.known_hosts("host"))
    target = ssh.SSHTarget.from_url(server.url, key_file=str(server.key_path("client")),
                                    known_hosts_file=str(known_hosts))
    api = ssh.api_client(docker.APIClient, target, timeout=5)
    box = engine.docker("run", "-d", "--entrypoint", "/bin/sh", dockerd.WEB_V1, "-c",
                        "echo first; sleep 7; echo second; sleep 600").stdout.strip()
    try:
        ex = api.exec_create(box, ["/bin/sh", "-c", "echo out; echo err >&2; exit 3"])
        assert sorted(api.exec_start(ex["Id"]).decode().split()) == ["err", "out"]  # two streams
        assert api.exec_inspect(ex["Id"])["ExitCode"] == 3
        # Quiet for longer than the client's 5 s timeout between its two lines.
        lines = api.logs(box, stream=True, follow=True)
        assert next(lines).strip() == b"first" and next(lines).strip() == b"second"
    finally:
        api.close()
        engine.docker("rm", "-f", box)
