"""The FastAPI application."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from sqlalchemy.exc import IntegrityError
from starlette.concurrency import run_in_threadpool

from app.api import (
    deployments,
    events,
    hosts,
    ops,
    problems,
    registries,
    rollouts,
    stacks,
    tokens,
    webhooks,
)
from app.api.limits import BodySizeLimit
from app.config import get_settings
from app.db import session_scope
from app.heap import tune_collector
from app.services import tokens as token_service
from app.ui import web as ui

log = logging.getLogger(__name__)


def ensure_bootstrap_token() -> None:
    """MOORAGE_BOOTSTRAP_TOKEN becomes an admin token unless a token with its hash exists."""
    token = get_settings().bootstrap_token
    if not token:
        return
    try:
        with session_scope() as session:
            if token_service.ensure_bootstrap(session, token):
                log.info("made the bootstrap admin token (MOORAGE_BOOTSTRAP_TOKEN)")
    except IntegrityError:
        pass  # another API process made it at the same moment


@asynccontextmanager
async def lifespan(_: FastAPI) -> AsyncIterator[None]:
    await run_in_threadpool(ensure_bootstrap_token)
    yield


def serve() -> FastAPI:
    """The app as `moorage api` serves it: in each worker process, logging configured (with
    its redaction of secrets) before anything logs, as the CLI did for the parent."""
    from app.logs import configure as configure_logging

    configure_logging(get_settings().log_level)
    app = create_app()
    tune_collector()  # the app, its routes and schemas: never walked again
    return app


def create_app() -> FastAPI:
    settings = get_settings()
    app = FastAPI(
        title="Moorage",
        version="1.0.0",
        summary="A desired-state control plane for Docker hosts",
        description=(
            "Tell Moorage what should run; workers drive the registered Docker hosts "
            "toward it. Errors are application/problem+json (RFC 9457). Every `/v1` route "
            "needs `Authorization: Bearer <token>` except the webhook trigger, which is "
            "authenticated by its signature."
        ),
        lifespan=lifespan,
        docs_url=None, redoc_url=None,  # app.ui serves /docs with local assets
    )
    app.add_middleware(BodySizeLimit, max_bytes=settings.max_body_bytes,
                       overrides=(("/v1/hooks/", settings.max_hook_body_bytes),))
    problems.install(app)
    problems.document(app)
    for module in (ops, hosts, deployments, stacks, events, rollouts, tokens, webhooks,
                   registries):
        app.include_router(module.router)
    app.include_router(tokens.whoami_router)
    app.include_router(webhooks.hooks_router)
    ui.install(app)
    return app
