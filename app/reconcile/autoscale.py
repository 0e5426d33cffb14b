"""The autoscaler's rule: how many replicas a deployment should run for its usage. Pure.

Kubernetes' Horizontal Pod Autoscaler, step by step (its documented algorithm and
defaults), so its behaviour is familiar and its corner cases already thought through:

1. Per metric: ``ratio = average usage / target``. Within ``tolerance`` (0.1) of 1, the
   recommendation is the current count. Otherwise ``ceil(ratio × replicas)``. Replicas
   without a sample yet (just started) count as using nothing when the others say "up"
   and as exactly on target when they say "down": a scale never overshoots on replicas
   whose usage is unknown; if that makes the ratio cross 1 or land within the
   tolerance, the count stays.
2. The highest recommendation of the metrics (CPU, and memory when it has a target).
3. Stabilization: every recommendation is kept with its time. The count goes down only
   to the highest recommendation of the last ``scale_down_window_s`` (so a dip in load
   does not remove replicas that the next spike needs: no flapping), and up only to
   the lowest of the last ``scale_up_window_s`` (0 by default: at once).
4. Scale-up rate: within any ``SCALE_UP_PERIOD_S`` the count at most doubles or grows by
   4, whichever is more (Kubernetes' default policies). Down: no limit (its default,
   100 %).
5. Never outside ``[min_replicas, max_replicas]``; never up past what can be placed.

CPU usage is a percentage of one core, as the replicas' usage shows it; memory a
percentage of the replica's limit.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta

TOLERANCE = 0.1
SCALE_UP_PERIOD_S = 15.0
SCALE_UP_PODS = 4  # per period, or double, whichever is more


@dataclass(frozen=True)
class Policy:
    min_replicas: int
    max_replicas: int
    target_cpu_percent: float
    target_memory_percent: float | None = None
    scale_up_window_s: float = 0.0
    scale_down_window_s: float = 300.0

    @classmethod
    def from_dict(cls, raw: dict) -> Policy:
        return cls(int(raw["min_replicas"]), int(raw["max_replicas"]),
                   float(raw["target_cpu_percent"]),
                   None if raw.get("target_memory_percent") is None
                   else float(raw["target_memory_percent"]),
                   float(raw.get("scale_up_window_s") or 0.0),
                   float(300.0 if raw.get("scale_down_window_s") is None
                         else raw["scale_down_window_s"]))

    def clamp(self, replicas: int) -> int:
        return max(self.min_replicas, min(self.max_replicas, replicas))


@dataclass(frozen=True)
class ReplicaUsage:
    """One replica's average over the metric window; None: no sample of that metric."""

    cpu_percent: float | None = None
    memory_percent: float | None = None


@dataclass(frozen=True)
class Recommendation:
    at: datetime
    replicas: int


@dataclass(frozen=True)
class ScaleUp:
    at: datetime
    added: int


@dataclass(frozen=True)
class State:
    """What the rule remembers between looks: recent recommendations (stabilization) and
    recent scale-ups (the rate limit). Bounded: older entries than any window are cut."""

    recommendations: tuple[Recommendation, ...] = ()
    scale_ups: tuple[ScaleUp, ...] = ()


@dataclass(frozen=True)
class Decision:
    current: int
    desired: int
    recommendation: int  # this look's own, before stabilization and limits
    message: str
    state: State = field(default_factory=State)

    @property
    def scales(self) -> bool:
        return self.desired != self.current


@dataclass(frozen=True)
class _Proposal:
    metric: str  # "CPU" | "memory"
    usage: float  # the average of the replicas with a sample
    target: float
    replicas: int
    in_band: bool


def means(samples: Iterable[tuple[str, datetime, float | None, float | None]],
          start: datetime, end: datetime, lookback_s: float) -> list[ReplicaUsage]:
    """Per-replica means over ``[start, end]`` of (container id, sampled at, cpu %,
    memory %) samples, oldest first, weighted by the time each stands for: a sample
    covers the time since the replica's one before it (a CPU figure is the average since
    the kept one before; a first one known, since ``start``), and the latest also the
    time after it, until ``end`` or for ``lookback_s`` (a kept sample is current until
    the next: app.reconcile.usage). With a sample every tick, that is their plain mean;
    where samples are sparse, each counts for as long as it held."""
    hold = timedelta(seconds=lookback_s)
    by_container: dict[str, list[tuple[datetime, float | None, float | None]]] = {}
    for container, at, c, m in samples:
        by_container.setdefault(container, []).append((at, c, m))

    def overlap(a: datetime, b: datetime) -> float:
        return max(0.0, (min(b, end) - max(a, start)).total_seconds())

    out: list[ReplicaUsage] = []
    for rows in by_container.values():
        rows.sort(key=lambda r: r[0])
        sums = [0.0, 0.0]
        weights = [0.0, 0.0]
        for i, (at, c, m) in enumerate(rows):
            since = rows[i - 1][0] if i else start
            until = min(end, at + hold) if i == len(rows) - 1 else at
            weight = overlap(since, until)
            for k, value in enumerate((c, m)):
                if value is not None and weight > 0:
                    sums[k] += value * weight
                    weights[k] += weight
        if any(at >= start for at, _, _ in rows) or any(weights):
            out.append(ReplicaUsage(*(sums[k] / weights[k] if weights[k] else None
                                      for k in range(2))))
    return out


def _propose(metric: str, values: Sequence[float], current: int, target: float,
             tolerance: float) -> _Proposal | None:
    if not values:
        return None
    base = max(current, len(values))
    missing = base - len(values)
    total = sum(values)
    average = total / len(values)
    ratio = average / target
    if abs(ratio - 1.0) <= tolerance:
        return _Proposal(metric, average, target, current, True)
    if missing:
        # Unknown replicas: none when scaling up, on target when scaling down.
        adjusted = (total / (base * target) if ratio > 1
                    else (total + missing * target) / (base * target))
        if abs(adjusted - 1.0) <= tolerance or (adjusted > 1) != (ratio > 1):
            return _Proposal(metric, average, target, current, True)
        ratio = adjusted
    proposed = math.ceil(ratio * base - 1e-9)
    # More replicas may be running than the count (a rollout's surge): usage under the
    # target never proposes more than the count, nor usage over it fewer (monotone).
    proposed = min(proposed, current) if ratio < 1 else max(proposed, current)
    return _Proposal(metric, average, target, proposed, False)


def decide(
    policy: Policy,
    current: int,
    usage: Sequence[ReplicaUsage],
    state: State,
    now: datetime,
    *,
    window_s: float,
    tolerance: float = TOLERANCE,
    placeable: tuple[int, str] | None = None,
) -> Decision:
    """The count to run now. ``usage``: each running replica's averages over the last
    ``window_s``; ``placeable``: (how many replicas could be placed at most, why no
    more), or None when placement sets no bound."""
    proposals = [p for p in (
        _propose("CPU", [u.cpu_percent for u in usage if u.cpu_percent is not None],
                 current, policy.target_cpu_percent, tolerance),
        _propose("memory", [u.memory_percent for u in usage if u.memory_percent is not None],
                 current, policy.target_memory_percent, tolerance)
        if policy.target_memory_percent else None,
    ) if p is not None]
    if not proposals:
        desired = policy.clamp(current)
        why = "no usage samples yet"
        return Decision(current, desired, current,
                        f"{why}: {current} → {desired}" if desired != current
                        else f"{why}: stays at {current}", state)
    driver = max(proposals, key=lambda p: (p.replicas, not p.in_band))
    recommendation = policy.clamp(driver.replicas)

    horizon = max(policy.scale_down_window_s, policy.scale_up_window_s, SCALE_UP_PERIOD_S)
    kept = tuple(r for r in state.recommendations if now - r.at < timedelta(seconds=horizon))
    recommendations = (*kept, Recommendation(now, recommendation))
    up_cut = now - timedelta(seconds=policy.scale_up_window_s)
    down_cut = now - timedelta(seconds=policy.scale_down_window_s)
    up = min([r.replicas for r in recommendations if r.at >= up_cut] or [recommendation])
    down = max([r.replicas for r in recommendations if r.at >= down_cut] or [recommendation])
    notes: list[str] = []
    if current < up:
        desired = up
    elif current > down:
        desired = down
    else:
        desired = current
    if recommendation < current and desired > recommendation:
        notes.append(f"the highest recommendation of the last "
                     f"{policy.scale_down_window_s:g} s is {down}")
    if recommendation > current and desired < recommendation:
        notes.append(f"the lowest recommendation of the last "
                     f"{policy.scale_up_window_s:g} s is {up}")

    # The scale-up rate: from the count at the start of the period.
    period_cut = now - timedelta(seconds=SCALE_UP_PERIOD_S)
    scale_ups = tuple(s for s in state.scale_ups if s.at > period_cut)
    start = max(0, current - sum(s.added for s in scale_ups))
    limit = max(2 * start, start + SCALE_UP_PODS)
    if desired > max(limit, current):
        desired = max(limit, current)
        notes.append(f"at most {limit} within {SCALE_UP_PERIOD_S:g} s "
                     f"(double, or {SCALE_UP_PODS} more)")
    bounded = policy.clamp(desired)
    if bounded != desired:
        notes.append(f"{'max' if bounded < desired else 'min'}_replicas is {bounded}")
        desired = bounded
    if placeable is not None and desired > current and desired > placeable[0]:
        desired = max(current, placeable[0])
        notes.append(f"only {placeable[0]} can be placed: {placeable[1]}")
    if desired > current:
        scale_ups = (*scale_ups, ScaleUp(now, desired - current))

    target = f"{driver.target:g}%"
    head = f"{driver.metric} {driver.usage:.0f}% of a {target} target over {window_s:g} s"
    if driver.in_band and desired == current:
        message = f"{head}: within the tolerance, stays at {current}"
    elif desired == current:
        message = f"{head}: recommends {recommendation}, stays at {current}"
    else:
        message = f"{head}: {current} → {desired}"
    if notes:
        message += f" ({'; '.join(notes)})"
    return Decision(current, desired, recommendation, message,
                    replace(state, recommendations=recommendations, scale_ups=scale_ups))


# ---- stored form ------------------------------------------------------------------------


def state_to_dict(state: State) -> dict:
    return {"recommendations": [[r.at.isoformat(), r.replicas] for r in state.recommendations],
            "scale_ups": [[s.at.isoformat(), s.added] for s in state.scale_ups]}


def state_from_dict(raw: dict | None) -> State:
    """Lenient: what cannot be read is forgotten (the rule only loses some memory)."""
    raw = raw or {}
    try:
        return State(
            tuple(Recommendation(datetime.fromisoformat(at), int(n))
                  for at, n in raw.get("recommendations") or ()),
            tuple(ScaleUp(datetime.fromisoformat(at), int(n))
                  for at, n in raw.get("scale_ups") or ()))
    except (TypeError, ValueError):
        return State()
