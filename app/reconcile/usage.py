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
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime


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
