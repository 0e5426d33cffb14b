"""Health bookkeeping from probe results (pure)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

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


@pytest.mark.parametrize(("failures_before", "started", "now", "health", "failures"), [
    (0, 0, 5, "starting", 0),      # inside start_period: not counted
    (0, 0, 11, "starting", 1),     # after it: counted
    (1, 0, 11, "starting", 2),
    (2, 0, 11, "unhealthy", 3),    # retries exhausted
], ids=["grace", "first-counted", "second", "retries-exhausted"])
def test_failures_count_after_the_start_period(failures_before, started, now, health, failures):
    state = HealthState("starting", failures_before, None)
    result = after_probe(state, False, "refused", CHECK, at(started), at(now))
    assert (result.health, result.failures) == (health, failures)


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
