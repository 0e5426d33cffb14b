"""The heartbeat's rule: ready, unreachable, lost (issue 10: the decision in the core)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from hypothesis import given
from hypothesis import strategies as st

from app.reconcile.host_liveness import SLACK, Liveness, after_ping
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
    first = ping(Liveness(HostState.READY, last_answer=T0 - TICK), "timed out", T0)
    # The grace counts from its last answer, the tick before.
    assert first.liveness == Liveness(HostState.UNREACHABLE, T0 - TICK, None, T0 - TICK)
    assert first.notice.reason == "HostUnreachable" and "timed out" in first.notice.message
    again = ping(first.liveness, "timed out", T0 + TICK)
    assert again.liveness.unreachable_since == T0 - TICK and again.notice is None


def test_an_old_last_answer_counts_as_one_tick_before_the_first_miss() -> None:
    # Moorage's own heartbeats stopped for a minute: that says nothing of the host.
    v = ping(Liveness(HostState.READY, last_answer=T0 - 12 * TICK), "down", T0)
    assert v.liveness.unreachable_since == T0 - TICK and v.liveness.lost_at is None
    # Never answered at all: from the first miss.
    assert ping(Liveness(HostState.PENDING), "down", T0).liveness.unreachable_since == T0


def test_lost_when_the_grace_since_its_last_answer_is_over_once() -> None:
    live = Liveness(HostState.UNREACHABLE, T0, None)
    early = ping(live, "down", T0 + GRACE - 3 * TICK)
    assert early.liveness.lost_at is None and early.recheck_at is None  # a tick will do
    assert ping(live, "down", T0 + GRACE - SLACK * 2).liveness.lost_at is None
    lost = ping(live, "down", T0 + GRACE - SLACK / 2)
    assert lost.liveness.lost_at == T0 + GRACE - SLACK / 2
    assert lost.notice.reason == "HostLost" and lost.recheck_at is None
    later = ping(lost.liveness, "down", T0 + GRACE + TICK)
    assert later.liveness.lost_at == lost.liveness.lost_at and later.notice is None
    assert later.recheck_at is None


def test_the_tick_before_the_grace_ends_asks_for_a_check_at_its_end() -> None:
    live = Liveness(HostState.UNREACHABLE, T0, None)
    # The grace ends 2 s after this tick, 3 s before the next one: checked at its end.
    before = ping(live, "down", T0 + GRACE - timedelta(seconds=2))
    assert before.liveness.lost_at is None and before.recheck_at == T0 + GRACE
    # The next tick would come only just before the end: a check at the end too.
    assert ping(live, "down", T0 + GRACE - TICK).recheck_at == T0 + GRACE
    # The check itself, at the end, loses the host.
    assert ping(live, "down", T0 + GRACE).liveness.lost_at == T0 + GRACE


def test_an_answer_makes_any_host_ready_again() -> None:
    for before in (Liveness(HostState.UNREACHABLE, T0, None), Liveness(HostState.UNREACHABLE, T0, T0),
                   Liveness(HostState.PENDING)):
        v = ping(before, None, T0 + GRACE * 3)
        assert v.liveness == Liveness(HostState.READY)
        assert v.notice.reason == "HostReady"


@given(st.lists(st.booleans(), min_size=1, max_size=60),
       st.floats(min_value=0.0, max_value=4.9))
def test_any_sequence_of_answers(answers: list[bool], offset_s: float) -> None:
    """Over any run of ticks, each followed by the check it asks for: lost exactly once
    the grace since the last answer is over (within SLACK), never sooner; one notice per
    change of state; ready on answer."""
    live = Liveness(HostState.READY, last_answer=T0 - TICK)
    last_answer = T0 - TICK
    lost_notices = 0
    grace = GRACE + timedelta(seconds=offset_s)  # the grace's end anywhere between ticks
    for i, answered in enumerate(answers):
        at = T0 + i * TICK
        before = live
        v = after_ping("h1", before, None if answered else "down", tick_started=at,
                       grace=grace, tick=TICK)
        if not answered and v.recheck_at is not None:
            assert at < v.recheck_at < at + TICK + SLACK
            v = after_ping("h1", v.liveness, "down", tick_started=v.recheck_at, grace=grace,
                           tick=TICK)
        live = v.liveness
        if answered:
            last_answer = at
            assert live == Liveness(HostState.READY)
            assert (v.notice is not None) == (before.state != HostState.READY)
            live = Liveness(HostState.READY, last_answer=at)
            continue
        assert live.state == HostState.UNREACHABLE and live.unreachable_since == last_answer
        if live.lost_at is not None:
            # Lost at the grace's end (its own check), never before it.
            assert live.lost_at - last_answer >= grace - SLACK
            assert live.lost_at - last_answer <= grace + SLACK
        elif i + 1 < len(answers):
            assert at - last_answer < grace
        if v.notice is not None and v.notice.reason == "HostLost":
            lost_notices += 1
        if before.state == HostState.READY:
            assert v.notice is not None
    assert lost_notices <= answers.count(False)
