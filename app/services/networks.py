"""Networks and discovery by name, orchestrated (the rules: app.reconcile.networks).

- Before a pass creates (or starts) replicas on a host, the deployment's networks are
  ensured there (app.services.reconciler.act), and a create that finds one gone (removed
  as unused a moment before) ensures it again and retries.
- After a pass removes containers on a host, and on every host at each orphan
  collection (the beat), ``sweep`` removes this installation's networks that no
  container there uses. Both are level-triggered and idempotent: whatever a crash or a
  race leaves, the next pass or sweep puts right.
- Each pass of a deployment on a network says in its status (a condition and its
  message) and in a ``NetworkSpansHosts`` event when members run on several hosts, where
  names do not resolve (``report_spread``).
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Collection, Iterable

from sqlalchemy.orm import Session

from app.dockerhost import EngineClient
from app.dockerhost import networks as engine_networks
from app.models import Deployment
from app.reconcile import networks as rules
from app.reconcile import template as tpl
from app.repositories import events as event_repo
from app.repositories import replicas as replica_repo

log = logging.getLogger(__name__)

SPREAD_EVENT = "NetworkSpansHosts"
HEALED_EVENT = "NetworkOnOneHost"
CONDITION = "NamesResolve"


def ensure(client: EngineClient, networks: Iterable[str], installation: str) -> None:
    """Every one of ``networks`` exists on this host as this installation's."""
    for name in networks:
        engine_networks.ensure(client, name, installation)


def sweep(client: EngineClient, installation: str) -> list[str]:
    """Remove this installation's networks on this host that no container uses; their
    names. A network the engine still finds in use (a container joined since the look)
    stays, and a network Moorage did not make is never among them."""
    mine = engine_networks.owned(client, installation)
    if not mine:
        return []
    removed = []
    for network in rules.unused(mine, engine_networks.referenced(client)):
        if engine_networks.remove(client, network):
            log.info("removed network %s on %s: no container uses it", network.name, client.name)
            removed.append(network.name)
    return removed


def peers(
    session: Session, deployment_id: uuid.UUID, networks: Collection[str]
) -> dict[str, dict[str, frozenset[str]]]:
    """network -> other member deployment -> the hosts where it has replicas."""
    if not networks:
        return {}
    wanted = set(networks)
    out: dict[str, dict[str, frozenset[str]]] = {n: {} for n in wanted}
    for name, stored, hosts in replica_repo.hosts_by_deployment(session, exclude=deployment_id):
        try:
            theirs = set(tpl.from_dict(stored).container.networks) & wanted
        except tpl.TemplateError:
            continue  # a template no worker can read runs nothing to reach
        for network in theirs:
            out[network][name] = frozenset(hosts)
    return out


def report_spread(
    session: Session, deployment: Deployment, networks: Collection[str],
    own_hosts: Collection[str], peers_by_network: dict[str, dict[str, frozenset[str]]],
) -> None:
    """Say in the deployment's status (a ``NamesResolve`` condition, and its message) and
    in a warning event when members of its networks run on several hosts: no name may
    half-work in silence. Called after the status is written (app.services.reconciler
    .record); a deployment on no network is left exactly as it was."""
    if not networks or deployment.deleting:
        return
    members = {n: {**peers_by_network.get(n, {}), deployment.name: frozenset(own_hosts)}
               for n in networks}
    spreads = rules.spread(networks, members)
    conditions = [c for c in deployment.conditions or [] if c.get("type") != CONDITION]
    if not spreads:
        message = (f"members of {', '.join(sorted(networks))} reach each other by name "
                   "(each network's members run on one host)")
        conditions.append({"type": CONDITION, "status": True, "reason": "MembersOnOneHost",
                           "message": message})
        deployment.conditions = conditions
        # Once it was said that they do not, say that they do again.
        spread_at = event_repo.last_with_reason(session, deployment.id, SPREAD_EVENT)
        if spread_at is not None:
            healed_at = event_repo.last_with_reason(session, deployment.id, HEALED_EVENT)
            if healed_at is None or healed_at.id < spread_at.id:
                event_repo.record(session, deployment.id, HEALED_EVENT, message)
        return
    message = "; ".join(s.message for s in spreads)
    conditions.append({"type": CONDITION, "status": False, "reason": "NetworkSpansHosts",
                       "message": message})
    deployment.conditions = conditions
    # A failed deployment keeps its message from pass to pass: say it there only once.
    if message not in (deployment.message or ""):
        deployment.message = f"{deployment.message}; {message}" if deployment.message else message
    # Said once per change, not at every pass (other events may come between).
    last = event_repo.last_with_reason(session, deployment.id, SPREAD_EVENT)
    healed = last is not None and (
        (h := event_repo.last_with_reason(session, deployment.id, HEALED_EVENT)) is not None
        and h.id > last.id)
    if last is None or last.message != message or healed:
        event_repo.record(session, deployment.id, SPREAD_EVENT, message, warning=True)
