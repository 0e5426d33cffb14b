"""Health bookkeeping from probe results (pure)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from app.reconcile.health import (
    START_INTERVAL_S,
    HealthCheckSpec,
    HealthState,
    after_probe,
    is_due,
    next_probe_at,
)

T0 = datetime(2026, 1, 1, tzinfo=UTC)
CHECK = HealthCheckSpec(interval_s=5, timeout_s=1, retries=3, start_period_s=10)


def at(s: float) -> datetime:
    return T0 + timedelta(seconds=s)


def test_one_success_makes_healthy_and_resets_failures() -> None:
    state = HealthState("starting", failures=2)
    assert after_probe(state, True, "HTTP 200", CHECK, at(0), at(1)) == HealthState(
        "healthy", 0, at(1), "HTTP 200")


@pytest.mark.parametrize(("failures_before", "now", "health", "failures"), [
    (0, 5, "starting", 0),       # inside start_period (10 s): not counted
    (0, 11, "starting", 0),      # after it, but an interval_s (5 s) has not passed
    (0, 15, "starting", 1),      # the first that counts
    (1, 19.9, "starting", 1),    # the second not before 10 + 2 x 5
    (1, 20, "starting", 2),
    (2, 24, "starting", 2),
    (2, 25, "unhealthy", 3),     # retries exhausted: 10 + 3 x 5 after the start
], ids=["grace", "too-soon", "first-counted", "second-too-soon", "second", "third-too-soon",
        "retries-exhausted"])
def test_a_fresh_replicas_failures_count_at_interval_s_after_the_start_period(
        failures_before, now, health, failures):
    state = HealthState("starting", failures_before, None)
    result = after_probe(state, False, "refused", CHECK, at(0), at(now))
    assert (result.health, result.failures) == (health, failures)


@given(st.lists(st.floats(min_value=0.01, max_value=3.0), min_size=1, max_size=200),
       st.floats(min_value=0.5, max_value=30), st.integers(1, 10), st.floats(0, 60))
def test_probed_at_any_pace_a_fresh_replica_is_unhealthy_no_sooner_than_under_docker(
        gaps, interval, retries, start_period):
    check = HealthCheckSpec(interval_s=interval, timeout_s=1, retries=retries,
                            start_period_s=start_period)
    state, now = HealthState(), 0.0
    for gap in gaps:
        now += gap
        state = after_probe(state, False, "refused", check, at(0), at(now))
        if state.health == "unhealthy":
            assert now >= start_period + retries * interval, now
            break


@given(st.floats(min_value=0.5, max_value=30), st.integers(1, 10), st.floats(0, 60))
def test_probed_as_often_as_it_is_due_a_fresh_replica_is_unhealthy_as_its_time_is_up(
        interval, retries, start_period):
    """At its own cadence (START_INTERVAL_S until it passes), the first probe at or after
    start_period + retries x interval finds it unhealthy."""
    check = HealthCheckSpec(interval_s=interval, timeout_s=1, retries=retries,
                            start_period_s=start_period)
    state, now = HealthState(), at(0)
    while state.health != "unhealthy":
        state = after_probe(state, False, "refused", check, at(0), now)
        now = next_probe_at(state, check) or now
    up = start_period + retries * interval
    assert up <= (state.last_probe_at - at(0)).total_seconds() < up + START_INTERVAL_S


def test_a_healthy_replica_survives_failures_until_retries_run_out() -> None:
    state = HealthState("healthy", 0, at(20))
    for n in (1, 2):
        state = after_probe(state, False, "timeout", CHECK, at(0), at(20 + n))
        assert state.health == "healthy" and state.failures == n
    state = after_probe(state, False, "timeout", CHECK, at(0), at(23))
    assert state.health == "unhealthy"


def test_probe_cadence() -> None:
    assert is_due(HealthState(), CHECK, at(0))  # never probed: now
    starting = HealthState("starting", 0, at(0))
    assert next_probe_at(starting, CHECK) == at(START_INTERVAL_S)
    healthy = HealthState("healthy", 0, at(0))
    assert next_probe_at(healthy, CHECK) == at(5)
    assert not is_due(healthy, CHECK, at(4.9)) and is_due(healthy, CHECK, at(5))
