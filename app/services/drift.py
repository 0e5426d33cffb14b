"""The drift check of settled deployments (app.reconcile.drift), every drift_check_interval_s.

Instead of a reconcile pass per converged deployment every drift check (a job, a lease
taken and given back, the observation, and the status written again: rows written for
each deployment whether anything changed or not), one statement reads every settled
deployment's replicas and one call per host lists the installation's containers. Only
the deployments the engines contradict are woken; they are marked due first (one
UPDATE of those rows), so a job lost on its way is sent again by the resync: the check
stays level-triggered. When nothing drifted, it writes nothing.
"""

from __future__ import annotations

import logging
import uuid
from concurrent.futures import ThreadPoolExecutor, wait
from functools import lru_cache

from app import jobs
from app.db import session_scope, utcnow
from app.dockerhost import EngineError, client_for
from app.reconcile import drift as rules
from app.repositories import deployments as deployment_repo
from app.repositories import hosts as host_repo
from app.services import installation as installation_service
from app.services.fleet import address

log = logging.getLogger(__name__)

LIST_TIMEOUT_S = 10.0


@lru_cache(maxsize=1)
def _pool() -> ThreadPoolExecutor:
    return ThreadPoolExecutor(16, thread_name_prefix="drift")


def check() -> int:
    """Wake the settled deployments that drifted; returns how many."""
    with session_scope() as session:
        hosts = host_repo.all_hosts(session)
        rows = deployment_repo.settled_replicas(session)
        installation = installation_service.installation_id(session)
        names = {h.id: h.name for h in hosts}
        usable = frozenset(h.name for h in hosts if h.state == "ready" and h.schedulable)
        addresses = [address(h) for h in hosts if h.state == "ready"]
    if not rows:
        return 0
    by_deployment: dict[str, tuple[int, list[rules.Recorded]]] = {}
    for deployment_id, replicas, host_id, container_id, state in rows:
        _, recorded = by_deployment.setdefault(str(deployment_id), (replicas, []))
        if host_id is not None:
            recorded.append(rules.Recorded(names.get(host_id, ""), container_id, state))
    settled = [rules.Settled(d, n, tuple(rec)) for d, (n, rec) in by_deployment.items()]

    def listing(addr):
        return addr.name, client_for(addr, LIST_TIMEOUT_S).managed_states(installation)

    futures = [_pool().submit(listing, a) for a in addresses]
    done, _ = wait(futures, timeout=LIST_TIMEOUT_S + 1)
    listed = {}
    for f in done:
        try:
            name, containers = f.result()
        except EngineError as exc:  # its deployments want a pass, which sees it
            log.info("drift check: no listing: %s", exc)
            continue
        listed[name] = containers
    woken = rules.drifted(settled, listed, usable)
    if not woken:
        return 0
    wake = [uuid.UUID(d) for d in sorted(woken)]
    with session_scope() as session:
        deployment_repo.mark_due_now(session, wake, utcnow())
    log.info("drift check: %d of %d settled deployments drifted", len(wake), len(settled))
    jobs.request_reconcile(wake)
    return len(wake)
