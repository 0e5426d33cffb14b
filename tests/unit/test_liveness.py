"""What /healthz/workers concludes from the rows processes write (app.services.liveness)."""

from __future__ import annotations

import uuid

from app.models import ProcessHeartbeat
from app.services.liveness import judge
from tests.unit.factories import T0, at

STALE_S = 15.0


def row(kind: str, seen: float, broker: float | None = None, pid: int = 1) -> ProcessHeartbeat:
    """A process last seen ``seen`` s after T0 (and with the broker at ``broker``)."""
    return ProcessHeartbeat(
        id=uuid.uuid4(), kind=kind, hostname="h", pid=pid, started_at=T0,
        last_seen_at=at(seen), broker_seen_at=None if broker is None else at(broker))


NOW = at(100)


def test_one_consuming_worker_and_one_beat_is_healthy() -> None:
    report = judge([row("worker", 99, broker=99.5), row("beat", 98, broker=97)], NOW, STALE_S)
    assert report.healthy, report.problems
    assert (report.alive("worker"), report.consuming, report.alive("beat")) == (1, 1, 1)
    worker, beat = report.processes
    assert (worker.alive, worker.consuming) == (True, True)
    assert (beat.alive, beat.consuming) == (True, None)  # beat does not consume


def test_nothing_heard_from_is_two_problems() -> None:
    report = judge([], NOW, STALE_S)
    assert not report.healthy
    assert [p.split(" (")[0] for p in report.problems] == ["no worker is alive",
                                                             "no beat is alive"]


def test_a_worker_gone_quiet_is_not_alive_even_if_another_is() -> None:
    dead, live = row("worker", 84, broker=84, pid=7), row("worker", 99, broker=99, pid=8)
    report = judge([dead, live, row("beat", 99)], NOW, STALE_S)
    assert report.healthy
    assert [(p.pid, p.alive, p.consuming) for p in report.processes[:2]] == [
        (7, False, False), (8, True, True)]
    report = judge([dead, row("beat", 99)], NOW, STALE_S)
    assert report.problems == ["no worker is alive (none heard from in 15 s)"]


def test_a_live_worker_that_does_not_consume_is_a_problem() -> None:
    # The process lives (its thread writes), but its consumer has not run connected to
    # the broker for longer than the window: lost broker, or a wedged consumer.
    for broker in (None, 80):
        report = judge([row("worker", 99, broker=broker), row("beat", 99)], NOW, STALE_S)
        assert report.problems == [
            "1 worker(s) alive, but none has consumed from the broker in 15 s"]
        assert report.alive("worker") == 1 and report.consuming == 0


def test_exactly_one_beat() -> None:
    workers = [row("worker", 99, broker=99)]
    report = judge([*workers, row("beat", 99), row("beat", 98)], NOW, STALE_S)
    assert report.problems == ["2 beats are alive: run exactly one"]
    # A beat that died and the one that replaced it: one alive, fine.
    assert judge([*workers, row("beat", 50), row("beat", 99)], NOW, STALE_S).healthy


def test_the_window_is_inclusive() -> None:
    report = judge([row("worker", 85, broker=85), row("beat", 85)], NOW, STALE_S)
    assert report.healthy
