"""The broker dies while a reconcile runs: the worker lives through it, and work goes on.

A stack of its own on a Redis of its own (a child of this test, on a free port), so the
test can kill that Redis without touching the one every other test uses.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import sqlalchemy as sa

from tests.conftest import unavailable
from tests.e2e.conftest import Stack, free_port, running_stack, wait_for
from tests.support import dockerd
from tests.support.dockerd import WEB_BAD, WEB_V1

pytestmark = [pytest.mark.docker, pytest.mark.e2e]

# 10-30 s is what took workers down; MOORAGE_E2E_OUTAGE_S measures another.
OUTAGE_S = float(os.environ.get("MOORAGE_E2E_OUTAGE_S", "15"))
# Never healthy (WEB_BAD serves on 8081), and no deadline in sight: its reconcile keeps
# probing inside the task, for all of its budget (BUDGET_S), so one is running whenever
# we look, and long after the outage.
BUDGET_S = 150
SLOW = {"image": WEB_BAD, "replicas": 1,
        "health_check": {"http": {"path": "/healthz", "port": 8080}, "interval_s": 1,
                         "timeout_s": 1, "retries": 100},
        "update_strategy": {"progress_deadline_s": 3600, "auto_rollback": False}}


class RedisServer:
    """A redis-server child process without persistence: killed, it loses everything."""

    def __init__(self, workdir: Path) -> None:
        self.port = free_port()
        self.log = workdir / "redis.log"
        self.proc: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        self.proc = subprocess.Popen(
            ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--save", "",
             "--appendonly", "no", "--logfile", str(self.log)],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

        def answers() -> bool:
            import redis

            try:
                return redis.Redis(port=self.port, socket_timeout=1).ping()
            except redis.exceptions.ConnectionError:
                return False

        wait_for(answers, 10, f"redis-server on port {self.port}")

    def kill(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait(timeout=10)
        self.proc = None


@pytest.fixture
def redis_server(tmp_path: Path) -> Iterator[RedisServer]:
    if shutil.which("redis-server") is None:
        unavailable("redis-server")
    server = RedisServer(tmp_path)
    server.start()
    try:
        yield server
    finally:
        server.kill()


@pytest.fixture
def lossy(clean_db, engine: dockerd.Engine, tmp_path: Path,
          redis_server: RedisServer) -> Iterator[Stack]:
    with running_stack(tmp_path, {"e2e": engine}, MOORAGE_BROKER_URL=redis_server.url,
                       MOORAGE_RECONCILE_BUDGET_S=str(BUDGET_S)) as s:
        s.redis = redis_server  # type: ignore[attr-defined]
        yield s


def _put(stack: Stack, name: str, spec: dict) -> dict:
    with stack.client() as c:
        r = c.put(f"/v1/deployments/{name}", json=spec)
        assert r.status_code in (200, 201), r.text
        return r.json()


def _workers(stack: Stack) -> httpx.Response:
    return httpx.get(f"{stack.url}/healthz/workers", timeout=5)


def _reconcile_running(name: str) -> bool:
    """A worker holds the deployment's lease: its reconcile is running (the database)."""
    from app.db import session_scope, utcnow
    from app.models import Deployment

    with session_scope() as session:
        expires = session.scalar(sa.select(Deployment.lease_expires_at)
                                 .where(Deployment.name == name))
    return expires is not None and expires > utcnow()


def _worker_state(stack: Stack) -> str:
    proc = stack.procs["worker"]
    log = (stack.workdir / "worker.log").read_text(errors="replace")
    fatal = [line for line in log.splitlines() if "CRITICAL" in line or "Warm shutdown" in line]
    state = "alive" if proc.poll() is None else f"exited ({proc.returncode})"
    return f"worker pid {proc.pid} {state}; " + (" | ".join(fatal) or "no fatal line logged")


def test_the_worker_lives_through_a_broker_outage_during_a_reconcile(lossy: Stack) -> None:
    stack, redis = lossy, lossy.redis  # type: ignore[attr-defined]
    wait_for(lambda: _workers(stack).status_code == 200, 30, "a worker and a beat")
    (worker,) = [p for p in _workers(stack).json()["processes"] if p["kind"] == "worker"]
    assert worker["pid"] == stack.procs["worker"].pid

    _put(stack, "slow", SLOW)
    wait_for(lambda: stack.containers("slow") and _reconcile_running("slow"), 30,
             "the slow deployment's reconcile to be running", interval=0.2)

    redis.kill()
    killed = time.monotonic()
    # Nothing can be sent or consumed now, and that shows: the API is not ready (the
    # broker is one of its own dependencies), and no worker consumes.
    r = httpx.get(f"{stack.url}/readyz", timeout=10)
    assert r.status_code == 503, r.text
    assert r.json()["checks"]["broker"]["ok"] is False
    assert r.json()["checks"]["database"]["ok"] is True
    unhealthy = wait_for(lambda: (r := _workers(stack)).status_code == 503 and r, OUTAGE_S,
                         "/healthz/workers to say no worker consumes")
    noticed_s = time.monotonic() - killed
    assert unhealthy.headers["content-type"].startswith("application/problem+json")
    assert "none has consumed from the broker" in unhealthy.json()["detail"], unhealthy.text
    time.sleep(max(0.0, OUTAGE_S - (time.monotonic() - killed)))
    assert _reconcile_running("slow"), "the reconcile in flight was stopped by the outage"

    redis.start()  # empty: every job that was queued is gone; the resync makes new ones
    back = time.monotonic()
    try:
        wait_for(lambda: _workers(stack).status_code == 200, 40, "the worker to consume again")
    except AssertionError as exc:
        raise AssertionError(f"{exc}\n{_worker_state(stack)}\n{stack.logs()}") from None
    consuming_s = time.monotonic() - back

    # Work goes on at once, done by the same worker process: not once the reconcile that
    # was running ends (Celery 5.6.3 made the next job wait for it: 2 minutes here).
    _put(stack, "after", {"image": WEB_V1, "replicas": 1})
    applied = time.monotonic()
    wait_for(lambda: stack.deployment("after")["status"]["phase"] == "available", 30,
             f"the deployment applied after the outage to converge\n{_worker_state(stack)}"
             f"\n{stack.logs()}")
    converged_s = time.monotonic() - applied
    assert stack.procs["worker"].poll() is None, _worker_state(stack)
    assert stack.procs["beat"].poll() is None, stack.logs()
    (after,) = [p for p in _workers(stack).json()["processes"] if p["kind"] == "worker"]
    assert (after["id"], after["pid"]) == (worker["id"], worker["pid"])
    log = (stack.workdir / "worker.log").read_text(errors="replace")
    assert "Unrecoverable error" not in log, log[-4000:]
    print(f"\nbroker outage {OUTAGE_S:g} s: /healthz/workers 503 after {noticed_s:.1f} s; "
          f"consuming again {consuming_s:.1f} s after Redis returned; a new deployment "
          f"available {converged_s:.1f} s after its PUT")
