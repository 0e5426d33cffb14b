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
