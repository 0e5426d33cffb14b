"""Recent container output of a deployment, gathered from every host at once."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

from sqlalchemy.orm import Session

from app.dockerhost import EngineError, client_for
from app.repositories import deployments as deployment_repo
from app.repositories import hosts as host_repo
from app.repositories import replicas as replica_repo
from app.schemas.deployments import LogLine
from app.services import fleet


def recent(session: Session, name: str, tail: int) -> list[LogLine]:
    deployment = deployment_repo.get_by_name(session, name)
    hosts = {h.id: h for h in host_repo.all_hosts(session)}
    targets = [
        (r.container_name, hosts[r.host_id], r.container_id)
        for r in replica_repo.for_deployment(session, deployment.id)
        if r.container_id and r.host_id in hosts
    ]

    def fetch(target) -> list[LogLine]:
        replica, host, container_id = target
        try:
            lines = client_for(fleet.address(host)).logs(container_id, tail)
        except EngineError as exc:
            return [LogLine(replica=replica, host=host.name, time=None,
                            line=f"[moorage] logs unavailable: {exc}")]
        return [LogLine(replica=replica, host=host.name, time=t, line=text) for t, text in lines]

    if not targets:
        return []
    with ThreadPoolExecutor(min(16, len(targets))) as pool:
        batches = list(pool.map(fetch, targets))
    out = [line for batch in batches for line in batch]
    out.sort(key=lambda ln: (ln.time is None, ln.time, ln.replica))
    return out
