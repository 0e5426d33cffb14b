"""Liveness, readiness and metrics: no token needed."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import asdict
from typing import Annotated

from fastapi import APIRouter, Depends, Response
from fastapi.security import HTTPAuthorizationCredentials
from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, CollectorRegistry, generate_latest
from sqlalchemy import text
from starlette.concurrency import run_in_threadpool

from app import jobs
from app.api.deps import bearer
from app.api.problems import problem
from app.db import get_engine, session_scope
from app.schemas.common import (
    DependencyCheck,
    Health,
    Problem,
    ProcessStatus,
    Readiness,
    ReadinessProblem,
    WorkersHealth,
    WorkersProblem,
)
from app.services import liveness
from app.services import tokens as token_service
from app.services.metrics import FleetCollector

log = logging.getLogger(__name__)
router = APIRouter(tags=["operations"])
# Fleet and deployment gauges, read from the database at each scrape: counts for anyone,
# per-host and per-deployment series only for a token that may read those names.
FLEET_COUNTS = CollectorRegistry(auto_describe=False)
FLEET_COUNTS.register(FleetCollector())
FLEET_DETAIL = CollectorRegistry(auto_describe=False)
FLEET_DETAIL.register(FleetCollector(detailed=True))


@router.get("/healthz", operation_id="healthz")
def healthz() -> Health:
    """Liveness: the API process answers."""
    return Health(status="ok")


def _check_database() -> str | None:
    try:
        with get_engine().connect() as conn:
            conn.execute(text("SELECT 1"))
        return None
    except Exception as exc:  # any failure means "not ready"
        return exc.__class__.__name__


def _timed(check: Callable[[], str | None]) -> DependencyCheck:
    started = time.monotonic()
    failure = check()
    return DependencyCheck(ok=failure is None, detail=failure or "",
                           seconds=round(time.monotonic() - started, 4))


@router.get("/readyz", operation_id="readyz", response_model=Readiness,
            responses={503: {"model": ReadinessProblem,
                             "description": "Database or broker unreachable"}})
async def readyz():
    """Readiness of this API process: its own dependencies, the database and the broker,
    answer (each check's outcome and time in `checks`). Whether workers and beat run is
    GET /healthz/workers."""
    checks = {"database": await run_in_threadpool(_timed, _check_database),
              "broker": await run_in_threadpool(_timed, jobs.check_broker)}
    failures = [f"{name}: {c.detail}" for name, c in checks.items() if not c.ok]
    if failures:
        return problem(503, "Service Unavailable", "; ".join(failures), "unavailable",
                       checks=checks)
    return Readiness(status="ready", checks=checks)


@router.get("/healthz/workers", operation_id="healthz_workers", response_model=WorkersHealth,
            responses={503: {"model": WorkersProblem, "description": (
                "No worker alive and consuming, not exactly one beat alive, or the database "
                "unreachable")}})
def healthz_workers():
    """Whether the processes that do the work live, as they say in the database: 200
    when at least one worker is alive (heard from within MOORAGE_PROCESS_STALE_AFTER_S)
    and consuming from the broker, and exactly one beat is alive; else 503, saying what
    is missing. Both list every worker and beat process heard from in the last hour."""
    try:
        with session_scope() as session:
            report = liveness.report(session)
    except Exception as exc:  # the database is away: nothing can be said about workers
        log.warning("healthz/workers: the database could not be read", exc_info=True)
        return problem(503, "Service Unavailable", f"database: {exc.__class__.__name__}",
                       "workers-unavailable", workers_alive=0, workers_consuming=0,
                       beats_alive=0, processes=[])
    counts = {"workers_alive": report.alive("worker"), "workers_consuming": report.consuming,
              "beats_alive": report.alive("beat")}
    processes = [ProcessStatus(**asdict(p)) for p in report.processes]
    if not report.healthy:
        return problem(503, "Service Unavailable", "; ".join(report.problems),
                       "workers-unavailable", **counts, processes=processes)
    return WorkersHealth(status="ok", **counts, processes=processes)


@router.get("/metrics", operation_id="metrics", response_class=Response, responses={200: {
    "description": "Prometheus text exposition format",
    "content": {CONTENT_TYPE_LATEST.split(";")[0]: {
        "schema": {"type": "string"},
        "example": "# TYPE process_cpu_seconds_total counter\nprocess_cpu_seconds_total 1.5\n"}},
}, 401: {"model": Problem, "description": "A token was given, and it is not valid"}},
    # The token is optional: anonymous scrapes get the counts.
    openapi_extra={"security": [{}]})
def metrics(
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)] = None,
) -> Response:
    """Prometheus metrics: counts of hosts, deployments and rollouts (from the database)
    and this API process's own. Scraped with a `read` token (Prometheus' `authorization`
    setting), also a series per host and per deployment; a bad token is a 401."""
    fleet = FLEET_COUNTS
    if credentials is not None:
        with session_scope() as session:
            principal = token_service.authenticate(session, credentials.credentials)
        if principal.allows("read"):
            fleet = FLEET_DETAIL
    body = generate_latest(REGISTRY) + generate_latest(fleet)
    return Response(body, media_type=CONTENT_TYPE_LATEST)
