"""The rollout state machine: which (from, to) transitions are allowed, and why.

Each rule is a small named unit; ``allowed`` asks them in order and the first that has
an opinion decides. A transition no rule allows is refused.
"""

from __future__ import annotations

from collections.abc import Callable
from enum import StrEnum


class RolloutState(StrEnum):
    PENDING = "pending"
    IN_PROGRESS = "in_progress"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    ROLLED_BACK = "rolled_back"
    SUPERSEDED = "superseded"


S = RolloutState
ACTIVE = frozenset({S.PENDING, S.IN_PROGRESS})
TERMINAL = frozenset(set(S) - ACTIVE)


class InvalidTransition(ValueError):
    pass


# A rule returns True (allow), False (refuse) or None (no opinion).
Rule = Callable[[RolloutState, RolloutState], bool | None]


def terminal_is_final(src: S, dst: S) -> bool | None:
    """A finished rollout is history: nothing changes it again."""
    return False if src in TERMINAL else None


def no_self_loops(src: S, dst: S) -> bool | None:
    return False if src == dst else None


def pending_starts(src: S, dst: S) -> bool | None:
    """A worker picks the rollout up."""
    return True if (src, dst) == (S.PENDING, S.IN_PROGRESS) else None


def newer_change_supersedes(src: S, dst: S) -> bool | None:
    """A new apply replaces a rollout that has not finished, started or not."""
    return True if dst == S.SUPERSEDED and src in ACTIVE else None


def fails_even_before_start(src: S, dst: S) -> bool | None:
    """A permanent error (e.g. the image cannot be resolved) can fail it at once."""
    return True if dst == S.FAILED and src in ACTIVE else None


def only_started_rollouts_finish(src: S, dst: S) -> bool | None:
    """Success and rollback are judged on observed replicas: the rollout must have run."""
    if dst in (S.SUCCEEDED, S.ROLLED_BACK):
        return src == S.IN_PROGRESS
    return None


def nothing_returns_to_pending(src: S, dst: S) -> bool | None:
    return False if dst == S.PENDING else None


RULES: tuple[Rule, ...] = (
    terminal_is_final,
    no_self_loops,
    nothing_returns_to_pending,
    pending_starts,
    newer_change_supersedes,
    fails_even_before_start,
    only_started_rollouts_finish,
)


def allowed(src: str, dst: str) -> bool:
    a, b = RolloutState(src), RolloutState(dst)
    for rule in RULES:
        verdict = rule(a, b)
        if verdict is not None:
            return verdict
    return False


def check(src: str, dst: str) -> None:
    if not allowed(src, dst):
        raise InvalidTransition(f"rollout cannot go from {src} to {dst}")
