"""What the fleet looks like, as Prometheus metrics read from the database at scrape
time. The database is the truth and the API can read it, so these need no shared state
between the API, worker and beat processes."""

from __future__ import annotations

import logging
from collections.abc import Iterator

from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from app.db import session_scope, utcnow
from app.models import UsageSample
from app.reconcile.vocabulary import Phase
from app.repositories import endpoints as endpoint_repo
from app.repositories import stats
from app.repositories import usage as usage_repo
from app.services import liveness, usage

log = logging.getLogger(__name__)
PHASES = tuple(Phase)


class FleetCollector(Collector):
    """Counts only, by default; with ``detailed``, also a series per host and per
    deployment (their names are for callers allowed to read them)."""

    def __init__(self, detailed: bool = False) -> None:
        self.detailed = detailed

    def collect(self) -> Iterator[Metric]:
        try:
            with session_scope() as session:
                now = utcnow()
                hosts = stats.hosts_by_state(session)
                edges_out_of_sync = stats.edges_out_of_sync(session)
                beats = stats.heartbeats(session)
                deployments = stats.deployments(session)
                rollouts = stats.active_rollouts(session)
                due = stats.due_reconciles(session, now)
                oldest_due = stats.oldest_due_reconcile(session, now)
                processes = liveness.report(session, now)
                samples = (usage_repo.latest_per_replica(session, usage.fresh_since())
                           if self.detailed else [])
                endpoints = endpoint_repo.served(session)
        except Exception:  # a scrape must not fail because the database blinked
            log.warning("metrics: the database could not be read", exc_info=True)
            return

        g = GaugeMetricFamily("moorage_hosts", "Registered hosts by state",
                              labels=["state", "schedulable"])
        for (state, schedulable), n in sorted(hosts.items()):
            g.add_metric([state, str(schedulable).lower()], n)
        yield g
        yield GaugeMetricFamily(
            "moorage_edges_out_of_sync",
            "Edge hosts whose proxy could not be given the endpoints' config at the last try "
            "(it may send requests to replicas that left); alert when above 0",
            value=edges_out_of_sync)
        if self.detailed:
            g = GaugeMetricFamily("moorage_host_heartbeat_age_seconds",
                                  "Seconds since the host last answered a heartbeat",
                                  labels=["host"])
            for name, at in beats:
                if at is not None:
                    g.add_metric([name], (now - at).total_seconds())
            yield g

        by_phase = dict.fromkeys(PHASES, 0)
        for _, phase, *_ in deployments:
            by_phase[phase] = by_phase.get(phase, 0) + 1
        g = GaugeMetricFamily("moorage_deployments", "Deployments by phase", labels=["phase"])
        for phase, n in by_phase.items():
            g.add_metric([phase], n)
        yield g
        if self.detailed:
            yield from self._per_deployment(deployments)
            yield from self._usage(samples)

        yield from self._endpoints(endpoints)

        g = GaugeMetricFamily("moorage_rollouts_active", "Rollouts not yet ended, by state",
                              labels=["state"])
        for state in stats.ACTIVE_ROLLOUT_STATES:
            g.add_metric([state], rollouts.get(state, 0))
        yield g
        yield GaugeMetricFamily(
            "moorage_reconciles_due",
            "Deployments due a look that no worker holds; if it keeps growing, the workers "
            "are behind", value=due)
        yield GaugeMetricFamily(
            "moorage_oldest_due_reconcile_seconds",
            "How long the deployment that has waited longest for a look (due, and no worker "
            "holds it) has waited; 0 when none waits. Growing: nothing converges",
            value=max(0.0, (now - oldest_due).total_seconds()) if oldest_due else 0.0)

        g = GaugeMetricFamily(
            "moorage_workers_alive",
            "Worker and beat processes heard from within MOORAGE_PROCESS_STALE_AFTER_S; "
            "alert when kind=worker is 0 or kind=beat is not 1", labels=["kind"])
        for kind in liveness.KINDS:
            g.add_metric([kind], processes.alive(kind))
        yield g
        yield GaugeMetricFamily(
            "moorage_workers_consuming",
            "Workers alive whose consumer ran connected to the broker within "
            "MOORAGE_PROCESS_STALE_AFTER_S; alert when 0", value=processes.consuming)

    def _endpoints(self, served: list[tuple[str, int, dict]]) -> Iterator[Metric]:
        """Upstreams the edges send to (serving) or are draining, in all and per endpoint."""
        total = {"serving": 0, "draining": 0}
        per = GaugeMetricFamily("moorage_endpoint_upstreams",
                                "Upstreams of a deployment's endpoint, by state (serving: the "
                                "edges send to it; draining: taken out, finishing its requests)",
                                labels=["deployment", "state"])
        for name, _, state in served:
            counts = {"serving": 0, "draining": 0}
            for u in state.get("upstreams") or ():
                kind = u.get("state", "serving")
                counts[kind] = counts.get(kind, 0) + 1
            for kind, n in counts.items():
                per.add_metric([name, kind], n)
                total[kind] = total.get(kind, 0) + n
        yield GaugeMetricFamily("moorage_endpoints", "Endpoints the edges serve", value=len(served))
        g = GaugeMetricFamily("moorage_upstreams", "Upstreams of all endpoints, by state",
                              labels=["state"])
        for kind, n in total.items():
            g.add_metric([kind], n)
        yield g
        if self.detailed:
            yield per

    @staticmethod
    def _per_deployment(deployments: list[tuple[str, str, int, int, int]]) -> Iterator[Metric]:
        desired = GaugeMetricFamily("moorage_deployment_replicas_desired",
                                    "Replicas a deployment wants", labels=["deployment"])
        ready = GaugeMetricFamily("moorage_deployment_replicas_ready",
                                  "Replicas ready", labels=["deployment"])
        unavailable = GaugeMetricFamily("moorage_deployment_replicas_unavailable",
                                        "Replicas wanted but not ready", labels=["deployment"])
        for name, _, want, have, missing in deployments:
            desired.add_metric([name], want)
            ready.add_metric([name], have)
            unavailable.add_metric([name], missing)
        yield from (desired, ready, unavailable)

    @staticmethod
    def _usage(samples: list[tuple[str, str, str, UsageSample]]) -> Iterator[Metric]:
        """Each replica's newest sample, and their sums per deployment."""
        labels = ["deployment", "replica", "host"]
        cpu = GaugeMetricFamily("moorage_replica_cpu_percent",
                                "CPU a replica used, as a percentage of one core", labels=labels)
        memory = GaugeMetricFamily("moorage_replica_memory_bytes",
                                   "Memory a replica uses (less droppable page cache)",
                                   labels=labels)
        memory_pct = GaugeMetricFamily("moorage_replica_memory_percent",
                                       "Memory a replica uses, as a percentage of its limit",
                                       labels=labels)
        cpu_sum: dict[str, float] = {}
        memory_sum: dict[str, int] = {}
        for name, replica, host, s in samples:
            if s.cpu_percent is not None:
                cpu.add_metric([name, replica, host], s.cpu_percent)
                cpu_sum[name] = cpu_sum.get(name, 0.0) + s.cpu_percent
            if s.memory_bytes is not None:
                memory.add_metric([name, replica, host], s.memory_bytes)
                memory_sum[name] = memory_sum.get(name, 0) + s.memory_bytes
            if s.memory_percent is not None:
                memory_pct.add_metric([name, replica, host], s.memory_percent)
        total_cpu = GaugeMetricFamily("moorage_deployment_cpu_percent",
                                      "CPU a deployment's replicas use, summed (% of one core)",
                                      labels=["deployment"])
        total_memory = GaugeMetricFamily("moorage_deployment_memory_bytes",
                                         "Memory a deployment's replicas use, summed",
                                         labels=["deployment"])
        for name, value in sorted(cpu_sum.items()):
            total_cpu.add_metric([name], value)
        for name, n in sorted(memory_sum.items()):
            total_memory.add_metric([name], n)
        yield from (cpu, memory, memory_pct, total_cpu, total_memory)
