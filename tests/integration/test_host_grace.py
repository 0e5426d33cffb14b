"""The heartbeat loses a host at the end of its grace, counted from its last answer, with a
check of its own at that moment when it falls between two ticks (issue 14, part 5)."""

from __future__ import annotations

import os
import threading
import uuid
from datetime import timedelta

NO_ENGINE = "unix:///tmp/moorage-nonexistent-engine.sock"


def _host(answered_ago_s: float) -> str:
    from app.db import session_scope, utcnow
    from app.models import Host

    name = f"grace-{uuid.uuid4().hex[:8]}"
    now = utcnow()
    with session_scope() as session:
        session.add(Host(name=name, url=NO_ENGINE, labels={}, state="ready", schedulable=True,
                         resource_version=1, created_at=now, updated_at=now,
                         last_heartbeat_at=now - timedelta(seconds=answered_ago_s)))
    return name


def _row(name: str):
    from app.db import session_scope
    from app.repositories import hosts as host_repo

    with session_scope() as session:
        host = host_repo.find_by_name(session, name)
        session.expunge(host)
    return host


def test_the_grace_counts_from_the_last_answer_and_ends_with_a_check_of_its_own(
    clean_db: None,
) -> None:
    from app.config import get_settings
    from app.db import session_scope
    from app.repositories import hosts as host_repo
    from app.services import hosts as host_service

    settings = get_settings()
    grace, tick = settings.host_grace_s, settings.heartbeat_interval_s
    name = _host(answered_ago_s=tick / 2)  # it answered the last tick, then went
    bystander = _host(answered_ago_s=0)
    answered = _row(name).last_heartbeat_at

    beat = host_service.heartbeat_all(only=[name])
    host = _row(name)
    assert host.state == "unreachable" and host.lost_at is None
    assert host.unreachable_since == answered  # not this tick: its last answer
    assert beat.recheck == {}  # the ticks to come see the grace end in time
    # Only the host asked about was pinged: the other's row is as it was.
    other = _row(bystander)
    assert other.state == "ready" and other.last_error is None

    def age_outage(by_s: float) -> None:  # as if that many seconds had passed
        with session_scope() as session:
            row = host_repo.find_by_name(session, name)
            row.unreachable_since = row.unreachable_since - timedelta(seconds=by_s)

    # A tick where the grace ends before the next one: a check at its end is asked for.
    age_outage(grace - tick)  # its grace now ends half a tick from now
    since = _row(name).unreachable_since
    beat = host_service.heartbeat_all(only=[name])
    assert _row(name).lost_at is None
    assert beat.recheck == {name: since + timedelta(seconds=grace)}

    # That check, at the grace's end, loses it.
    age_outage(tick / 2 + 0.2)
    beat = host_service.heartbeat_all(only=[name])
    host = _row(name)
    assert host.lost_at is not None and beat.recheck == {}
    # Once: the next check changes nothing.
    host_service.heartbeat_all(only=[name])
    assert _row(name).lost_at == host.lost_at


class _StoppingEngine:
    """Just enough of the Engine API for a heartbeat, on a unix socket, and a `stop()` that
    does what dockerd 20.10 does at SIGTERM (measured: bench/NOTES-perf-failover.md): its
    socket is gone at once, and the connections already open are served for a while yet."""

    def __init__(self, path: str) -> None:
        import json
        import socketserver
        from datetime import UTC, datetime
        from http.server import BaseHTTPRequestHandler

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"  # kept alive, as the SDK's pool wants

            def do_GET(self) -> None:  # noqa: N802  (http.server's name)
                if self.path.endswith("/version"):
                    body = {"ApiVersion": "1.41", "MinAPIVersion": "1.12", "Version": "20.10.24"}
                elif self.path.split("?")[0].endswith("/info"):
                    body = {"ServerVersion": "20.10.24", "NCPU": 2, "MemTotal": 2**31,
                            "Containers": 0, "DockerRootDir": "/var/lib/docker",
                            "SystemTime": datetime.now(UTC).isoformat()}
                else:  # /events: none
                    body = None
                data = b"" if body is None else json.dumps(body).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def address_string(self) -> str:
                return "unix"

            def log_message(self, *args) -> None:
                pass

        class Server(socketserver.ThreadingMixIn, socketserver.UnixStreamServer):
            daemon_threads = True

        self.path = path
        self.server = Server(path, Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def stop(self) -> None:
        self.server.shutdown()  # no new connections; the handlers' threads go on
        self.server.socket.close()
        os.unlink(self.path)


def test_a_stopping_engine_answering_old_connections_is_not_back(
    clean_db: None, tmp_path,
) -> None:
    """The lost-host e2e test's flap (HostUnreachable, HostReady, ...): one worker process
    wrote the host unreachable (its new connection found no socket); the next tick, in
    another process, asked on its kept-alive connection, which the stopping engine still
    served. A host known to be suspect is asked on a new connection."""
    from app.config import get_settings
    from app.db import session_scope, utcnow
    from app.dockerhost import EngineAddress, client_for
    from app.models import Host
    from app.repositories import hosts as host_repo
    from app.services import hosts as host_service

    sock = str(tmp_path / "engine.sock")
    engine = _StoppingEngine(sock)
    name = f"stopping-{uuid.uuid4().hex[:8]}"
    now = utcnow()
    with session_scope() as session:
        session.add(Host(name=name, url=f"unix://{sock}", labels={}, state="ready",
                         schedulable=True, resource_version=1, created_at=now, updated_at=now,
                         last_heartbeat_at=now))
    host_service.heartbeat_all(only=[name])  # this process now keeps a connection to it
    assert _row(name).state == "ready" and _row(name).last_error is None
    engine.stop()
    # The kept-alive connection still gets answers, so a check on it would call it back.
    client = client_for(EngineAddress(name, f"unix://{sock}"), get_settings().heartbeat_timeout_s)
    assert client.info().version == "20.10.24"
    with session_scope() as session:  # another worker process's tick, on a new connection
        row = host_repo.find_by_name(session, name)
        row.state, row.unreachable_since = "unreachable", row.last_heartbeat_at
        row.last_error = f"{name}: info: engine unreachable (No such file or directory)"

    beat = host_service.heartbeat_all(only=[name])
    host = _row(name)
    assert beat.changed_hosts == [] and host.state == "unreachable", host.last_error
    assert "No such file" in host.last_error  # what a new connection finds
