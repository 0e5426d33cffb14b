"""Liveness, readiness and metrics: no token needed."""

from __future__ import annotations

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
from app.schemas.common import Health, Problem, Readiness
from app.services import tokens as token_service
from app.services.metrics import FleetCollector

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
        return f"database: {exc.__class__.__name__}"


@router.get("/readyz", operation_id="readyz", response_model=Readiness,
            responses={503: {"model": Problem, "description": "Database or broker unreachable"}})
async def readyz():
    """Readiness: the database and the broker answer."""
    failures = [f for f in (await run_in_threadpool(_check_database),
                            await run_in_threadpool(jobs.check_broker)) if f]
    if failures:
        return problem(503, "Service Unavailable", "; ".join(failures), "unavailable")
    return Readiness(status="ready")


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
