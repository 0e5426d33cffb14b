"""/healthz/workers and /metrics watch real worker and beat processes come and go.

Real `moorage api`, `moorage worker` and `moorage beat` processes on the real Postgres and
Redis; killed with SIGKILL, as a crash or the OOM killer would. No Docker engine needed.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.conftest import AUTH, service_env
from tests.e2e.conftest import VENV_BIN, Stack, free_port, wait_for

INTERVAL_S, STALE_S = 0.5, 2.0
FAST = {
    "MOORAGE_PROCESS_HEARTBEAT_INTERVAL_S": str(INTERVAL_S),
    "MOORAGE_PROCESS_STALE_AFTER_S": str(STALE_S),
    "MOORAGE_LOG_LEVEL": "INFO",
}


@pytest.fixture
def procs(clean_db, tmp_path: Path) -> Iterator[Stack]:
    env = {**os.environ, **service_env(), **FAST, "MOORAGE_DATA_DIR": str(tmp_path / "data")}
    env.pop("DOCKER_HOST", None)
    s = Stack(engine=None, workdir=tmp_path, env=env, port=free_port())  # type: ignore[arg-type]
    s.start("api", "api", "--port", str(s.port))
    try:
        wait_for(s.api_up, 30, "the API")
        yield s
    finally:
        s.stop_all()


def _workers(s: Stack) -> httpx.Response:
    return httpx.get(f"{s.url}/healthz/workers", timeout=5)


def _metric(s: Stack, series: str) -> float:
    text = httpx.get(f"{s.url}/metrics", timeout=5).text
    match = re.search(rf"^{re.escape(series)} (\S+)$", text, re.MULTILINE)
    assert match, f"{series} not in:\n{text}"
    return float(match.group(1))


def _unhealthy_saying(s: Stack, words: str) -> httpx.Response | None:
    r = _workers(s)
    return r if r.status_code == 503 and words in r.json()["detail"] else None


def _by_pid(body: dict) -> dict[int, dict]:
    return {p["pid"]: p for p in body["processes"]}


def test_workers_and_beat_are_seen_to_live_and_die(procs: Stack) -> None:
    s = procs
    r = _workers(s)
    assert r.status_code == 503 and r.headers["content-type"].startswith("application/problem+json")
    assert "no worker is alive" in r.json()["detail"] and "no beat is alive" in r.json()["detail"]
    assert _metric(s, 'moorage_workers_alive{kind="worker"}') == 0

    worker = s.start("worker", "worker", "--concurrency", "1")
    beat = s.start("beat", "beat")
    body = wait_for(lambda: (r := _workers(s)).status_code == 200 and r.json(), 60,
                    f"a worker and a beat\n{s.logs()}")
    assert (body["workers_alive"], body["workers_consuming"], body["beats_alive"]) == (1, 1, 1)
    seen = _by_pid(body)
    assert seen[worker.pid]["kind"] == "worker" and seen[worker.pid]["consuming"] is True
    assert seen[beat.pid]["kind"] == "beat" and seen[beat.pid]["consuming"] is None
    wait_for(lambda: _by_pid(_workers(s).json())[beat.pid]["broker_seen_at"], 15,
             "beat to send its first job")
    assert _metric(s, 'moorage_workers_alive{kind="worker"}') == 1
    assert _metric(s, 'moorage_workers_alive{kind="beat"}') == 1
    assert _metric(s, "moorage_workers_consuming") == 1
    assert _metric(s, "moorage_oldest_due_reconcile_seconds") == 0

    # A second beat is one too many (its own schedule file; the same database).
    log = open(s.workdir / "beat2.log", "ab")  # noqa: SIM115  (closed with the process)
    s.procs["beat2"] = subprocess.Popen(
        [str(VENV_BIN / "moorage"), "beat"], stdout=log, stderr=log, start_new_session=True,
        env={**s.env, "MOORAGE_DATA_DIR": str(s.workdir / "data2")})
    second = s.procs["beat2"].pid
    wait_for(lambda: _unhealthy_saying(s, "2 beats are alive: run exactly one"), 30,
             "two beats to be seen")
    # One that stops cleanly says goodbye: not a gone process, just none.
    s.kill("beat2", signal.SIGTERM)
    body = wait_for(lambda: (r := _workers(s)).status_code == 200 and r.json(), 10,
                    "the healthy state again")
    assert second not in _by_pid(body)

    # A killed worker: seen gone within the stale window (plus a beat and a scrape).
    s.kill("worker")
    killed = time.monotonic()
    r = wait_for(lambda: _unhealthy_saying(s, "no worker is alive"), 10,
                 "the killed worker to be seen gone")
    noticed_s = time.monotonic() - killed
    assert noticed_s < STALE_S + 2 * INTERVAL_S + 1.5
    gone = _by_pid(r.json())[worker.pid]
    assert (gone["alive"], gone["consuming"]) == (False, False)
    assert r.json()["workers_alive"] == 0 and r.json()["beats_alive"] == 1
    assert _metric(s, 'moorage_workers_alive{kind="worker"}') == 0
    assert _metric(s, "moorage_workers_consuming") == 0

    # Nothing converges now, and that shows: a deployment applied waits, longer and longer.
    with httpx.Client(base_url=s.url, headers=AUTH, timeout=10) as c:
        assert c.put("/v1/deployments/waits", json={"image": "nginx:1.27"}).status_code == 201
    time.sleep(1)
    waited = _metric(s, "moorage_oldest_due_reconcile_seconds")
    time.sleep(1.5)
    assert waited >= 0.9 and _metric(s, "moorage_oldest_due_reconcile_seconds") >= waited + 1.4

    # A killed beat: the same.
    s.kill("beat")
    wait_for(lambda: _unhealthy_saying(s, "no beat is alive"), 10, "the killed beat to be seen gone")
    assert _metric(s, 'moorage_workers_alive{kind="beat"}') == 0
    print(f"\nkilled worker seen gone by /healthz/workers after {noticed_s:.1f} s "
          f"(stale after {STALE_S:g} s, heartbeat every {INTERVAL_S:g} s)")


def test_a_beat_writes_its_row_forgets_long_gone_processes_and_a_stop_says_goodbye(
    clean_db,
) -> None:
    import uuid
    from datetime import timedelta

    from app.db import session_scope, utcnow
    from app.models import ProcessHeartbeat
    from app.repositories import processes as process_repo
    from app.services.liveness import HeartbeatThread

    now = utcnow()

    def gone_for(minutes: float) -> ProcessHeartbeat:
        at = now - timedelta(minutes=minutes)
        return ProcessHeartbeat(id=uuid.uuid4(), kind="worker", hostname="old", pid=1,
                                started_at=at, last_seen_at=at)

    long_gone, lately_gone = gone_for(61), gone_for(30)
    with session_scope() as session:
        session.add_all([long_gone, lately_gone])

    def ids() -> set[uuid.UUID]:
        with session_scope() as session:
            return {r.id for r in process_repo.all_rows(session)}

    beat = HeartbeatThread("worker")  # not started: one beat at a time, by hand
    beat.beat()
    assert ids() == {beat.row_id, lately_gone.id}  # an hour gone is forgotten
    beat.saw_broker()
    beat.beat()
    with session_scope() as session:
        (mine,) = [r for r in process_repo.all_rows(session) if r.id == beat.row_id]
        assert mine.broker_seen_at == beat.broker_seen_at and mine.pid == os.getpid()
    beat.stop()
    assert ids() == {lately_gone.id}
