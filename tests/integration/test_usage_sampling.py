"""A sampling tick against a real engine (its own, Engine(92)) and a host that accepts
connections and never answers: samples for every live replica, CPU from the second
tick on (a one-shot reading has no earlier one), the silent host and a vanished
container only missed, and old samples purged; then a reading within the dead-band
of the kept one is read, not written, and still shows, and a replica that stops has its
kept sample ended at once."""

from __future__ import annotations

import socket
import uuid
from collections.abc import Iterator
from datetime import timedelta

import pytest
from sqlalchemy import select, update

from app.config import get_settings
from app.db import session_scope, utcnow
from app.models import Deployment, Host, Replica, UsageSample
from app.services import usage
from tests.conftest import unavailable
from tests.support import dockerd
from tests.support.parallel import engine_index

pytestmark = pytest.mark.docker
ENGINE = engine_index(92)  # the autoscale suites' engines are 91-93
LABEL = "moorage.test=usage-sampling"
BURN = ["/bin/sh", "-c", "trap 'exit 0' TERM; while :; do :; done"]


@pytest.fixture(scope="module")
def engine() -> Iterator[dockerd.Engine]:
    try:
        dockerd.require_tools()
        eng = dockerd.Engine(ENGINE)
        eng.start()
        dockerd.build_test_images(eng)
    except dockerd.EngineUnavailable as exc:
        unavailable(str(exc))
    yield eng
    eng.remove_all_containers(LABEL)


@pytest.fixture
def silent_url() -> Iterator[str]:
    """A tcp:// address that accepts connections (the kernel's backlog) and never answers."""
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    s.listen(64)
    yield f"tcp://127.0.0.1:{s.getsockname()[1]}"
    s.close()


def _run(engine: dockerd.Engine, *argv: str) -> str:
    return engine.docker("run", "-d", "--label", LABEL, "--network", "none", "-m", "64m",
                         dockerd.WEB_V1, *argv).stdout.strip()


def _host(session, name: str, url: str, containers: dict[str, str]) -> uuid.UUID:
    now = utcnow()
    h = Host(name=name, url=url, state="ready", schedulable=True, created_at=now,
             updated_at=now)
    d = Deployment(name=f"d-{name}", replicas=len(containers), created_at=now, updated_at=now,
                   slot_restarts={}, labels={})
    session.add_all([h, d])
    session.flush()
    for slot, (cname, cid) in enumerate(containers.items()):
        session.add(Replica(deployment_id=d.id, host_id=h.id, slot=slot, revision=1,
                            template_hash="t", container_id=cid, container_name=cname,
                            state="running"))
    return d.id


def test_a_tick_samples_every_live_replica_and_only_misses_the_rest(
    clean_db, engine: dockerd.Engine, silent_url: str
) -> None:
    busy, idle = _run(engine, *BURN), _run(engine, "/bin/sleep", "600")
    gone = _run(engine, "/bin/sleep", "600")
    engine.docker("rm", "-f", gone)  # removed since the reconciler recorded it
    with session_scope() as session:
        live = _host(session, "live", engine.url, {"busy": busy, "idle": idle, "gone": gone})
        _host(session, "silent", silent_url, {"quiet": uuid.uuid4().hex * 2})
        old = UsageSample(deployment_id=live, container_id=busy, cpu_total_ns=1, online_cpus=1,
                          sampled_at=utcnow() - timedelta(hours=1))
        session.add(old)
    settings = get_settings().model_copy(update={"usage_timeout_s": 2.0,
                                                 "usage_interval_s": 1.0})

    first = usage.sample_all(settings)
    assert (first.sampled, first.missed, first.hosts) == (2, 2, 2)
    second = usage.sample_all(settings)
    assert (second.sampled, second.missed) == (2, 2)

    with session_scope() as session:
        samples = list(session.scalars(select(UsageSample).order_by(UsageSample.id)))
        by_container: dict[str, list[UsageSample]] = {}
        for s in samples:
            by_container.setdefault(s.container_id, []).append(s)
        assert set(by_container) == {busy, idle}  # the hour-old one was purged
        for cid in (busy, idle):
            first_sample, second_sample = by_container[cid]
            assert first_sample.cpu_percent is None  # a one-shot: nothing to compare with
            assert second_sample.cpu_percent is not None
            assert 0 < second_sample.memory_bytes < 64 << 20
            assert 0 < second_sample.memory_percent < 100
        assert by_container[busy][1].cpu_percent > 20  # a shell loop on a shared machine
        assert by_container[idle][1].cpu_percent < 20
        # What the API reads back: the newest sample of each current replica.
        latest = usage.latest_by_container(session, live)
        assert set(latest) == {busy, idle}
        totals = usage.totals(session, [live])[live]
        assert totals.replicas == 2

    # A third tick, every replica read (one tick in six otherwise): the idle one's reading
    # is within the dead-band of the one kept, so no row; it still shows its kept one.
    third = usage.sample_all(settings.model_copy(update={"usage_unscaled_every": 1}))
    assert (third.read, third.missed, third.not_due) == (2, 2, 0)
    with session_scope() as session:
        kept = session.scalars(select(UsageSample).where(UsageSample.container_id == idle)).all()
        assert len(kept) == 2
        assert set(usage.latest_by_container(session, live)) == {busy, idle}
        assert usage.totals(session, [live])[live].replicas == 2
        # And the chart counts it at every point, with the sample that stands for it.
        assert {p.replicas for p in usage.series(session, live)} == {2}
        # It stops (as the reconciler records it): no longer read.
        session.execute(update(Replica).where(Replica.container_id == idle)
                        .values(state="exited"))

    fourth = usage.sample_all(settings)
    assert fourth.ended == 1  # its kept sample would stand for minutes: ended now
    with session_scope() as session:
        assert set(usage.latest_by_container(session, live)) == {busy}
        assert usage.series(session, live)[-1].replicas == 1
        assert usage.totals(session, [live])[live].replicas == 1  # the ended one counts not
    assert usage.sample_all(settings).ended == 0  # once
