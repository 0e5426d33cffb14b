"""The heartbeat's rule: ready, unreachable, lost (issue 10: the decision in the core)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from hypothesis import given
from hypothesis import strategies as st

from app.reconcile.host_liveness import SLACK, Liveness, Verdict, after_ping
from app.reconcile.types import HostState

T0 = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
GRACE = timedelta(seconds=15)
TICK = timedelta(seconds=5)


def ping(before: Liveness, error: str | None, at: datetime):
    return after_ping("h1", before, error, tick_started=at, grace=GRACE, tick=TICK)


def test_a_ready_host_that_answers_is_no_news() -> None:
    v = ping(Liveness(HostState.READY, last_answer=T0 - TICK), None, T0)
    # Its last answer is when the heartbeat it answered was sent.
    assert v.liveness == Liveness(HostState.READY, last_answer=T0) and v.notice is None
    # An answer written after a later one's keeps the later one.
    late = ping(Liveness(HostState.READY, last_answer=T0 + TICK), None, T0)
    assert late.liveness == Liveness(HostState.READY, last_answer=T0 + TICK)


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
        assert v.liveness == Liveness(HostState.READY, last_answer=T0 + GRACE * 3)
        assert v.notice.reason == "HostReady" and not v.stale


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
            assert live == Liveness(HostState.READY, last_answer=at)
            assert (v.notice is not None) == (before.state != HostState.READY)
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


# -- checks that overlap and write out of order (issue 14: the stopping engine's flap) ------


def test_an_answer_to_a_check_begun_before_the_outage_was_known_changes_nothing() -> None:
    # A check began while the host looked ready, so it asked on a kept-alive connection
    # (which a stopping dockerd goes on serving after it removed its socket); meanwhile
    # another check missed and wrote the outage. The answer is no news.
    ready = Liveness(HostState.READY, last_answer=T0 - TICK)
    missed = ping(ready, "No such file or directory", T0)
    assert missed.notice.reason == "HostUnreachable"
    late = after_ping("h1", missed.liveness, None, tick_started=T0 + TICK / 5, grace=GRACE,
                      tick=TICK, seen=ready)
    assert late == Verdict(missed.liveness, stale=True)
    # A check that began knowing of the outage (so asked on a new connection) and got an
    # answer: the host is back.
    back = after_ping("h1", missed.liveness, None, tick_started=T0 + TICK, grace=GRACE,
                      tick=TICK, seen=missed.liveness)
    assert back.notice.reason == "HostReady"
    assert back.liveness == Liveness(HostState.READY, last_answer=T0 + TICK)


def test_an_answer_to_a_check_begun_in_an_earlier_outage_changes_nothing() -> None:
    earlier = Liveness(HostState.UNREACHABLE, T0, None, T0)
    now = Liveness(HostState.UNREACHABLE, T0 + 3 * TICK, None, T0 + 3 * TICK)
    v = after_ping("h1", now, None, tick_started=T0 + TICK, grace=GRACE, tick=TICK,
                   seen=earlier)
    assert v.stale and v.liveness == now and v.notice is None


def test_a_miss_sent_before_the_last_answer_changes_nothing() -> None:
    # A slow check (sent at T0, written after the timeout) and a quicker one sent after it
    # that was answered and written first.
    answered = Liveness(HostState.READY, last_answer=T0 + TICK / 5)
    v = after_ping("h1", answered, "no answer within 1.5s", tick_started=T0, grace=GRACE,
                   tick=TICK, seen=Liveness(HostState.READY, last_answer=T0 - TICK))
    assert v == Verdict(answered, stale=True)
    # Sent after it: the host is unreachable.
    assert ping(answered, "down", T0 + TICK).notice.reason == "HostUnreachable"


@st.composite
def overlapping_checks(draw):
    """Checks sent every `step`, each written after up to `lag` later checks began; the
    host answers every check sent before `dies`. From then on a new connection finds no
    engine, and a kept-alive one (a check that began seeing it ready) gets an answer or
    not, as a stopping engine's would, for `window` checks; then nothing answers."""
    n = draw(st.integers(min_value=2, max_value=40))
    dies = draw(st.integers(min_value=0, max_value=n))  # n: it never dies
    window = draw(st.integers(min_value=0, max_value=5))
    kept_alive = draw(st.lists(st.booleans(), min_size=n, max_size=n))
    lags = draw(st.lists(st.integers(min_value=0, max_value=3), min_size=n, max_size=n))
    order = draw(st.permutations(range(n)))  # ties in write position, broken any way
    step = draw(st.sampled_from([TICK / 5, TICK / 2, TICK]))
    return n, dies, window, kept_alive, lags, order, step


@given(overlapping_checks())
def test_checks_written_in_any_order_never_bring_a_dead_host_back(case) -> None:
    """However checks overlap: once a dead host is written unreachable, no HostReady comes
    before it answers a new connection again (never, here); it is lost at most once, never
    sooner than the grace after its last recorded answer; a host alive throughout is never
    unreachable; and once every check is written, nothing brings it back."""
    n, dies, window, kept_alive, lags, order, step = case
    sent = [T0 + i * step for i in range(n)]
    # Events in time: check i reads the row when it is sent, and writes after `lags[i]`
    # more checks were sent.
    writes_after: dict[int, list[int]] = {}
    rank = {c: r for r, c in enumerate(order)}
    for i in range(n):
        writes_after.setdefault(min(n - 1, i + lags[i]), []).append(i)
    row = Liveness(HostState.READY, last_answer=T0 - TICK)
    seen: dict[int, Liveness] = {}
    notices: list[str] = []
    recorded = row.last_answer  # the last answer written
    for now in range(n):
        seen[now] = row
        for i in sorted(writes_after.get(now, []), key=rank.__getitem__):
            if i < dies:
                error = None
            elif not seen[i].suspect and kept_alive[i] and i < dies + window:
                error = None  # a kept-alive connection, still served while it stops
            else:
                error = "No such file or directory"
            v = after_ping("h1", row, error, tick_started=sent[i], grace=GRACE, tick=TICK,
                           seen=seen[i])
            if v.stale:
                assert v.liveness == row and v.notice is None
            if v.notice is not None:
                notices.append(v.notice.reason)
            if error is None and not v.stale:
                recorded = max(recorded, sent[i])
            if v.liveness.lost_at is not None and row.lost_at is None:
                assert v.liveness.lost_at - recorded >= GRACE - SLACK
            row = v.liveness
    if "HostUnreachable" in notices:
        assert "HostReady" not in notices[notices.index("HostUnreachable"):], notices
        assert dies < n
    assert notices.count("HostLost") <= 1
    if dies == n:
        assert notices == [] and row.state == HostState.READY
    if n > dies + window:  # a check sent once nothing answered: it has the last word
        assert row.state == HostState.UNREACHABLE
