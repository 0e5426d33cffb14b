"""The usage arithmetic: CPU % of one core as Docker computes it, memory as `docker stats`."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from app.reconcile.usage import CpuCounters, StatsReading, cpu_percent, usage

T0 = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)
NS = 1_000_000_000


def counters(total_s: float, system_s: float | None, cpus: int = 2, at: float = 0.0) -> CpuCounters:
    return CpuCounters(int(total_s * NS), None if system_s is None else int(system_s * NS),
                       cpus, T0 + timedelta(seconds=at))


def test_one_busy_core_of_two_is_100_percent() -> None:
    # In one second of wall time a 2-CPU host spends 2 s of CPU; the container used 1 s.
    assert cpu_percent(counters(11, 102), counters(10, 100)) == pytest.approx(100.0)


def test_two_busy_cores_read_200_percent() -> None:
    assert cpu_percent(counters(12, 102), counters(10, 100)) == pytest.approx(200.0)


def test_no_earlier_reading_has_no_cpu_figure() -> None:
    assert cpu_percent(counters(10, 100), None) is None


def test_a_restarted_counter_is_not_a_negative_percentage() -> None:
    assert cpu_percent(counters(1, 102), counters(10, 100)) is None


def test_no_host_time_between_readings() -> None:
    assert cpu_percent(counters(10, 100), counters(10, 100)) is None


def test_without_host_counters_wall_time_is_used() -> None:
    now, before = counters(10.5, None, at=2.0), counters(10, None, at=1.0)
    assert cpu_percent(now, before) == pytest.approx(50.0)


def test_a_one_shot_reading_is_taken_against_the_previous_sample() -> None:
    reading = StatsReading(cpu=counters(11, 102), precpu=None, memory_usage_bytes=None)
    assert usage(reading, counters(10.5, 100)).cpu_percent == pytest.approx(50.0)
    assert usage(reading, None).cpu_percent is None


def test_the_engines_own_earlier_reading_wins_over_the_kept_one() -> None:
    reading = StatsReading(cpu=counters(11, 102), precpu=counters(10, 100), memory_usage_bytes=None)
    assert usage(reading, counters(0, 0.5)).cpu_percent == pytest.approx(100.0)


def test_an_empty_precpu_counts_as_none() -> None:
    reading = StatsReading(cpu=counters(11, 102), precpu=CpuCounters(0, None, 0),
                           memory_usage_bytes=None)
    assert usage(reading, counters(10.5, 100)).cpu_percent == pytest.approx(50.0)


def test_memory_excludes_droppable_page_cache_and_is_a_share_of_the_limit() -> None:
    reading = StatsReading(cpu=counters(1, 1), precpu=None, memory_usage_bytes=48 << 20,
                           memory_inactive_file_bytes=16 << 20, memory_limit_bytes=64 << 20)
    u = usage(reading, None)
    assert u.memory_bytes == 32 << 20
    assert u.memory_percent == pytest.approx(50.0)


def test_no_limit_no_memory_percentage() -> None:
    reading = StatsReading(cpu=counters(1, 1), precpu=None, memory_usage_bytes=1000)
    assert usage(reading, None).memory_percent is None


@given(st.integers(0, 10**12), st.integers(0, 10**12), st.integers(1, 10**12),
       st.integers(1, 256))
def test_cpu_is_never_negative_and_at_most_every_core(before: int, used: int, host: int,
                                                      cpus: int) -> None:
    used = min(used, host)  # a container cannot use more CPU time than the host spent
    now = CpuCounters(before + used, 10**13 + host, cpus)
    pct = cpu_percent(now, CpuCounters(before, 10**13, cpus))
    assert pct is not None
    assert 0.0 <= pct <= cpus * 100.0 + 1e-6


# ---- what is read and what is kept ------------------------------------------------------

from app.reconcile.usage import (  # noqa: E402
    Cadence,
    Held,
    Kept,
    Usage,
    held_series,
    read_due,
    worth_keeping,
)

PACE = Cadence(interval_s=10, every=6, keepalive_s=300)
TICK0 = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)  # a multiple of 60 s: tick 0 of a turn


def kept(at: float, cpu: float | None = 1.0, memory: int | None = 10 << 20) -> Kept:
    return Kept(TICK0 + timedelta(seconds=at), counters(1, 1), cpu, memory)


def tick(n: int) -> datetime:
    return TICK0 + timedelta(seconds=10 * n)


@given(st.text(min_size=1, max_size=64), st.integers(0, 10**6))
def test_an_unscaled_replica_is_read_once_in_every_run_of_its_ticks(container: str, start: int) -> None:
    # Kept 100 s before the first of six consecutive ticks: no keep-alive falls in them.
    due = [read_due(container, Kept(tick(start + i) - timedelta(seconds=100 + 10 * i),
                                    counters(1, 1), 1.0, 1), False, tick(start + i), PACE)
           for i in range(6)]
    assert due.count(True) == 1


def test_what_is_read_every_tick() -> None:
    now = tick(1)
    assert read_due("c", kept(0), True, now, PACE)  # it autoscales
    assert read_due("c", None, False, now, PACE)  # nothing kept yet
    assert read_due("c", kept(0, cpu=None), False, now, PACE)  # no CPU figure yet
    assert read_due("c", kept(-300 + 10), False, now, PACE)  # its keep-alive is due


@given(st.text(min_size=1, max_size=64))
def test_one_read_every_tick_when_every_is_one(container: str) -> None:
    pace = Cadence(10, 1, 300)
    assert all(read_due(container, kept(0), False, tick(n), pace) for n in range(1, 8))


def test_a_reading_within_the_dead_band_is_not_kept() -> None:
    now = tick(6)
    base = kept(0, cpu=20.0, memory=100 << 20)
    assert not worth_keeping(Usage(21.9, 104 << 20, 1.0), base, False, now, PACE)
    assert worth_keeping(Usage(22.1, 100 << 20, 1.0), base, False, now, PACE)  # > 10 %
    assert worth_keeping(Usage(20.0, 106 << 20, 1.0), base, False, now, PACE)  # > 5 %
    # Near idle, a point of a core is the band.
    idle = kept(0, cpu=0.0, memory=300 << 10)
    assert not worth_keeping(Usage(0.9, (300 << 10) + (900 << 10), None), idle, False, now, PACE)
    assert worth_keeping(Usage(1.1, 300 << 10, None), idle, False, now, PACE)


def test_what_is_always_kept() -> None:
    base = kept(0, cpu=20.0)
    same = Usage(20.0, 10 << 20, 1.0)
    assert worth_keeping(same, None, False, tick(1), PACE)  # the first one
    assert worth_keeping(same, base, True, tick(1), PACE)  # it autoscales
    assert worth_keeping(same, base, False, tick(29), PACE)  # keep-alive: before 300 s
    assert not worth_keeping(same, base, False, tick(28), PACE)
    assert worth_keeping(Usage(None, 10 << 20, 1.0), base, False, tick(1), PACE)  # restarted
    assert worth_keeping(same, kept(0, cpu=None), False, tick(1), PACE)  # its first CPU figure


@given(st.lists(st.floats(0, 400), min_size=1, max_size=200))
def test_what_is_kept_is_never_older_than_the_keep_alive(cpus: list[float]) -> None:
    # One reading per tick; the latest kept sample stays within the keep-alive and
    # within the dead-band of what was read since.
    latest: Kept | None = None
    for n, value in enumerate(cpus):
        now = tick(n)
        if latest is not None:
            assert now - latest.at <= timedelta(seconds=PACE.keepalive_s)
        figures = Usage(value, 10 << 20, None)
        if worth_keeping(figures, latest, False, now, PACE):
            latest = Kept(now, counters(1, 1), value, 10 << 20)
        assert latest is not None
        assert abs(value - latest.cpu_percent) <= max(1.0, 0.1 * latest.cpu_percent) + 1e-9


def held(container: str, at: float, cpu: float | None, memory: int = 1) -> Held:
    return Held(container, TICK0 + timedelta(seconds=at), cpu, memory)


def test_a_series_of_samples_every_tick_is_their_sum_per_tick() -> None:
    samples = [held(c, t, 10.0) for t in (0, 10, 20) for c in ("a", "b")]
    points = held_series(samples, {"a", "b"}, 333, 33)
    assert [(p.cpu_percent, p.replicas) for p in points] == [(20.0, 2)] * 3


def test_a_replica_without_a_new_sample_counts_with_its_latest() -> None:
    samples = [held("a", 0, 5.0), held("b", 0, None), held("b", 60, 50.0), held("b", 120, 80.0)]
    points = held_series(samples, {"a", "b"}, 333, 33)
    assert [(p.cpu_percent, p.replicas) for p in points] == [(5.0, 2), (55.0, 2), (85.0, 2)]


def test_a_removed_replica_is_held_briefly_and_a_first_sample_stands_back() -> None:
    # "gone" was removed after its sample at 0; "old" was kept before the window (its
    # sample then is purged): its first one here, with a CPU figure, stands back.
    samples = [held("gone", 0, 7.0), held("new", 0, None), held("new", 60, 1.0),
               held("old", 120, 3.0)]
    points = held_series(samples, {"new", "old"}, 333, 33)
    assert [(p.at - TICK0).total_seconds() for p in points] == [0, 60, 120]
    assert [(p.cpu_percent, p.replicas) for p in points] == [(10.0, 3), (4.0, 2), (4.0, 2)]


def test_a_replica_no_longer_read_has_its_kept_sample_ended_once() -> None:
    from app.reconcile.usage import ends

    assert ends(kept(0), readable=False)
    assert not ends(kept(0), readable=True)
    assert not ends(None, readable=False)  # nothing kept, nothing to end
    assert not ends(kept(0, cpu=None, memory=None), readable=False)  # ended already


def test_an_end_mark_ends_a_replicas_standing_in_the_series() -> None:
    samples = [held("a", 0, 5.0), held("b", 0, 1.0), Held("a", TICK0 + timedelta(seconds=60),
                                                          None, None), held("b", 120, 2.0)]
    points = held_series(samples, {"a", "b"}, 333, 33)
    assert [(p.cpu_percent, p.replicas) for p in points] == [(6.0, 2), (1.0, 1), (2.0, 1)]


def test_a_series_with_a_step_has_a_point_every_step_with_the_sample_standing_then() -> None:
    # Kept at 0 and 60 only (the readings between stayed within the dead-band); asked
    # up to 85 with a 10 s step: a point every 10 s, each the sample standing then.
    samples = [held("a", 0, 5.0), held("a", 60, 7.0)]
    until = TICK0 + timedelta(seconds=85)
    points = held_series(samples, {"a"}, 333, 33, step_s=10, until=until)
    assert [(p.at - TICK0).total_seconds() for p in points] == [
        0, 10, 20, 30, 40, 50, 60, 70, 80, 85]
    assert [p.cpu_percent for p in points] == [5.0] * 6 + [7.0] * 4
    # Without a step, only the moments something was kept.
    assert len(held_series(samples, {"a"}, 333, 33)) == 2


@given(st.lists(st.floats(0, 600), min_size=1, max_size=30), st.floats(1, 60),
       st.floats(0, 300))
def test_evaluation_times_keep_every_kept_moment_and_leave_no_gap_past_a_step(
        offsets, step, beyond) -> None:
    from app.reconcile.usage import evaluation_times

    kept = [TICK0 + timedelta(seconds=o) for o in offsets]
    until = max(kept) + timedelta(seconds=beyond)
    times = evaluation_times(kept, step, until)
    assert set(kept) <= set(times)
    assert times == sorted(set(times))
    assert times[-1] == until
    gaps = [(b - a).total_seconds() for a, b in zip(times, times[1:], strict=False)]
    assert all(g <= 1.5 * step + 1e-6 for g in gaps)
