"""What a replica consumes, from its engine's stats: the arithmetic, pure.

The engine reports cumulative counters (nanoseconds of CPU the container used, of CPU
the whole host used) and a memory reading. CPU % needs two readings: Docker's own
formula is ``(container delta / host delta) × online CPUs × 100``, a percentage of one
core (two busy cores read 200 %). A one-shot reading carries no earlier one
(``precpu``), so the previous sample Moorage kept for that container stands in; the
first sample of a container has no CPU figure yet.

Memory is counted as ``docker stats`` counts it: usage less the page cache the kernel
may drop at will (``inactive_file``), as a share of the container's limit (the host's
memory when it has none).

What is kept, and when a replica is read (dead-band compression, as a process historian
or Prometheus' 5-minute lookback does it). A replica of a deployment that autoscales is
read every tick and every reading is kept: the autoscaler's window wants them all. Any
other replica is read every ``every`` ticks (its turn set by its container id, so the
reads spread over the ticks), and a reading is kept only when it differs materially from
the replica's latest kept one (``CPU_BAND_*``, ``MEMORY_BAND_*``), or when the latest is
``keepalive_s`` old. Readers hold the latest kept sample as current until the next (for
``keepalive_s`` and three ticks more; see ``lookback_s``). CPU % is always taken against
the latest *kept* counters: the counters are cumulative, so a kept figure is the exact
average since the one before it, and nothing read in between is lost, only its
resolution.
"""

from __future__ import annotations

import zlib
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

# A reading differs materially from the kept one when CPU moved by more than 1 point of
# a core or 10 % of the kept figure, or memory by more than 1 MiB or 5 %.
CPU_BAND_POINTS = 1.0
CPU_BAND_SHARE = 0.10
MEMORY_BAND_BYTES = 1 << 20
MEMORY_BAND_SHARE = 0.05


@dataclass(frozen=True)
class CpuCounters:
    """Cumulative counters at one reading."""

    total_ns: int  # CPU time the container used, all cores
    system_ns: int | None  # CPU time the host used, all cores (None: not reported)
    online_cpus: int
    read_at: datetime | None = None  # the engine's clock at the reading


@dataclass(frozen=True)
class StatsReading:
    """One reading of a container's stats, as the engine gave it."""

    cpu: CpuCounters
    precpu: CpuCounters | None  # the engine's earlier reading; None in a one-shot
    memory_usage_bytes: int | None
    memory_inactive_file_bytes: int = 0
    memory_limit_bytes: int | None = None


@dataclass(frozen=True)
class Usage:
    cpu_percent: float | None  # of one core; None until two readings exist
    memory_bytes: int | None
    memory_percent: float | None  # of its limit


def cpu_percent(now: CpuCounters, before: CpuCounters | None) -> float | None:
    """CPU % of one core between two readings of the same container; None when there is
    no usable earlier reading (none, a restarted container whose counter went back, or
    no time between them)."""
    if before is None:
        return None
    used = now.total_ns - before.total_ns
    if used < 0:  # the counter restarted: not the same run of the container
        return None
    if now.system_ns is not None and before.system_ns is not None and before.system_ns > 0:
        host = now.system_ns - before.system_ns
        if host <= 0:
            return None
        cpus = now.online_cpus or before.online_cpus or 1
        return used / host * cpus * 100.0
    # No host counter (some engines and platforms): against the time between readings.
    if now.read_at is None or before.read_at is None:
        return None
    elapsed_ns = (now.read_at - before.read_at).total_seconds() * 1e9
    if elapsed_ns <= 0:
        return None
    return used / elapsed_ns * 100.0


def usage(reading: StatsReading, previous: CpuCounters | None) -> Usage:
    """A reading as usage: CPU against the engine's earlier reading when it has one,
    else against ``previous`` (the last one Moorage kept)."""
    pre = reading.precpu if reading.precpu is not None and reading.precpu.total_ns else None
    cpu = cpu_percent(reading.cpu, pre or previous)
    memory = memory_percent = None
    if reading.memory_usage_bytes is not None:
        memory = max(0, reading.memory_usage_bytes - reading.memory_inactive_file_bytes)
        if reading.memory_limit_bytes:
            memory_percent = memory / reading.memory_limit_bytes * 100.0
    return Usage(cpu, memory, memory_percent)


# ---- what to read and what to keep ------------------------------------------------------


@dataclass(frozen=True)
class Cadence:
    interval_s: float  # a tick
    every: int  # ticks between reads of a replica that does not autoscale
    keepalive_s: float  # the longest a replica goes without a kept sample while read

    def lookback_s(self, timeout_s: float) -> float:
        """How long a kept sample stays current for readers: until the keep-alive, and
        three ticks more (a host that misses three ticks has its replicas show none)."""
        return self.keepalive_s + 3 * self.interval_s + timeout_s


@dataclass(frozen=True)
class Kept:
    """A replica's latest kept sample, as the sampler compares with it."""

    at: datetime
    counters: CpuCounters
    cpu_percent: float | None
    memory_bytes: int | None

    @property
    def ended(self) -> bool:
        """An end mark: nothing known (see ``ends``)."""
        return self.cpu_percent is None and self.memory_bytes is None


def ends(kept: Kept | None, readable: bool) -> bool:
    """Whether a replica's kept sample is ended now, by a sample with nothing in it: it
    is no longer read (not running, or its host not ready) and its latest kept sample
    would otherwise stand for the whole lookback (Prometheus' staleness marker)."""
    return not readable and kept is not None and not kept.ended


def _turn(container_id: str, every: int) -> int:
    return zlib.crc32(container_id.encode()) % every


def read_due(container_id: str, kept: Kept | None, autoscaled: bool, now: datetime,
             cadence: Cadence) -> bool:
    """Whether this tick reads the replica: every tick when it autoscales, has no kept
    sample yet or no CPU figure yet, or its keep-alive falls before the next tick; else
    on its turn, one tick in ``every``."""
    if autoscaled or kept is None or kept.cpu_percent is None or cadence.every <= 1:
        return True
    if now - kept.at >= timedelta(seconds=cadence.keepalive_s - cadence.interval_s):
        return True
    tick = int(now.timestamp() // cadence.interval_s)
    return tick % cadence.every == _turn(container_id, cadence.every)


def _moved(new: float | None, old: float | None, points: float, share: float) -> bool:
    if (new is None) != (old is None):
        return True
    if new is None or old is None:
        return False
    return abs(new - old) > max(points, share * abs(old))


def worth_keeping(figures: Usage, kept: Kept | None, autoscaled: bool, now: datetime,
                  cadence: Cadence) -> bool:
    """Whether a reading is written: always for an autoscaled replica or a first one;
    else when it moved out of the dead-band around the kept one, or the kept one is due
    its keep-alive (written before ``keepalive_s``, never after: the reader's lookback
    holds)."""
    if autoscaled or kept is None:
        return True
    if now - kept.at >= timedelta(seconds=cadence.keepalive_s - cadence.interval_s):
        return True
    return (_moved(figures.cpu_percent, kept.cpu_percent, CPU_BAND_POINTS, CPU_BAND_SHARE)
            or _moved(None if figures.memory_bytes is None else float(figures.memory_bytes),
                      None if kept.memory_bytes is None else float(kept.memory_bytes),
                      MEMORY_BAND_BYTES, MEMORY_BAND_SHARE))


# ---- reading back sparse samples --------------------------------------------------------


@dataclass(frozen=True)
class Held:
    """A kept sample as the readers see it."""

    container_id: str
    at: datetime
    cpu_percent: float | None
    memory_bytes: int | None


@dataclass(frozen=True)
class Point:
    at: datetime
    cpu_percent: float
    memory_bytes: int
    replicas: int


def evaluation_times(kept_at: Iterable[datetime], step_s: float | None = None,
                     until: datetime | None = None) -> list[datetime]:
    """When a series is evaluated: at every moment a sample was kept, and, with a
    ``step_s``, also every ``step_s`` across a gap longer than one and a half steps between
    those moments and up to ``until`` (a range query's steps, as Prometheus evaluates one).
    A replica whose readings stay within the dead-band is written rarely; its chart still
    gets a point per tick, each the sample standing then."""
    times = sorted(set(kept_at))
    if step_s is None or not times:
        return times
    step = timedelta(seconds=step_s)
    ends = [*times[1:], until] if until is not None and until > times[-1] else times[1:]
    filled = [times[0]]
    for end in ends:
        at = filled[-1] + step
        while end - at >= step / 2:
            filled.append(at)
            at += step
        filled.append(end)
    return filled


def held_series(samples: Iterable[Held], current: set[str], lookback_s: float,
                gone_hold_s: float, step_s: float | None = None,
                until: datetime | None = None) -> list[Point]:
    """One point at each moment a sample was kept, oldest first: the sum, over the
    replicas, of the sample that stands for each at that moment. That is its latest
    kept sample (a reading within the dead-band was not written: the one before stands
    for it), for ``lookback_s`` if the container is still one of ``current`` and only
    ``gone_hold_s`` if not (it was removed after it, when is not known), and none after
    an end mark (a sample with nothing in it: ``ends``); before a
    replica's first sample here, that first one, if it has a CPU figure (then it had a
    kept sample before, at most ``lookback_s`` earlier, since purged, and its CPU figure
    is the average since that one). With every reading kept, this is one point per tick
    of the samples taken at it; ``step_s`` and ``until`` add points between
    (`evaluation_times`)."""
    ordered = sorted(samples, key=lambda s: s.at)
    first: dict[str, Held] = {}
    for s in ordered:
        first.setdefault(s.container_id, s)
    times = evaluation_times((s.at for s in ordered), step_s, until)
    latest: dict[str, Held] = {}
    points: list[Point] = []
    i = 0
    for at in times:
        while i < len(ordered) and ordered[i].at <= at:
            latest[ordered[i].container_id] = ordered[i]
            i += 1
        standing: list[Held] = []
        for container, s in first.items():
            hold = lookback_s if container in current else gone_hold_s
            now_held = latest.get(container)
            if now_held is not None:
                ended = now_held.cpu_percent is None and now_held.memory_bytes is None
                if not ended and (at - now_held.at).total_seconds() <= hold:
                    standing.append(now_held)
            elif s.cpu_percent is not None and (s.at - at).total_seconds() <= lookback_s:
                standing.append(s)
        points.append(Point(at, sum(s.cpu_percent or 0.0 for s in standing),
                            sum(s.memory_bytes or 0 for s in standing), len(standing)))
    return points
