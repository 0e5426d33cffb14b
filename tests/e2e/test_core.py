"""The core promise, end to end: desired state in, exactly that running on the engine."""

from __future__ import annotations

import os
import time
import urllib.request
from collections import Counter
from collections.abc import Iterator

import pytest

from tests.e2e.conftest import Stack, running_stack, wait_for
from tests.support.dockerd import WEB_CRASH, WEB_V1, WEB_V2

pytestmark = [pytest.mark.docker, pytest.mark.e2e]

PORT = [{"container_port": 8080, "host_ip": "127.0.0.1"}]


def _apply(stack: Stack, name: str, **spec) -> dict:
    with stack.client() as c:
        r = c.put(f"/v1/deployments/{name}", json=spec)
        assert r.status_code in (200, 201), r.text
        return r.json()


def _patch(stack: Stack, name: str, patch: dict) -> dict:
    with stack.client() as c:
        r = c.patch(f"/v1/deployments/{name}", json=patch)
        assert r.status_code == 200, r.text
        return r.json()


def _running(stack: Stack, name: str) -> list[dict]:
    return [c for c in stack.containers(name) if c["state"] == "running"]


def _assert_exactly(stack: Stack, name: str, n: int) -> None:
    everything = stack.containers(name, all_states=True)
    slots = Counter(c["slot"] for c in everything)
    assert len(everything) == n, everything
    assert sorted(slots) == sorted(str(i) for i in range(n)), slots
    assert all(c["state"] == "running" for c in everything), everything


def _get(url: str) -> str:
    with urllib.request.urlopen(url, timeout=5) as r:  # noqa: S310 (loopback only)
        return r.read().decode()


def test_apply_scale_drift_worker_death_and_delete(stack: Stack) -> None:
    d = _apply(stack, "web", image=WEB_V1, replicas=3, ports=PORT,
               secrets={"API_TOKEN": "e2e-secret-value-123"})
    rollout = stack.wait_rollout(d["current_rollout"]["id"])
    assert rollout["state"] == "succeeded", rollout
    _assert_exactly(stack, "web", 3)
    status = stack.deployment("web")["status"]
    assert (status["phase"], status["ready_replicas"]) == ("available", 3), status

    # Every replica answers on its published loopback port.
    with stack.client() as c:
        replicas = c.get("/v1/deployments/web/replicas").json()["items"]
    assert len(replicas) == 3
    for r in replicas:
        (port,) = r["ports"]
        assert port["host_ip"] == "127.0.0.1"
        assert _get(f"http://127.0.0.1:{port['host_port']}/version").strip() == "v1"

    # Scale up and down: only the difference changes.
    before = {c["name"]: c["id"] for c in stack.containers("web")}
    stack.wait_rollout(_patch(stack, "web", {"replicas": 5})["current_rollout"]["id"])
    _assert_exactly(stack, "web", 5)
    after = {c["name"]: c["id"] for c in stack.containers("web")}
    assert all(after[name] == cid for name, cid in before.items()), "scale-up replaced replicas"
    stack.wait_rollout(_patch(stack, "web", {"replicas": 1})["current_rollout"]["id"])
    _assert_exactly(stack, "web", 1)
    assert stack.containers("web")[0]["id"] == before[min(before)], "scale-down kept the wrong one"

    # Drift: a container removed by hand is replaced (woken by the engine's event, see
    # test_drift_is_seen_in_engine_events_not_only_at_the_drift_check), with an event.
    (victim,) = stack.containers("web")
    stack.engine.docker("rm", "-f", victim["id"])
    wait_for(lambda: [c for c in _running(stack, "web") if c["id"] != victim["id"]], 20,
             "the removed replica to be replaced")
    _assert_exactly(stack, "web", 1)
    with stack.client() as c:
        reasons = [e["reason"] for e in c.get("/v1/deployments/web/events",
                                              params={"limit": 500}).json()["items"]]
    assert "ReplicaMissing" in reasons

    # A worker killed mid-rollout: a new worker finishes it, no duplicates, no orphans.
    (old,) = stack.containers("web")
    d = _patch(stack, "web", {"image": WEB_V2, "replicas": 6})
    wait_for(lambda: len(ids := {c["id"] for c in stack.containers("web", all_states=True)}) >= 2
             and old["id"] in ids, 30, "the rollout to be under way", interval=0.02)
    stack.kill("worker")
    stack.start_worker()
    rollout = stack.wait_rollout(d["current_rollout"]["id"], timeout=90)
    assert rollout["state"] == "succeeded", rollout
    wait_for(lambda: len(stack.containers("web", all_states=True)) == 6, 20, "6 containers")
    _assert_exactly(stack, "web", 6)
    assert stack.deployment("web")["spec"]["image"] == WEB_V2
    with stack.client() as c:
        replicas = c.get("/v1/deployments/web/replicas").json()["items"]
    assert {r["revision"] for r in replicas} == {d["revision"]}

    # The secret reached the container but no API response, event or log line.
    env = stack.engine.docker("inspect", "--format", "{{json .Config.Env}}",
                              stack.containers("web")[0]["id"]).stdout
    assert "e2e-secret-value-123" in env
    with stack.client() as c:
        for path in ("/v1/deployments/web", "/v1/deployments/web/events?limit=500",
                     "/v1/deployments/web/revisions", "/v1/deployments/web/replicas",
                     "/v1/deployments/web/rollouts"):
            assert "e2e-secret-value-123" not in c.get(path).text, path
    assert "e2e-secret-value-123" not in stack.logs()

    # Delete: every container goes, then the deployment.
    with stack.client() as c:
        r = c.delete("/v1/deployments/web")
        assert r.status_code == 202, r.text
        delete_rollout = r.json()
    assert stack.wait_rollout(delete_rollout["id"])["state"] == "succeeded"
    assert stack.containers("web", all_states=True) == []
    with stack.client() as c:
        assert c.get("/v1/deployments/web").status_code == 404


def test_crash_loop_backs_off_and_degrades(stack: Stack) -> None:
    _apply(stack, "crashy", image=WEB_CRASH, replicas=1)

    def restarts() -> int:
        with stack.client() as c:
            events = c.get("/v1/deployments/crashy/events", params={"limit": 500}).json()
        return sum(e["reason"] == "ReplicaRestarted" for e in events["items"])

    wait_for(lambda: restarts() >= 3, 40, "three restarts")
    status = stack.deployment("crashy")["status"]
    assert status["phase"] == "degraded", status
    assert "crashing" in status["message"], status
    # Growing back-off: the gaps between restarts widen instead of hot-looping.
    with stack.client() as c:
        events = c.get("/v1/deployments/crashy/events", params={"limit": 500}).json()["items"]
    times = [e["time"] for e in events if e["reason"] == "ReplicaRestarted"]
    assert len(times) >= 3
    count_before = restarts()
    time.sleep(3)
    assert restarts() - count_before <= 2, "restarting in a hot loop"


def test_drift_is_seen_in_engine_events_not_only_at_the_drift_check(
    clean_db, engine, tmp_path
) -> None:
    # The periodic drift check is an hour away: only the heartbeat's look at the engine's
    # events can explain a quick repair.
    with running_stack(tmp_path, {"e2e": engine}, MOORAGE_DRIFT_CHECK_INTERVAL_S="3600") as s:
        d = _apply(s, "events", image=WEB_V1, replicas=2)
        assert s.wait_rollout(d["current_rollout"]["id"])["state"] == "succeeded"
        time.sleep(2)  # converged, and its next look is an hour away
        removed, stopped = s.containers("events")
        s.engine.docker("rm", "-f", removed["id"])
        s.engine.docker("stop", "-t", "1", stopped["id"])
        started = time.monotonic()
        wait_for(lambda: len([c for c in _running(s, "events")
                              if c["id"] not in (removed["id"], stopped["id"])]) == 2,
                 15, "both replicas to be replaced")
        assert time.monotonic() - started < 15
        _assert_exactly(s, "events", 2)


def test_foreign_containers_are_never_touched(stack: Stack) -> None:
    foreign = stack.engine.docker(
        "run", "-d", "--name", "not-moorage", "--label", "moorage.deployment=web", WEB_V1
    ).stdout.strip()
    try:
        d = _apply(stack, "web", image=WEB_V1, replicas=2)
        stack.wait_rollout(d["current_rollout"]["id"])
        with stack.client() as c:
            r = c.delete("/v1/deployments/web")
        stack.wait_rollout(r.json()["id"])
        state = stack.engine.docker("inspect", "--format", "{{.State.Running}}", foreign).stdout
        assert state.strip() == "true"
    finally:
        stack.engine.docker("rm", "-f", foreign)


@pytest.fixture
def database_at_0013() -> Iterator[str]:
    """A database of its own, migrated to 0013 (before typed templates): its URL."""
    import uuid

    import sqlalchemy as sa
    from alembic import command

    from app.db import make_engine
    from app.migrate import alembic_config
    from tests.conftest import PG_ADMIN_URL

    name = f"moorage_e2e_old_{uuid.uuid4().hex[:10]}"
    admin = sa.create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    url = PG_ADMIN_URL.rsplit("/", 1)[0] + f"/{name}"
    engine = make_engine(url)
    try:
        cfg = alembic_config()
        with engine.begin() as conn:
            cfg.attributes["connection"] = conn
            command.upgrade(cfg, "0013")
        yield url
    finally:
        engine.dispose()
        with admin.connect() as conn:
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def test_a_revision_stored_before_typed_templates_runs_after_the_upgrade(
    clean_db, engine, tmp_path, database_at_0013: str
) -> None:
    """A deployment written by Moorage at 0013 (a revision holding the spec, replicas
    and all, no template), upgraded with `moorage migrate`: the workers run it from its
    converted template (env, secret, labels, port, health check), and a scale of it
    makes no revision."""
    import subprocess

    import sqlalchemy as sa

    from app.db import make_engine
    from tests.conftest import service_env
    from tests.e2e.conftest import VENV_BIN
    from tests.support.legacy import insert_deployment_0013, spec_0013

    old = make_engine(database_at_0013)
    try:
        with old.begin() as conn:
            _, rollout_id = insert_deployment_0013(
                conn, "legacy", [spec_0013(WEB_V1, replicas=2)],
                secrets={"API_TOKEN": "e2e-legacy-secret"})
    finally:
        old.dispose()
    env = {**service_env(), "MOORAGE_DATABASE_URL": database_at_0013}
    subprocess.run([str(VENV_BIN / "moorage"), "migrate"], env={**os.environ, **env},
                   check=True, capture_output=True, timeout=120)

    with running_stack(tmp_path, {"e2e": engine}, MOORAGE_DATABASE_URL=database_at_0013) as s:
        rollout = s.wait_rollout(str(rollout_id), timeout=90)
        assert rollout["state"] == "succeeded", rollout
        _assert_exactly(s, "legacy", 2)
        d = s.deployment("legacy")
        assert (d["revision"], d["spec"]["replicas"], d["status"]["phase"]) == (1, 2, "available")
        with s.client() as c:
            replicas = c.get("/v1/deployments/legacy/replicas").json()["items"]
        assert {r["health"] for r in replicas} == {"healthy"}  # the converted health check
        for r in replicas:
            (port,) = r["ports"]
            assert _get(f"http://127.0.0.1:{port['host_port']}/version").strip() == "v1"
        first = s.containers("legacy")[0]["id"]
        inspected = s.engine.docker("inspect", "--format",
                                    "{{json .Config.Env}} {{json .Config.Labels}}", first).stdout
        assert "GREETING=hello" in inspected and "API_TOKEN=e2e-legacy-secret" in inspected
        assert '"team":"legacy"' in inspected

        before = {c["id"] for c in s.containers("legacy")}
        scaled = _patch(s, "legacy", {"replicas": 3})
        assert (scaled["revision"], scaled["current_rollout"]["kind"]) == (1, "scale")
        assert s.wait_rollout(scaled["current_rollout"]["id"])["state"] == "succeeded"
        _assert_exactly(s, "legacy", 3)
        assert before <= {c["id"] for c in s.containers("legacy")}, "the scale replaced replicas"
        with s.client() as c:
            revisions = c.get("/v1/deployments/legacy/revisions").json()["items"]
        assert [r["number"] for r in revisions] == [1]
    after = make_engine(database_at_0013)
    try:
        with after.connect() as conn:
            assert conn.execute(sa.text("SELECT count(*) FROM revision")).scalar_one() == 1
    finally:
        after.dispose()


def test_a_scale_that_cannot_finish_fails_and_is_not_rolled_back(stack: Stack) -> None:
    """A scale changed no template, so there is none to roll back to: it fails (at once,
    since two replicas of one fixed port can never both run on one host, not at a
    deadline ten minutes on), says why, the count stays what was asked, and the running
    replica is left alone. (When a scale was a revision, the auto-rollback undid it.)"""
    from tests.e2e.conftest import free_port

    fixed = [{"container_port": 8080, "host_port": free_port(), "host_ip": "127.0.0.1"}]
    d = _apply(stack, "fixed", image=WEB_V1, replicas=1, ports=fixed,
               update_strategy={"progress_deadline_s": 600})
    assert stack.wait_rollout(d["current_rollout"]["id"])["state"] == "succeeded"
    (running,) = stack.containers("fixed")

    scaled = _patch(stack, "fixed", {"replicas": 2})  # one host, one fixed port: no room
    assert (scaled["revision"], scaled["current_rollout"]["kind"]) == (1, "scale")
    failed = stack.wait_rollout(scaled["current_rollout"]["id"], timeout=30)
    assert failed["state"] == "failed", failed
    assert "2 replicas publish fixed host port" in failed["message"], failed
    assert "only 1 host(s) can take one" in failed["message"], failed
    assert failed["message"].endswith("a scale is not rolled back"), failed
    current = stack.deployment("fixed")
    assert (current["revision"], current["spec"]["replicas"]) == (1, 2)
    assert current["current_rollout"]["id"] == failed["id"]  # no rollback started
    assert [c["id"] for c in stack.containers("fixed")] == [running["id"]]
