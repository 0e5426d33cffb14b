"""The autoscaler's rule (Kubernetes' HPA): table cases, then properties."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from app.reconcile.autoscale import (
    Policy,
    Recommendation,
    ReplicaUsage,
    State,
    decide,
    means,
    state_from_dict,
    state_to_dict,
)

T0 = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)
POLICY = Policy(min_replicas=1, max_replicas=10, target_cpu_percent=50,
                scale_down_window_s=300)


def cpu(*values: float | None) -> list[ReplicaUsage]:
    return [ReplicaUsage(cpu_percent=v) for v in values]


def at(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


def test_desired_is_ceil_of_current_times_usage_over_target() -> None:
    d = decide(POLICY, 2, cpu(100, 100), State(), T0, window_s=30)
    assert d.desired == 4  # ceil(2 × 100 / 50)
    assert d.message == "CPU 100% of a 50% target over 30 s: 2 → 4"
    d = decide(POLICY, 2, cpu(180, 180), State(), T0, window_s=30)
    assert (d.recommendation, d.desired) == (8, 6)  # ceil(7.2), then the rate limit
    assert d.message == ("CPU 180% of a 50% target over 30 s: 2 → 6 "
                         "(at most 6 within 15 s (double, or 4 more))")


def test_the_scale_up_rate_is_double_or_four_more_per_period() -> None:
    d = decide(POLICY, 1, cpu(400), State(), T0, window_s=30)
    assert d.recommendation == 8
    assert d.desired == 5  # max(2 × 1, 1 + 4)
    again = decide(POLICY, 5, cpu(*[80] * 5), d.state, at(5), window_s=30)
    assert again.desired == 5  # the period that began at 1 is not over
    later = decide(POLICY, 5, cpu(*[80] * 5), again.state, at(20), window_s=30)
    assert later.desired == 8


def test_within_the_tolerance_nothing_changes() -> None:
    for usage in (45.1, 50, 54.9):
        d = decide(POLICY, 4, cpu(usage, usage, usage, usage), State(), T0, window_s=30)
        assert (d.desired, d.scales) == (4, False)
        assert "within the tolerance" in d.message


def test_scale_down_waits_for_the_down_window() -> None:
    state = State()
    d = decide(POLICY, 4, cpu(100, 100, 100, 100), state, T0, window_s=30)
    assert d.desired == 8
    state = d.state
    d = decide(POLICY, 8, cpu(*[5] * 8), state, at(10), window_s=30)
    assert d.desired == 8 and d.recommendation == 1
    assert "the highest recommendation of the last 300 s is 8" in d.message
    d = decide(POLICY, 8, cpu(*[5] * 8), d.state, at(301), window_s=30)
    assert d.desired == 1
    assert d.message == "CPU 5% of a 50% target over 30 s: 8 → 1"


def test_never_outside_min_and_max() -> None:
    policy = Policy(2, 3, 50, scale_down_window_s=0)
    assert decide(policy, 3, cpu(500, 500, 500), State(), T0, window_s=30).desired == 3
    assert decide(policy, 2, cpu(0, 0), State(), T0, window_s=30).desired == 2
    assert decide(policy, 7, cpu(50), State(), T0, window_s=30).desired == 3


def test_replicas_without_samples_do_not_make_it_overshoot() -> None:
    # 4 replicas, 2 sampled at 60 % (just over): the unknown two count as idle, so the
    # ratio falls below 1 and nothing changes.
    d = decide(POLICY, 4, cpu(60, 60), State(), T0, window_s=30)
    assert d.desired == 4
    # ... and when scaling down, as on target.
    d = decide(Policy(1, 10, 50, scale_down_window_s=0), 4, cpu(10, 10), State(), T0,
               window_s=30)
    assert d.desired == 3  # ceil((10 + 10 + 50 + 50) / 50) = 3


def test_no_samples_no_change() -> None:
    d = decide(POLICY, 3, [], State(), T0, window_s=30)
    assert d.desired == 3 and "no usage samples" in d.message


def test_memory_counts_when_it_has_a_target() -> None:
    policy = Policy(1, 10, 50, target_memory_percent=40)
    d = decide(policy, 2, [ReplicaUsage(10, 80), ReplicaUsage(10, 80)], State(), T0,
               window_s=30)
    assert d.desired == 4
    assert d.message.startswith("memory 80% of a 40% target")


def test_a_scale_up_that_cannot_be_placed_says_so() -> None:
    d = decide(POLICY, 2, cpu(100, 100), State(), T0, window_s=30,
               placeable=(3, "0/1 hosts match: 1 have no memory left"))
    assert d.desired == 3
    assert "only 3 can be placed: 0/1 hosts match" in d.message


def test_state_round_trips_and_old_recommendations_are_dropped() -> None:
    state = State((Recommendation(T0, 3),))
    assert state_from_dict(state_to_dict(state)) == state
    assert state_from_dict({"recommendations": [["nonsense", 1]]}) == State()
    d = decide(POLICY, 3, cpu(50, 50, 50), state, at(1000), window_s=30)
    assert [r.at for r in d.state.recommendations] == [at(1000)]


def test_means_are_per_replica() -> None:
    # A sample every 10 s over a 20 s window: their plain mean.
    got = means([("a", at(-10), 10, None), ("b", at(-10), 30, 5), ("a", at(0), 20, None),
                 ("b", at(0), None, 7)], at(-20), at(0), lookback_s=333)
    assert got == [ReplicaUsage(15, None), ReplicaUsage(30, 6)]


def test_a_sparse_sample_counts_for_as_long_as_it_held() -> None:
    start, end = at(-30), at(0)
    # "a" kept one sample 100 s ago (its later readings were within the dead-band): it
    # stands for the whole window. "b" moved 5 s ago: 0 % for 5 s, then 100 % for 25 s
    # (a CPU figure is the average since the kept one before it).
    got = means([("a", at(-100), 80, 4), ("b", at(-25), 0, None), ("b", at(-5), 100, None)],
                start, end, lookback_s=333)
    assert got[0] == ReplicaUsage(80, 4)
    assert got[1].cpu_percent == pytest.approx(100 * 25 / 30)


def test_a_sample_older_than_the_lookback_stands_for_nothing() -> None:
    assert means([("a", at(-400), 80, None)], at(-30), at(0), lookback_s=333) == []
    # Held until 333 s after it: 3 s of the window.
    [u] = means([("a", at(-360), 80, None)], at(-30), at(0), lookback_s=333)
    assert u.cpu_percent == pytest.approx(80)


sample_times = st.lists(st.integers(-400, 0), min_size=1, max_size=12, unique=True)


@given(sample_times, st.floats(0, 800))
def test_a_steady_usage_averages_to_itself_however_sparse(times: list[int], value: float) -> None:
    got = means([("a", at(t), value, value) for t in sorted(times)], at(-30), at(0), 333)
    for u in got:
        assert u.cpu_percent == pytest.approx(value)
        assert u.memory_percent == pytest.approx(value)


@given(st.lists(st.tuples(st.integers(-400, 0), st.floats(0, 800)), min_size=1, max_size=12,
                unique_by=lambda p: p[0]))
def test_a_mean_lies_within_what_was_kept(points: list[tuple[int, float]]) -> None:
    points.sort()
    got = means([("a", at(t), v, None) for t, v in points], at(-30), at(0), 333)
    values = [v for _, v in points]
    for u in got:
        assert min(values) - 1e-6 <= u.cpu_percent <= max(values) + 1e-6


# ---- properties -------------------------------------------------------------------------

policies = st.builds(
    lambda lo, span, target, down: Policy(lo, lo + span, target, scale_down_window_s=down),
    st.integers(1, 5), st.integers(0, 20), st.floats(5, 400), st.sampled_from([0.0, 30.0, 300.0]))
usages = st.lists(st.floats(0, 800), min_size=0, max_size=30)


@given(policies, st.integers(0, 40), usages)
def test_bounded(policy: Policy, current: int, values: list[float]) -> None:
    d = decide(policy, current, cpu(*values), State(), T0, window_s=30)
    assert policy.min_replicas <= d.desired <= policy.max_replicas


@given(policies, st.integers(1, 30), st.lists(st.tuples(st.floats(0, 800), st.floats(0, 400)),
                                              min_size=1, max_size=30))
def test_monotone_in_usage(policy: Policy, current: int,
                           pairs: list[tuple[float, float]]) -> None:
    low = cpu(*[a for a, _ in pairs])
    high = cpu(*[a + b for a, b in pairs])
    state = State((Recommendation(T0 - timedelta(seconds=5), current),))
    assert (decide(policy, current, high, state, T0, window_s=30).desired
            >= decide(policy, current, low, state, T0, window_s=30).desired)


@settings(max_examples=200)
@given(st.floats(0.2, 15), st.integers(1, 10), st.floats(0, 0.045),
       st.lists(st.floats(-1, 1), min_size=80, max_size=80))
def test_no_flapping_under_noisy_steady_load(load_cores: float, start: int, noise: float,
                                             jitter: list[float]) -> None:
    """A steady total load, shared by however many replicas run, read with noise smaller
    than the tolerance: once the count has moved towards the load it never turns back
    and forth (at most one change of direction, however long it runs)."""
    policy = Policy(1, 20, 50, scale_down_window_s=30)
    current, state, moves = min(start, 20), State(), []
    for tick, j in enumerate(jitter):
        per_replica = load_cores * 100 / current * (1 + noise * j)
        d = decide(policy, current, cpu(*[per_replica] * current), state, at(tick * 5),
                   window_s=30)
        if d.desired != current:
            moves.append(1 if d.desired > current else -1)
        current, state = d.desired, d.state
    reversals = sum(1 for a, b in zip(moves, moves[1:], strict=False) if a != b)
    assert reversals <= 1, moves


# ---- what can be placed -------------------------------------------------------------------


def test_placeable_counts_what_the_planner_could_place() -> None:
    from app.reconcile.scheduler import placeable
    from app.reconcile.types import HostLoad, HostView, Placement

    hosts = [HostView("a", cpus=2.0), HostView("b", cpus=2.0), HostView("c", schedulable=False)]
    assert placeable(hosts, Placement(max_per_host=2), {}, 10) == (
        4, "0/3 hosts match: 2 already run max_per_host=2, 1 is not schedulable")
    # Capacity is shared with what else runs there.
    others = {"a": HostLoad(containers=1, cpus=1.5)}
    count, why = placeable(hosts, Placement(cpus=0.5), others, 10)
    assert count == 5 and "have no CPU left" in why
    assert placeable(hosts, Placement(), {}, 7) == (7, "")
