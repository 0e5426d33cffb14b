"""The heartbeat's rule: ready, unreachable, lost (issue 10: the decision in the core)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from hypothesis import given
from hypothesis import strategies as st

from app.reconcile.host_liveness import Liveness, after_ping
from app.reconcile.types import HostState

T0 = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
GRACE = timedelta(seconds=15)
TICK = timedelta(seconds=5)


def ping(before: Liveness, error: str | None, at: datetime):
    return after_ping("h1", before, error, tick_started=at, grace=GRACE, tick=TICK)


def test_a_ready_host_that_answers_is_no_news() -> None:
    v = ping(Liveness(HostState.READY), None, T0)
    assert v.liveness == Liveness(HostState.READY) and v.notice is None


def test_a_missed_heartbeat_makes_it_unreachable_and_says_so_once() -> None:
    first = ping(Liveness(HostState.READY), "timed out", T0)
    assert first.liveness == Liveness(HostState.UNREACHABLE, T0, None)
    assert first.notice.reason == "HostUnreachable" and "timed out" in first.notice.message
    again = ping(first.liveness, "timed out", T0 + TICK)
    assert again.liveness.unreachable_since == T0 and again.notice is None


def test_lost_at_the_tick_nearest_the_grace_end_once() -> None:
    live = Liveness(HostState.UNREACHABLE, T0, None)
    assert ping(live, "down", T0 + GRACE - TICK).liveness.lost_at is None
    # 2.5 s before the grace ends is nearer than the next tick, 2.5 s after it.
    lost = ping(live, "down", T0 + GRACE - TICK / 2)
    assert lost.liveness.lost_at == T0 + GRACE - TICK / 2
    assert lost.notice.reason == "HostLost"
    later = ping(lost.liveness, "down", T0 + GRACE + TICK)
    assert later.liveness.lost_at == lost.liveness.lost_at and later.notice is None


def test_an_answer_makes_any_host_ready_again() -> None:
    for before in (Liveness(HostState.UNREACHABLE, T0, None), Liveness(HostState.UNREACHABLE, T0, T0),
                   Liveness(HostState.PENDING)):
        v = ping(before, None, T0 + GRACE * 3)
        assert v.liveness == Liveness(HostState.READY)
        assert v.notice.reason == "HostReady"


@given(st.lists(st.booleans(), min_size=1, max_size=60))
def test_any_sequence_of_answers(answers: list[bool]) -> None:
    """Over any run of ticks: lost exactly when unreachable for about the grace, never
    sooner than half a tick before it; one notice per change of state; ready on answer."""
    live = Liveness(HostState.READY)
    down_since: datetime | None = None
    lost_notices = 0
    for i, answered in enumerate(answers):
        at = T0 + i * TICK
        before = live
        v = ping(before, None if answered else "down", at)
        live = v.liveness
        if answered:
            down_since = None
            assert live == Liveness(HostState.READY)
            assert (v.notice is not None) == (before.state != HostState.READY)
            continue
        down_since = down_since or at
        assert live.state == HostState.UNREACHABLE and live.unreachable_since == down_since
        if live.lost_at is not None:
            assert live.lost_at - down_since >= GRACE - TICK / 2
            assert live.lost_at - down_since < GRACE + TICK / 2
        if v.notice is not None and v.notice.reason == "HostLost":
            lost_notices += 1
            assert live.lost_at == at
        if before.state == HostState.READY:
            assert v.notice is not None
    assert lost_notices <= answers.count(False)
