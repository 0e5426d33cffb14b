"""The rollout state machine, over every (from, to) pair."""

from __future__ import annotations

import itertools

import pytest

from app.reconcile.rollouts import RULES, InvalidTransition, S, allowed, check

ALLOWED = {
    (S.PENDING, S.IN_PROGRESS),
    (S.PENDING, S.FAILED),
    (S.PENDING, S.SUPERSEDED),
    (S.IN_PROGRESS, S.SUCCEEDED),
    (S.IN_PROGRESS, S.FAILED),
    (S.IN_PROGRESS, S.ROLLED_BACK),
    (S.IN_PROGRESS, S.SUPERSEDED),
}
PAIRS = list(itertools.product(S, S))


@pytest.mark.parametrize(("src", "dst"), PAIRS, ids=[f"{a}->{b}" for a, b in PAIRS])
def test_every_transition(src: S, dst: S) -> None:
    assert allowed(src, dst) is ((src, dst) in ALLOWED)
    if (src, dst) in ALLOWED:
        check(src, dst)
    else:
        with pytest.raises(InvalidTransition):
            check(src, dst)


@pytest.mark.parametrize("terminal", [S.SUCCEEDED, S.FAILED, S.ROLLED_BACK, S.SUPERSEDED])
def test_terminal_states_never_change(terminal: S) -> None:
    assert not any(allowed(terminal, dst) for dst in S)


def test_every_rule_decides_something() -> None:
    # A rule that never has an opinion is dead weight.
    for rule in RULES:
        assert any(rule(a, b) is not None for a, b in PAIRS), rule.__name__


def test_unknown_state_is_refused() -> None:
    with pytest.raises(ValueError):
        allowed("pending", "exploded")
