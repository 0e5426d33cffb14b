"""Liveness, readiness and metrics: no token needed."""

from __future__ import annotations

from fastapi import APIRouter, Response
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from sqlalchemy import text
from starlette.concurrency import run_in_threadpool

from app import jobs
from app.api.problems import problem
from app.db import get_engine
from app.schemas.common import Health, Problem, Readiness

router = APIRouter(tags=["operations"])


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
}})
def metrics() -> Response:
    """Prometheus metrics."""
    return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)
