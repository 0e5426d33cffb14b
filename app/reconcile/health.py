"""Health from probe results: pure bookkeeping, no probing here.

Like Docker's own HEALTHCHECK: failures inside ``start_period_s`` don't count, ``retries``
consecutive failures make a replica unhealthy, one success makes it healthy. Until its
first success a replica is probed every START_INTERVAL_S, so a rollout never waits a full
``interval_s`` to learn that a fresh container is up (Docker calls it start_interval).
Those quick probes do not make it fail sooner: a fresh replica's failures count no faster
than probes ``interval_s`` apart would, the k-th no sooner than ``start_period_s + k ×
interval_s`` after it started, so one slow to start still has ``retries × interval_s``
(15 s at the defaults) past its start period, as under Docker.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

START_INTERVAL_S = 0.25


@dataclass(frozen=True)
class HealthCheckSpec:
    interval_s: float
    timeout_s: float
    retries: int
    start_period_s: float


@dataclass(frozen=True)
class HealthState:
    health: str = "starting"  # starting | healthy | unhealthy
    failures: int = 0
    last_probe_at: datetime | None = None
    output: str = ""


def next_probe_at(state: HealthState, check: HealthCheckSpec) -> datetime | None:
    if state.last_probe_at is None:
        return None  # never probed: now
    interval = check.interval_s if state.health == "healthy" else min(
        check.interval_s, START_INTERVAL_S
    )
    return state.last_probe_at + timedelta(seconds=interval)


def is_due(state: HealthState, check: HealthCheckSpec, now: datetime) -> bool:
    at = next_probe_at(state, check)
    return at is None or at <= now


def after_probe(
    state: HealthState,
    ok: bool,
    output: str,
    check: HealthCheckSpec,
    started_at: datetime | None,
    now: datetime,
) -> HealthState:
    if ok:
        return HealthState("healthy", 0, now, output)
    failures = state.failures + 1
    if state.health == "starting" and started_at is not None:
        counted_by_now = ((now - started_at).total_seconds() - check.start_period_s) // check.interval_s
        failures = min(failures, max(0, int(counted_by_now)))
    if failures >= check.retries:
        health = "unhealthy"
    elif state.health == "healthy":
        health = "healthy"  # one failure is not yet a verdict
    else:
        health = "starting"
    return HealthState(health, failures, now, output)
