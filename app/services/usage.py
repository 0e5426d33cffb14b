"""Usage sampling: what every running replica consumes, read from its engine's stats.

One tick reads each running replica's one-shot stats, all hosts at once through one
bounded pool, and writes the samples in one short transaction (never held across a
Docker call). An engine answers a stats call at its collector's next tick (about a
second), so a host's replicas are asked many at a time, by up to half the pool's
threads, each taking the host's next replica when it has its answer. A host that does
not answer is given up for the tick at its first timeout, and holds at most half the
pool meanwhile: it never delays the others. A tick ends by ``usage_interval_s`` (or
``usage_timeout_s``, if longer) whatever is left; what was read by then is written.

Not every replica is read every tick, nor every reading written: a replica of a deployment
that autoscales is, any other is read one tick in ``usage_unscaled_every`` and its reading
kept only when it moved out of a dead-band around the latest kept one, or that one is
``usage_keepalive_s`` old (app.reconcile.usage decides). An idle fleet then costs a read
per replica a minute and a row per replica per keep-alive, not a read and two rows (the
insert and, at the retention, its purge) per replica per tick. Readers hold the latest
kept sample as current for ``lookback_s``.
"""

from __future__ import annotations

import logging
import threading
import time
import uuid
from collections import deque
from concurrent.futures import ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import lru_cache
from itertools import chain, zip_longest

from sqlalchemy.orm import Session

from app.config import Settings, get_settings
from app.db import session_scope, utcnow
from app.dockerhost import EngineAddress, EngineError, EngineUnreachable, client_for
from app.models import UsageSample
from app.reconcile import usage as rules
from app.repositories import autoscaler as autoscaler_repo
from app.repositories import deployments as deployment_repo
from app.repositories import hosts as host_repo
from app.repositories import usage as usage_repo
from app.services.fleet import address

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class UsageTick:
    sampled: int  # samples written
    missed: int  # replicas due a read not read: their host did not answer in time, or gone
    hosts: int
    seconds: float
    read: int = 0  # replicas read (written or within the dead-band)
    not_due: int = 0  # replicas whose turn this tick was not
    ended: int = 0  # replicas no longer read whose kept sample was ended


def cadence(settings: Settings | None = None) -> rules.Cadence:
    settings = settings or get_settings()
    # The keep-alive stays well inside the retention, so a replica's latest kept sample
    # is never purged while it is read.
    return rules.Cadence(settings.usage_interval_s, settings.usage_unscaled_every,
                         min(settings.usage_keepalive_s, settings.usage_retention_s / 2))


def lookback_s(settings: Settings | None = None) -> float:
    """How long a kept sample stays current for readers."""
    settings = settings or get_settings()
    return cadence(settings).lookback_s(settings.usage_timeout_s)


@lru_cache(maxsize=1)
def _pool() -> ThreadPoolExecutor:
    # Made on first use, so each forked worker child has its own.
    return ThreadPoolExecutor(get_settings().usage_pool_size, thread_name_prefix="usage")


def _kept(sample: UsageSample) -> rules.Kept:
    return rules.Kept(sample.sampled_at,
                      rules.CpuCounters(sample.cpu_total_ns, sample.system_cpu_ns,
                                        sample.online_cpus, sample.read_at),
                      sample.cpu_percent, sample.memory_bytes)


@dataclass
class _HostWork:
    """One host's replicas still to read, shared by the threads reading them."""

    address: EngineAddress
    todo: deque[tuple[uuid.UUID, str]]
    given_up: bool = False
    read: list[tuple[uuid.UUID, str, rules.StatsReading]] = field(default_factory=list)


def _drain(work: _HostWork, timeout: float, deadline: float, lock: threading.Lock) -> None:
    client = client_for(work.address, timeout)
    while not work.given_up and time.monotonic() < deadline:
        try:
            deployment_id, container_id = work.todo.popleft()
        except IndexError:
            return
        try:
            reading = client.stats(container_id)
        except EngineUnreachable as exc:  # the others would wait as long: not this tick
            work.given_up = True
            log.info("usage: %s did not answer: %s", work.address.name, exc)
            return
        except EngineError as exc:  # gone since the last pass, or not running now
            log.debug("usage: no stats for %s: %s", container_id[:12], exc)
            continue
        with lock:
            work.read.append((deployment_id, container_id, reading))


def sample_all(settings: Settings | None = None) -> UsageTick:
    settings = settings or get_settings()
    started = time.monotonic()
    now = utcnow()
    since = now - timedelta(seconds=settings.usage_retention_s)
    pace = cadence(settings)
    with session_scope() as session:
        replicas = usage_repo.replicas_to_sample(session)
        addresses = {h.id: address(h) for h in host_repo.all_hosts(session)}
        autoscaled = set(autoscaler_repo.autoscaled_ids(session))
        kept = {cid: _kept(s) for cid, s in
                usage_repo.latest(session, [c for _, _, c, _ in replicas], since).items()}
    running = [(d, h, c) for d, h, c, readable in replicas if readable]
    # Replicas no longer read whose kept sample would stand for the lookback: an end mark
    # (nothing known), so they show none now, as they did when every tick wrote.
    ended = [(d, c, kept[c]) for d, _, c, readable in replicas
             if rules.ends(kept.get(c), readable)]
    works: dict[uuid.UUID, _HostWork] = {}
    due = 0
    for deployment_id, host_id, container_id in running:
        if host_id not in addresses:
            continue
        if not rules.read_due(container_id, kept.get(container_id),
                              deployment_id in autoscaled, now, pace):
            continue
        due += 1
        works.setdefault(host_id, _HostWork(addresses[host_id], deque())).todo.append(
            (deployment_id, container_id))
    timeout = settings.usage_timeout_s
    deadline = started + max(settings.usage_interval_s, timeout)
    per_host = max(1, settings.usage_pool_size // 2)
    lock = threading.Lock()
    # Every host's first reader is queued before any host's second.
    readers = [w for w in chain.from_iterable(zip_longest(*(
        [w] * min(per_host, len(w.todo)) for w in works.values()))) if w is not None]
    futures = [_pool().submit(_drain, w, timeout, deadline, lock) for w in readers]
    wait(futures, timeout=max(0.0, deadline - time.monotonic()))
    for w in works.values():
        w.given_up = True  # readers still at work stop after their current call
    for f in futures:
        f.cancel()
    with lock:
        read = [item for w in works.values() for item in w.read]

    samples: list[UsageSample] = []
    for deployment_id, container_id, reading in read:
        before = kept.get(container_id)
        figures = rules.usage(reading, before.counters if before else None)
        if not rules.worth_keeping(figures, before, deployment_id in autoscaled, now, pace):
            continue
        samples.append(UsageSample(
            deployment_id=deployment_id, container_id=container_id, sampled_at=now,
            cpu_percent=figures.cpu_percent, memory_bytes=figures.memory_bytes,
            memory_percent=figures.memory_percent, cpu_total_ns=reading.cpu.total_ns,
            system_cpu_ns=reading.cpu.system_ns, online_cpus=reading.cpu.online_cpus,
            read_at=reading.cpu.read_at))
    samples += [UsageSample(
        deployment_id=deployment_id, container_id=container_id, sampled_at=now,
        cpu_total_ns=k.counters.total_ns, system_cpu_ns=k.counters.system_ns,
        online_cpus=k.counters.online_cpus, read_at=k.counters.read_at)
        for deployment_id, container_id, k in ended]
    with session_scope() as session:
        if samples:
            # Held (FOR KEY SHARE) so a deployment deleted meanwhile is skipped, not a
            # foreign-key failure that loses every host's samples.
            alive = set(deployment_repo.lock_existing(session,
                                                      {s.deployment_id for s in samples}))
            usage_repo.add(session, [s for s in samples if s.deployment_id in alive])
        usage_repo.purge_before(session, since)
    return UsageTick(sampled=len(samples) - len(ended), missed=due - len(read),
                     hosts=len(works), seconds=time.monotonic() - started, read=len(read),
                     not_due=len(running) - due, ended=len(ended))


# ---- reading back ---------------------------------------------------------------------


@dataclass(frozen=True)
class Totals:
    cpu_percent: float
    memory_bytes: int
    replicas: int
    sampled_at: datetime | None


def fresh_since(settings: Settings | None = None) -> datetime:
    """Samples newer than this are current: the latest kept sample of a replica stands
    until its next (a reading within the dead-band is not written), for the keep-alive
    and three ticks more; a replica not read for that long (its host is away, it stopped)
    shows none rather than an old figure."""
    return utcnow() - timedelta(seconds=lookback_s(settings))


def latest_by_container(session: Session, deployment_id: uuid.UUID) -> dict[str, UsageSample]:
    """Each current replica's latest kept sample, but for one ended (no longer read)."""
    return {s.container_id: s for s in
            usage_repo.latest_of_replicas(session, [deployment_id], fresh_since())
            if not (s.cpu_percent is None and s.memory_bytes is None)}


def totals(session: Session, deployment_ids: list[uuid.UUID]) -> dict[uuid.UUID, Totals]:
    """Each deployment's current replicas' newest samples, summed (one query)."""
    return {d: Totals(cpu, mem, n, at)
            for d, cpu, mem, n, at in usage_repo.summed_latest(session, deployment_ids, fresh_since())}


Point = rules.Point


def series(session: Session, deployment_id: uuid.UUID) -> list[Point]:
    """The deployment's usage over the retention window, oldest first: a point at each
    tick that kept a sample and every sampling interval between them and up to now,
    summed over the replicas, each with the sample that stands for it then
    (app.reconcile.usage.held_series)."""
    settings = get_settings()
    now = utcnow()
    since = now - timedelta(seconds=settings.usage_retention_s)
    samples = usage_repo.window(session, [deployment_id], since)[deployment_id]
    current = set(usage_repo.current_containers(session, deployment_id))
    return rules.held_series(
        (rules.Held(s.container_id, s.sampled_at, s.cpu_percent, s.memory_bytes)
         for s in samples),
        current, lookback_s(settings),
        # A removed replica's last sample: as long as a replica read every tick is held.
        3 * settings.usage_interval_s + settings.usage_timeout_s,
        step_s=settings.usage_interval_s, until=now)
