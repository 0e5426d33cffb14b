"""/metrics against a real Postgres: counts for anyone, names only for a reader."""

from __future__ import annotations

import re

from fastapi.testclient import TestClient


def _value(text: str, series: str) -> float:
    match = re.search(rf"^{re.escape(series)} (\S+)$", text, re.MULTILINE)
    assert match, f"{series} not in:\n{text}"
    return float(match.group(1))


def test_fleet_counts_for_anyone_and_names_for_readers(client: TestClient) -> None:
    from app.db import session_scope, utcnow
    from app.models import Host

    with session_scope() as session:  # registration would need a live engine
        session.add(Host(name="edge-1", url="unix:///nowhere.sock", state="ready",
                         schedulable=True, labels={}, last_heartbeat_at=utcnow()))
        session.add(Host(name="edge-2", url="unix:///nowhere2.sock", state="unreachable",
                         schedulable=False, labels={}))
    for name, replicas in (("metrics-a", 3), ("metrics-b", 1)):
        r = client.put(f"/v1/deployments/{name}", json={"image": "nginx:1.27", "replicas": replicas})
        assert r.status_code == 201, r.text

    anonymous = TestClient(client.app).get("/metrics")
    assert anonymous.status_code == 200
    text = anonymous.text
    assert _value(text, 'moorage_hosts{schedulable="true",state="ready"}') == 1
    assert _value(text, 'moorage_hosts{schedulable="false",state="unreachable"}') == 1
    assert _value(text, 'moorage_deployments{phase="progressing"}') == 2
    assert _value(text, 'moorage_deployments{phase="available"}') == 0
    assert _value(text, 'moorage_rollouts_active{state="pending"}') == 2
    assert _value(text, "moorage_reconciles_due") == 2  # no worker runs here
    assert "metrics-a" not in text and "edge-1" not in text  # names need a token

    detailed = client.get("/metrics").text
    assert _value(detailed, 'moorage_deployment_replicas_desired{deployment="metrics-a"}') == 3
    assert _value(detailed, 'moorage_deployment_replicas_ready{deployment="metrics-b"}') == 0
    assert 0 <= _value(detailed, 'moorage_host_heartbeat_age_seconds{host="edge-1"}') < 60
    assert 'host="edge-2"' not in detailed  # never answered: no age to report

    bad = TestClient(client.app).get("/metrics", headers={"Authorization": "Bearer mrg_nope"})
    assert bad.status_code == 401


def test_oldest_due_reconcile_counts_from_when_it_became_due(client: TestClient) -> None:
    from datetime import timedelta

    from app.db import session_scope, utcnow
    from app.models import Deployment

    def value() -> float:
        return _value(TestClient(client.app).get("/metrics").text,
                      "moorage_oldest_due_reconcile_seconds")

    assert value() == 0  # nothing waits
    names = ("waits", "later", "held", "orphaned")
    for name in names:
        assert client.put(f"/v1/deployments/{name}", json={"image": "nginx:1.27"}).status_code == 201
    now = utcnow()
    ago = lambda s: now - timedelta(seconds=s)  # noqa: E731
    with session_scope() as session:
        rows = {d.name: d for d in session.query(Deployment)}
        rows["waits"].next_reconcile_at = ago(40)
        rows["later"].next_reconcile_at = ago(-60)  # not due yet
        # Held by a live worker: being looked at, not waiting.
        rows["held"].next_reconcile_at = ago(90)
        rows["held"].lease_owner, rows["held"].lease_expires_at = "w:1", ago(-10)
        # Its worker died: due since the lease ran out, not since it was due.
        rows["orphaned"].next_reconcile_at = ago(120)
        rows["orphaned"].lease_owner, rows["orphaned"].lease_expires_at = "w:2", ago(30)
    assert 40 <= value() < 50
    with session_scope() as session:  # never looked at since its desired state changed
        waits = session.query(Deployment).filter_by(name="waits").one()
        waits.next_reconcile_at, waits.updated_at = None, ago(70)
    assert 70 <= value() < 80
