"""The words Moorage's state is told in, each defined once.

The API's schemas, the metrics, the repositories and the core all use these, so a phase
or a replica state cannot be spelled two ways, and a dry run sees a replica exactly as a
real pass does (``observed_state`` is the one mapping back from a stored record).
"""

from __future__ import annotations

from enum import StrEnum

# Rollout states live with the state machine that moves between them.
from app.reconcile.rollouts import RolloutState


class Phase(StrEnum):
    """A deployment's phase, as its status shows it."""

    PENDING = "pending"
    PROGRESSING = "progressing"
    AVAILABLE = "available"
    DEGRADED = "degraded"
    FAILED = "failed"
    DELETING = "deleting"


class RolloutKind(StrEnum):
    CREATE = "create"
    UPDATE = "update"
    SCALE = "scale"
    ROLLBACK = "rollback"
    RESTART = "restart"
    DELETE = "delete"


class ReplicaState(StrEnum):
    """A replica's state as Moorage records it: fewer words than the engine's."""

    CREATING = "creating"
    STARTING = "starting"
    RUNNING = "running"
    EXITED = "exited"
    REMOVING = "removing"


class ReplicaHealth(StrEnum):
    NONE = "none"  # no health check: running is ready
    STARTING = "starting"
    HEALTHY = "healthy"
    UNHEALTHY = "unhealthy"


# The engine's container state -> the state a replica record keeps.
_RECORDED: dict[str, ReplicaState] = {
    "created": ReplicaState.CREATING,
    "running": ReplicaState.RUNNING,
    "paused": ReplicaState.RUNNING,
    "restarting": ReplicaState.STARTING,
    "exited": ReplicaState.EXITED,
    "dead": ReplicaState.EXITED,
    "removing": ReplicaState.REMOVING,
}

# A recorded state -> the engine state the planner reads it as (a dry run plans from
# records, not from the engines).
_OBSERVED: dict[ReplicaState, str] = {
    ReplicaState.CREATING: "created",
    ReplicaState.STARTING: "restarting",
    ReplicaState.RUNNING: "running",
    ReplicaState.EXITED: "exited",
    ReplicaState.REMOVING: "removing",
}


def recorded_state(engine_state: str) -> ReplicaState:
    """An unknown engine state is recorded as exited: not running, so never counted ready."""
    return _RECORDED.get(engine_state, ReplicaState.EXITED)


def observed_state(recorded: str) -> str:
    """Inverse of ``recorded_state`` up to the words it merges."""
    try:
        return _OBSERVED[ReplicaState(recorded)]
    except ValueError:
        return "exited"

__all__ = ["ReplicaHealth", "Phase", "ReplicaState", "RolloutKind", "RolloutState",
           "observed_state", "recorded_state"]
