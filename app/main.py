"""The FastAPI application."""

from __future__ import annotations

from fastapi import FastAPI

from app.api import deployments, hosts, ops, problems, rollouts
from app.api.limits import BodySizeLimit
from app.config import get_settings


def create_app() -> FastAPI:
    settings = get_settings()
    app = FastAPI(
        title="Moorage",
        version="1.0.0",
        summary="A desired-state control plane for Docker hosts",
        description=(
            "Tell Moorage what should run; workers drive the registered Docker hosts "
            "toward it. Errors are application/problem+json (RFC 9457)."
        ),
    )
    app.add_middleware(BodySizeLimit, max_bytes=settings.max_body_bytes)
    problems.install(app)
    for module in (ops, hosts, deployments, rollouts):
        app.include_router(module.router)
    return app
