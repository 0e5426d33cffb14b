"""Liveness, readiness and metrics: no token needed."""

from __future__ import annotations

from fastapi import APIRouter, Response
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from sqlalchemy import text
from starlette.concurrency import run_in_threadpool

from app import jobs
from app.api.problems import problem
from app.db import get_engine

router = APIRouter(tags=["operations"])


@router.get("/healthz", operation_id="healthz")
def healthz() -> dict[str, str]:
    return {"status": "ok"}


def _check_database() -> str | None:
    try:
        with get_engine().connect() as conn:
            conn.execute(text("SELECT 1"))
        return None
    except Exception as exc:  # any failure means "not ready"
        return f"database: {exc.__class__.__name__}"


@router.get("/readyz", operation_id="readyz",
            responses={503: {"description": "Database or broker unreachable"}})
async def readyz():
    failures = [f for f in (await run_in_threadpool(_check_database),
                            await run_in_threadpool(jobs.check_broker)) if f]
    if failures:
        return problem(503, "Service Unavailable", "; ".join(failures), "unavailable")
    return {"status": "ready"}


@router.get("/metrics", operation_id="metrics", response_class=Response)
def metrics() -> Response:
    return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)
