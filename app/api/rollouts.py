from __future__ import annotations

import asyncio
import time
import uuid
from typing import Annotated

from fastapi import APIRouter, Query
from starlette.concurrency import run_in_threadpool

from app.api import presenters
from app.api.deps import AUTH_ERRORS, require
from app.db import get_sessionmaker
from app.errors import NotFound
from app.repositories import rollouts as rollout_repo
from app.repositories import stacks as stack_repo
from app.schemas.common import Problem
from app.schemas.deployments import RolloutRead
from app.schemas.stacks import StackRolloutRead

router = APIRouter(prefix="/v1/rollouts", tags=["rollouts"], responses=AUTH_ERRORS)
WAIT_POLL_S = 0.2


def _read(rollout_id: uuid.UUID) -> RolloutRead | StackRolloutRead:
    with get_sessionmaker()() as session:
        if (rollout := rollout_repo.find(session, rollout_id)) is not None:
            return presenters.rollout(rollout)
        if (release := stack_repo.find_rollout(session, rollout_id)) is not None:
            return presenters.stack_rollout(release)
        raise NotFound(f"rollout {rollout_id} does not exist")


@router.get("/{rollout_id}", operation_id="get_rollout",
            responses={404: {"model": Problem, "description": "No such rollout"}},
            dependencies=[require("read")])
async def get_rollout(
    rollout_id: uuid.UUID,
    wait: Annotated[float, Query(ge=0, le=300, description=(
        "Hold the request up to this many seconds until the rollout is terminal"))] = 0,
) -> RolloutRead | StackRolloutRead:
    """A deployment's rollout, or a stack's release (`StackRolloutRead`, which has
    `stack`); with `?wait=N`, answers as soon as it ends (or after N seconds)."""
    deadline = time.monotonic() + wait
    rollout = await run_in_threadpool(_read, rollout_id)
    while rollout.state not in rollout_repo.TERMINAL and time.monotonic() < deadline:
        await asyncio.sleep(min(WAIT_POLL_S, max(0.0, deadline - time.monotonic())))
        rollout = await run_in_threadpool(_read, rollout_id)
    return rollout
