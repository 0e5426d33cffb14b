"""A deployment's usage totals, as the views and the metrics read them in SQL, are the
newest fresh sample of each current replica, summed: checked against a plain reading of
the same rows for any mix of replicas, samples, end marks, stale samples and containers
that are no longer replicas (on the real Postgres)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import delete

from app.db import session_scope, utcnow
from app.models import Deployment, Host, Replica, UsageSample
from app.repositories import usage as usage_repo

LOOKBACK_S = 300
CONTAINERS = ["c0", "c1", "c2", "c3"]

# (container, seconds ago, figures: None is an end mark, a sample with no figures)
samples = st.lists(st.tuples(st.sampled_from(CONTAINERS), st.integers(0, 2 * LOOKBACK_S),
                             st.none() | st.tuples(st.integers(0, 400), st.integers(0, 10**9))),
                   max_size=16, unique_by=lambda s: (s[0], s[1]))
# which containers are replicas now, and of which deployment (0 or 1)
replicas = st.dictionaries(st.sampled_from(CONTAINERS), st.sampled_from([0, 1]), max_size=4)


def expected(current: dict[str, int], rows: list, names: list) -> dict:
    newest: dict[str, tuple] = {}
    for container, ago, figures in rows:
        if container in current and ago <= LOOKBACK_S and (
                container not in newest or ago < newest[container][0]):
            newest[container] = (ago, figures)
    out: dict = {}
    for container, (ago, figures) in newest.items():
        if figures is None:
            continue  # an end mark: the replica counts for nothing
        cpu, mem, n, latest = out.get(names[current[container]], (0.0, 0, 0, None))
        out[names[current[container]]] = (cpu + figures[0], mem + figures[1], n + 1,
                                          ago if latest is None else min(latest, ago))
    return out


@pytest.mark.usefixtures("clean_db")
@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(current=replicas, rows=samples)
def test_totals_are_the_newest_fresh_sample_of_each_current_replica(current, rows) -> None:
    now = utcnow()
    with session_scope() as session:
        for table in (UsageSample, Replica, Deployment, Host):
            session.execute(delete(table))
        host = Host(name="h", url="unix:///nowhere.sock", state="ready")
        deployments = [Deployment(name=f"d{i}", revision=1, replicas=1) for i in range(2)]
        session.add_all([host, *deployments])
        session.flush()
        owner = {c: current.get(c, 0) for c in CONTAINERS}  # a gone replica's samples stay
        for slot, (container, d) in enumerate(sorted(current.items())):
            session.add(Replica(deployment_id=deployments[d].id, host_id=host.id, slot=slot,
                                revision=1, template_hash="0" * 64, container_id=container,
                                container_name=f"r-{container}", state="running", health="none"))
        for container, ago, figures in rows:
            session.add(UsageSample(
                deployment_id=deployments[owner[container]].id, container_id=container,
                sampled_at=now - timedelta(seconds=ago), cpu_total_ns=1, online_cpus=1,
                cpu_percent=None if figures is None else float(figures[0]),
                memory_bytes=None if figures is None else figures[1]))
        session.flush()
        names = {d.id: d.name for d in deployments}
        got = {names[d]: (cpu, mem, n, round((now - at).total_seconds()))
               for d, cpu, mem, n, at in usage_repo.summed_latest(
                   session, names, now - timedelta(seconds=LOOKBACK_S))}
    assert got == expected(current, rows, [d.name for d in deployments])
