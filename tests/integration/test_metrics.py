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
