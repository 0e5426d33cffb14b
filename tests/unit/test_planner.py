"""The pure planner: one table per rule, then a small simulator for properties.

No mocks: ``plan`` is a function of values. The simulator applies a plan the way the
reconciler would (Create -> a container on that host, Start -> running, Remove -> gone),
keeps the slot restart counts, and advances a fake clock -- by a tick after a batch, or
straight to ``wake_at`` when the planner has nothing to do yet.
"""

from __future__ import annotations

import itertools
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from app.reconcile.planner import (
    BackoffPolicy,
    container_name,
    is_ready,
    plan,
    summarize,
    wants_restart,
)
from app.reconcile.types import (
    Create,
    Desired,
    HostState,
    HostView,
    ObservedContainer,
    Placement,
    Plan,
    Remove,
    SlotRestarts,
    Start,
)

from .factories import (
    DEPLOYMENT,
    NEW,
    OLD,
    T0,
    at,
    container,
    desired,
    exited,
    fleet,
    host,
    hosts,
)

READY, UNREACHABLE, LOST = HostState.READY, HostState.UNREACHABLE, HostState.LOST


# ---- helpers -------------------------------------------------------------------------


def _tmpl(t: str) -> str:
    return {NEW: "new", OLD: "old"}.get(t, t[:6])


def describe(p: Plan) -> list[str]:
    """The plan's actions as sorted, readable strings: 'create 0@h1', 'remove 2/old@h2'."""
    out = []
    for a in p.actions:
        if isinstance(a, Create):
            out.append(f"create {a.slot}@{a.host}")
        elif isinstance(a, Start):
            out.append(f"start {a.container.slot}/{_tmpl(a.container.template_hash)}@{a.container.host}")
        else:
            out.append(f"remove {a.container.slot}/{_tmpl(a.container.template_hash)}@{a.container.host}")
    return sorted(out)


def removed(p: Plan) -> list[ObservedContainer]:
    return [a.container for a in p.actions if isinstance(a, Remove)]


def creates(p: Plan) -> list[Create]:
    return [a for a in p.actions if isinstance(a, Create)]


# ---- 1. tables -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("replicas", "host_names", "expected"),
    [
        pytest.param(0, ["h1"], [], id="zero-replicas"),
        pytest.param(1, ["h1"], ["create 0@h1"], id="one-replica"),
        pytest.param(3, ["h1"], ["create 0@h1", "create 1@h1", "create 2@h1"], id="three-one-host"),
        pytest.param(
            3,
            ["h1", "h2", "h3"],
            ["create 0@h1", "create 1@h2", "create 2@h3"],
            id="three-spread-over-three-hosts",
        ),
        pytest.param(
            5,
            ["h2", "h1"],
            ["create 0@h1", "create 1@h2", "create 2@h1", "create 3@h2", "create 4@h1"],
            id="five-over-two-hosts-by-name",
        ),
    ],
)
def test_fresh_deployment_creates_every_replica(replicas, host_names, expected):
    p = plan(desired(replicas), [], hosts(*host_names), now=T0)

    assert describe(p) == sorted(expected)
    for a in creates(p):
        assert a.name == container_name(DEPLOYMENT, a.slot, NEW)
        assert a.reason == "missing replica"
    assert p.wake_at is None
    assert p.pending == ()


@pytest.mark.parametrize(
    ("d", "observed", "restarts"),
    [
        pytest.param(desired(0), [], {}, id="zero-replicas"),
        pytest.param(desired(3), fleet(3), {}, id="three-running"),
        pytest.param(desired(5), fleet(5, host_names=("h1", "h2", "h3")), {}, id="five-on-three-hosts"),
        pytest.param(desired(2, min_ready_s=10), fleet(2, started_at=at(-10)), {}, id="min-ready-elapsed"),
        pytest.param(desired(2), fleet(2, health="healthy"), {}, id="healthy-health-checks"),
        pytest.param(
            desired(2, restart_policy="never"),
            [container(0), exited(1, 1)],
            {},
            id="never-policy-leaves-exited-alone",
        ),
        pytest.param(
            desired(2, restart_policy="on-failure"),
            [container(0), exited(1, 0)],
            {},
            id="on-failure-leaves-clean-exit-alone",
        ),
        pytest.param(
            desired(1),
            [container(0, started_at=at(-5))],
            {0: SlotRestarts(0, at(-60))},
            id="zero-restarts-is-not-stable-news",
        ),
        pytest.param(desired(2, deleting=True), [], {}, id="deleted-and-gone"),
        pytest.param(
            desired(2),
            fleet(2) + [container(2, host="h9")],
            {},
            id="unregistered-host-ignored",
        ),
    ],
)
def test_converged_state_plans_nothing(d, observed, restarts):
    p = plan(d, observed, hosts("h1", "h2", "h3"), restarts, now=T0)

    assert p.actions == ()
    assert p.empty
    assert p.wake_at is None
    assert p.pending == ()
    assert p.stable_slots == frozenset()


@pytest.mark.parametrize(
    ("before", "after", "expected"),
    [
        pytest.param(0, 2, ["create 0@h1", "create 1@h2"], id="0-to-2"),
        pytest.param(2, 5, ["create 2@h1", "create 3@h2", "create 4@h1"], id="up-2-to-5"),
        pytest.param(5, 2, ["remove 2/new@h1", "remove 3/new@h2", "remove 4/new@h1"], id="down-5-to-2"),
        pytest.param(3, 0, ["remove 0/new@h1", "remove 1/new@h2", "remove 2/new@h1"], id="down-to-0"),
        pytest.param(4, 4, [], id="unchanged"),
    ],
)
def test_scaling_touches_only_the_difference(before, after, expected):
    observed = fleet(before, host_names=("h1", "h2"))

    p = plan(desired(after), observed, hosts("h1", "h2"), now=T0)

    assert describe(p) == expected
    assert all(a.reason == "scaled down" for a in p.actions if isinstance(a, Remove))
    kept = {c.container_id for c in observed} - {c.container_id for c in removed(p)}
    assert kept == {c.container_id for c in observed if c.slot < after}


def test_scaling_down_removes_old_template_and_dead_containers_above_the_count():
    observed = [
        container(0),
        container(1, template=OLD),
        exited(2, 1, host="h2"),
        container(7, state="created"),
    ]
    p = plan(desired(1), observed, hosts("h1", "h2"), now=T0)

    assert describe(p) == ["remove 1/old@h1", "remove 2/new@h2", "remove 7/new@h1"]
    assert not any(a.crashed for a in p.actions if isinstance(a, Remove))


@pytest.mark.parametrize(
    ("n", "expected_s"),
    [(0, 1), (1, 2), (2, 4), (3, 8), (5, 32), (6, 60), (7, 60), (30, 60), (10_000, 60)],
    ids=lambda v: str(v),
)
def test_backoff_doubles_per_restart_and_caps(n, expected_s):
    assert BackoffPolicy().delay(n) == timedelta(seconds=expected_s)


def test_backoff_respects_custom_base_and_cap():
    policy = BackoffPolicy(base_s=0.5, max_s=3.0)
    assert [policy.delay(n).total_seconds() for n in range(5)] == [0.5, 1.0, 2.0, 3.0, 3.0]


@pytest.mark.parametrize(
    ("restarts", "elapsed", "restart_now", "wake_s"),
    [
        pytest.param(0, 0.0, False, 1, id="1st-crash-just-exited-waits-1s"),
        pytest.param(0, 0.999, False, 1, id="1st-crash-not-yet"),
        pytest.param(0, 1.0, True, None, id="1st-crash-restarts-at-1s"),
        pytest.param(3, 7.9, False, 8, id="4th-crash-waits-8s"),
        pytest.param(3, 8.0, True, None, id="4th-crash-restarts-at-8s"),
        pytest.param(6, 59.0, False, 60, id="capped-wait-60s"),
        pytest.param(6, 60.0, True, None, id="capped-restart-at-60s"),
        pytest.param(500, 60.0, True, None, id="huge-count-still-capped"),
    ],
)
def test_exited_container_is_removed_only_after_backoff(restarts, elapsed, restart_now, wake_s):
    c = exited(0, 1, finished=T0)
    p = plan(desired(1), [c], hosts("h1"), {0: SlotRestarts(restarts, T0)}, now=at(elapsed))

    if restart_now:
        assert p.actions == (Remove(c, "exited with code 1", crashed=True),)
        assert p.wake_at is None
    else:
        assert p.actions == ()
        assert p.wake_at == at(wake_s)


def test_crashed_slot_is_recreated_once_its_container_is_gone():
    c = exited(1, 2, finished=at(-100))
    first = plan(desired(2), [container(0), c], hosts("h1"), now=T0)
    assert first.actions == (Remove(c, "exited with code 2", crashed=True),)  # no create yet

    second = plan(desired(2), [container(0)], hosts("h1"), {1: SlotRestarts(1, T0)}, now=T0)
    assert describe(second) == ["create 1@h1"]


@pytest.mark.parametrize(
    ("policy", "code", "restarted"),
    [
        pytest.param("always", 0, True, id="always-exit-0"),
        pytest.param("always", 1, True, id="always-exit-1"),
        pytest.param("on-failure", 0, False, id="on-failure-exit-0"),
        pytest.param("on-failure", 1, True, id="on-failure-exit-1"),
        pytest.param("on-failure", 137, True, id="on-failure-exit-137"),
        pytest.param("never", 0, False, id="never-exit-0"),
        pytest.param("never", 1, False, id="never-exit-1"),
    ],
)
def test_restart_policy(policy, code, restarted):
    c = exited(0, code, finished=at(-600))
    p = plan(desired(1, restart_policy=policy), [c], hosts("h1"), now=T0)

    assert wants_restart(c, policy) is restarted
    if restarted:
        assert p.actions == (Remove(c, f"exited with code {code}", crashed=True),)
    else:
        assert p.actions == ()
        assert p.wake_at is None  # nothing will ever happen to it


@pytest.mark.parametrize(
    ("count", "up_s", "stable", "wake_s"),
    [
        pytest.param(3, 30, True, None, id="up-30s-is-stable"),
        pytest.param(3, 300, True, None, id="up-long-is-stable"),
        pytest.param(3, 29, False, 30, id="up-29s-wakes-at-30s"),
        pytest.param(0, 300, False, None, id="no-restarts-nothing-to-reset"),
    ],
)
def test_stable_slot_is_reported(count, up_s, stable, wake_s):
    c = container(0, started_at=T0)
    p = plan(desired(1), [c], hosts("h1"), {0: SlotRestarts(count, at(-1))}, now=at(up_s))

    assert p.actions == ()
    assert p.stable_slots == (frozenset({0}) if stable else frozenset())
    assert p.wake_at == (at(wake_s) if wake_s is not None else None)


@pytest.mark.parametrize(
    ("state", "expected"),
    [
        pytest.param("created", ["start 0/new@h1"], id="created-gets-started"),
        pytest.param("running", [], id="running-left-alone"),
        pytest.param("restarting", [], id="restarting-left-alone"),
        pytest.param("paused", [], id="paused-left-alone"),
    ],
)
def test_container_state_actions(state, expected):
    c = container(0, state=state, started_at=None if state == "created" else T0)
    p = plan(desired(1), [c], hosts("h1"), now=T0)

    assert describe(p) == expected
    if expected:
        assert p.actions == (Start(c, "created but not started"),)


@pytest.mark.parametrize(
    ("dups", "kept"),
    [
        pytest.param(
            [container(0, host="h2", container_id="b"), container(0, host="h1", container_id="a")],
            "a",
            id="both-ready-keep-first-host-by-name",
        ),
        pytest.param(
            [container(0, host="h1", state="created", container_id="a"), container(0, host="h2", container_id="b")],
            "b",
            id="keep-running-over-created",
        ),
        pytest.param(
            [exited(0, 1, host="h1", container_id="a"), container(0, host="h2", container_id="b")],
            "b",
            id="keep-running-over-exited",
        ),
        pytest.param(
            [
                container(0, host="h1", health="unhealthy", container_id="a"),
                container(0, host="h2", health="healthy", container_id="b"),
            ],
            "b",
            id="keep-healthy-over-unhealthy",
        ),
        pytest.param(
            [
                container(0, host="h1", container_id="a"),
                container(0, host="h2", container_id="b"),
                container(0, host="h3", container_id="c"),
            ],
            "a",
            id="three-copies-two-removed",
        ),
    ],
)
def test_duplicates_in_a_slot_all_but_one_removed(dups, kept):
    p = plan(desired(1), dups, hosts("h1", "h2", "h3"), now=T0)

    assert {c.container_id for c in removed(p)} == {c.container_id for c in dups} - {kept}
    assert all(a.reason == "duplicate replica" for a in p.actions)
    assert creates(p) == []


@pytest.mark.parametrize(
    ("d", "observed", "expected"),
    [
        pytest.param(
            desired(3),
            [container(0), container(1, host="h2"), container(2)],
            [],
            id="holds-its-slot",
        ),
        pytest.param(
            desired(3),
            [container(0), exited(1, 1, host="h2", finished=at(-999)), container(2)],
            [],
            id="exited-there-is-not-restarted",
        ),
        pytest.param(
            desired(1),
            [container(0), container(5, host="h2")],
            [],
            id="not-scaled-down",
        ),
        pytest.param(
            desired(2),
            [container(0), container(1, template=OLD, host="h2")],
            [],
            id="old-template-not-replaced",
        ),
        pytest.param(
            desired(1),
            [container(0), container(0, host="h2")],
            [],
            id="duplicate-not-removed",
        ),
        pytest.param(
            desired(2, deleting=True),
            [container(0), container(1, host="h2")],
            ["remove 0/new@h1"],
            id="not-removed-on-delete",
        ),
        pytest.param(
            desired(2),
            [container(1, host="h2", state="created")],
            ["create 0@h1"],
            id="created-there-is-not-started",
        ),
    ],
)
def test_unreachable_host_is_never_touched(d, observed, expected):
    p = plan(d, observed, [host("h1"), host("h2", UNREACHABLE)], now=T0)

    assert describe(p) == expected
    for a in p.actions:
        assert (a.host if isinstance(a, Create) else a.container.host) == "h1"


@pytest.mark.parametrize(
    ("state", "lost_state"),
    [
        pytest.param(LOST, "running", id="lost-running"),
        pytest.param(LOST, "exited", id="lost-exited"),
        pytest.param(None, "running", id="unregistered-host"),
    ],
)
def test_lost_host_containers_are_ignored_and_replaced(state, lost_state):
    gone = container(1, host="h2", state=lost_state, exit_code=0 if lost_state == "exited" else None)
    hs = [host("h1"), host("h3")] + ([host("h2", state)] if state else [])

    p = plan(desired(2), [container(0), gone], hs, now=T0)

    assert describe(p) == ["create 1@h3"]
    deleting = plan(desired(2, deleting=True), [container(0), gone], hs, now=T0)
    assert describe(deleting) == ["remove 0/new@h1"]


def test_deleting_removes_everything_reachable():
    observed = [
        container(0),
        container(1, template=OLD, host="h2"),
        exited(2, 1),
        container(3, state="created", started_at=None),
        container(9, host="h2"),
        container(-1),
        container(1, host="h3"),  # unreachable: left alone
    ]
    hs = [host("h1"), host("h2"), host("h3", UNREACHABLE)]

    p = plan(desired(2, deleting=True), observed, hs, now=T0)

    assert {c.container_id for c in removed(p)} == {c.container_id for c in observed[:-1]}
    assert all(a.reason == "deployment deleted" for a in p.actions)
    assert creates(p) == [] and p.wake_at is None


def test_rolling_update_surge_one_unavailable_zero():
    d = desired(2, max_surge=1, max_unavailable=0, min_ready_s=10)
    old0, old1 = fleet(2, template=OLD, host_names=("h1", "h2"), started_at=at(-3600))
    hs = hosts("h1", "h2")

    # 1: one surge container, nothing removed.
    p1 = plan(d, [old0, old1], hs, now=T0)
    assert describe(p1) == ["create 0@h1"]
    assert p1.actions[0].reason == "rolling to revision 2"

    # 2: the new one exists but is not started: start it, still remove nothing.
    new0 = container(0, host="h1", state="created", started_at=None)
    p2 = plan(d, [old0, old1, new0], hs, now=at(1))
    assert describe(p2) == ["start 0/new@h1"]

    # 3: running but not yet min_ready_s: wait, wake when it is.
    new0 = replace(new0, state="running", started_at=at(2))
    p3 = plan(d, [old0, old1, new0], hs, now=at(5))
    assert p3.actions == ()
    assert p3.wake_at == at(12)

    # 4: ready: the old one of that slot goes; no second surge while it is still there,
    # but the next slot's surge follows its removal in the same pass (Plan.then), on the
    # host it frees.
    p4 = plan(d, [old0, old1, new0], hs, now=at(12))
    assert p4.actions == (Remove(old0, "replaced by revision 2"),)
    assert [(a.slot, a.host) for a in p4.then] == [(1, "h1")]

    # 5: old0 gone: surge for slot 1 (h1 and h2 hold one replica each; ties go by name).
    p5 = plan(d, [old1, new0], hs, now=at(13))
    assert describe(p5) == ["create 1@h1"]


def test_rolling_update_surge_zero_unavailable_one_removes_first():
    d = desired(3, max_surge=0, max_unavailable=1)
    old = fleet(3, template=OLD, host_names=("h1", "h2", "h3"), started_at=at(-3600))
    hs = hosts("h1", "h2", "h3")

    p1 = plan(d, old, hs, now=T0)
    assert p1.actions == (Remove(old[0], "updating to revision 2"),)

    p2 = plan(d, old[1:], hs, now=at(1))
    assert describe(p2) == ["create 0@h1"]

    new0 = container(0, host="h1", started_at=at(2))
    p3 = plan(d, [*old[1:], new0], hs, now=at(3))
    assert p3.actions == (Remove(old[1], "updating to revision 2"),)


def test_rolling_update_replaces_not_ready_old_containers_first_at_no_cost():
    d = desired(3, max_surge=1, max_unavailable=0)
    observed = [
        container(0, template=OLD),
        container(1, template=OLD, health="unhealthy"),
        container(2, template=OLD, state="created", started_at=None),
    ]
    p = plan(d, observed, hosts("h1", "h2"), now=T0)

    # The two that serve nobody go at once; the ready one gets a surge container.
    assert describe(p) == ["create 0@h2", "remove 1/old@h1", "remove 2/old@h1"]


def test_rolling_update_removes_dead_old_containers_right_away():
    d = desired(2, max_surge=1, max_unavailable=0)
    observed = [container(0, template=OLD), exited(1, 0, template=OLD)]
    p = plan(d, observed, hosts("h1"), now=T0)

    assert "remove 1/old@h1" in describe(p)
    assert [a.reason for a in p.actions if isinstance(a, Remove)] == ["outdated and not running"]


def test_rolling_update_stalls_when_surge_impossible_and_no_unavailability_allowed():
    # Fixed host port, one host: a surge container cannot fit, and nothing may go first.
    d = desired(1, placement=Placement(host_ports=((80, "tcp"),)))
    old = container(0, template=OLD, host_ports=((80, "tcp"),))

    p = plan(d, [old], hosts("h1"), now=T0)

    assert p.actions == ()
    assert p.pending == ("0/1 hosts match: 1 have the host port in use",)


@pytest.mark.parametrize(
    ("state", "expected"),
    [
        pytest.param("exited", [], id="crashed-waiting-out-its-back-off"),
        pytest.param("dead", [], id="dead-waiting-out-its-back-off"),
        pytest.param("created", ["start 0/new@h1"], id="created"),
        pytest.param("restarting", [], id="restarting"),
        pytest.param("running", [], id="running-not-yet-ready"),
    ],
)
def test_a_new_container_in_any_state_holds_the_surge(state, expected):
    # 3 old ready replicas, max_surge 1: the surge container of slot 0 exists, whatever its
    # state, so slot 1 gets none (a crashed one counted for nothing: 3 crashed beside 3 old).
    d = desired(3, max_surge=1, max_unavailable=0, min_ready_s=5)
    old = fleet(3, template=OLD, started_at=at(-3600))
    dead = state in ("exited", "dead")
    new0 = container(0, state=state, exit_code=1 if dead else None, finished_at=T0 if dead else None, started_at=T0)

    p = plan(d, [*old, new0], hosts("h1"), {0: SlotRestarts(1, T0)}, now=at(1))

    assert describe(p) == expected
    assert creates(p) == []


def test_a_crashed_surge_container_is_replaced_in_its_own_slot_never_beside_it():
    d = desired(3, max_surge=1, max_unavailable=0)
    old = fleet(3, template=OLD, started_at=at(-3600))
    new0 = exited(0, 1, finished=T0)

    # Its back-off is over: it goes; nothing new while it may still be there.
    p = plan(d, [*old, new0], hosts("h1"), {0: SlotRestarts(1, T0)}, now=at(60))
    assert p.actions == (Remove(new0, "exited with code 1", crashed=True),)

    # Gone: slot 0 gets the surge again (not slot 1).
    p = plan(d, old, hosts("h1"), {0: SlotRestarts(2, at(60))}, now=at(60))
    assert describe(p) == ["create 0@h1"]


def test_a_slot_of_dead_old_containers_is_refilled_once_they_are_gone():
    d = desired(2, max_surge=0, max_unavailable=1)
    observed = [container(0, template=OLD), exited(1, 1, template=OLD)]

    p = plan(d, observed, hosts("h1"), now=T0)
    assert describe(p) == ["remove 1/old@h1"]  # not a create beside it: that would be 3

    assert describe(plan(d, observed[:1], hosts("h1"), now=T0)) == ["create 1@h1"]


@pytest.mark.parametrize(
    ("min_ready_s", "now_s", "ready", "wake_s"),
    [
        pytest.param(0, 0, True, None, id="no-min-ready"),
        pytest.param(5, 3, False, 5, id="too-young"),
        pytest.param(5, 5, True, None, id="exactly-old-enough"),
        pytest.param(2.5, 2.4, False, 2.5, id="fractional"),
    ],
)
def test_min_ready_delays_readiness(min_ready_s, now_s, ready, wake_s):
    d = desired(1, min_ready_s=min_ready_s)
    old = container(0, template=OLD, host="h2", started_at=at(-3600))
    new = container(0, started_at=T0)

    p = plan(d, [old, new], hosts("h1", "h2"), now=at(now_s))

    assert is_ready(new, min_ready_s, at(now_s)) is ready
    assert describe(p) == (["remove 0/old@h2"] if ready else [])
    assert p.wake_at == (at(wake_s) if wake_s is not None else None)


@pytest.mark.parametrize(
    ("hs", "placement", "reason"),
    [
        pytest.param([], Placement(), "no hosts are registered", id="no-hosts"),
        pytest.param(
            [host("h1", UNREACHABLE), host("h2", LOST)],
            Placement(),
            "0/2 hosts match: 1 is lost, 1 is unreachable",
            id="none-reachable",
        ),
        pytest.param(
            [host("h1", labels={"region": "us"}), host("h2"), host("h3", labels={"region": "eu"}, memory_bytes=100)],
            Placement(constraints=("region==eu",), memory_bytes=200),
            "0/3 hosts match: 1 have no memory left, 2 lack label region==eu",
            id="labels-and-memory",
        ),
        pytest.param(
            [host("h1", schedulable=False)],
            Placement(),
            "0/1 hosts match: 1 is not schedulable",
            id="cordoned",
        ),
    ],
)
def test_pending_reasons_when_no_host_fits(hs, placement, reason):
    p = plan(desired(2, placement=placement), [], hs, now=T0)

    assert p.actions == ()
    assert p.pending == (reason,)  # said once, not once per replica


def test_pending_only_for_replicas_that_do_not_fit():
    d = desired(3, placement=Placement(max_per_host=1))
    p = plan(d, [], hosts("h1", "h2"), now=T0)

    assert describe(p) == ["create 0@h1", "create 1@h2"]
    assert p.pending == ("0/2 hosts match: 2 already run max_per_host=1",)


def test_exited_container_without_finish_time_is_still_restarted():
    """Docker may report no FinishedAt (zero time, e.g. a 'dead' container).

    Waiting 'back-off from now' would never come due: every pass pushes it out again.
    """
    c = container(0, state="dead", exit_code=1, started_at=at(-100), finished_at=None)
    sim = Sim(desired(1), [c], hosts("h1"))

    sim.settle(max_steps=10)

    assert [x.state for x in sim.observed] == ["running"]
    assert [(type(a), a.crashed) for a in sim.log if isinstance(a, Remove)] == [(Remove, True)]


def test_container_is_ready_at_the_wake_time_the_planner_asked_for():
    """``wake_at`` is a promise: at that instant the container must count as ready.

    2.0000004 s is not a whole number of microseconds; timedelta rounds it down.
    """
    d = desired(1, min_ready_s=2.0000004)
    old = container(0, template=OLD, host="h2", started_at=at(-3600))
    new = container(0, started_at=T0)

    waiting = plan(d, [old, new], hosts("h1", "h2"), now=at(1))
    assert waiting.actions == () and waiting.wake_at is not None

    woken = plan(d, [old, new], hosts("h1", "h2"), now=waiting.wake_at)
    assert woken.actions == (Remove(old, "replaced by revision 2"),)


@pytest.mark.parametrize(
    ("old_cpus", "max_unavailable", "expected", "pending"),
    [
        pytest.param(
            2.0,
            0,
            [],
            ("0/1 hosts match: 1 have no CPU left",),
            id="old-containers-fill-the-host-no-surge",
        ),
        pytest.param(
            2.0,
            1,
            ["remove 0/old@h1"],
            (),  # replaced in place, as the strategy allows: nothing is held up
            id="old-fill-the-host-remove-first",
        ),
        pytest.param(1.0, 0, ["create 0@h1"], (), id="room-left-surge"),
    ],
)
def test_rolling_update_counts_old_containers_at_their_observed_size(old_cpus, max_unavailable, expected, pending):
    # The new template asks for 1 CPU; the old replicas were made with old_cpus each.
    d = desired(2, max_unavailable=max_unavailable, placement=Placement(cpus=1.0))
    old = fleet(2, template=OLD, cpus=old_cpus, started_at=at(-3600))

    p = plan(d, old, [host("h1", cpus=4.0)], now=T0)

    assert describe(p) == expected
    assert p.pending == pending


def test_rolling_update_to_a_new_host_port_is_not_blocked_by_the_old_one():
    # Old replicas publish 8080 on each host; the new template wants 9090, which is free.
    d = desired(2, placement=Placement(host_ports=((9090, "tcp"),)))
    old = fleet(2, template=OLD, host_names=("h1", "h2"), host_ports=((8080, "tcp"),))

    p = plan(d, old, hosts("h1", "h2"), now=T0)

    assert describe(p) == ["create 0@h1"]
    assert p.pending == ()


def test_a_fixed_port_roll_replaces_the_replicas_holding_the_port_first():
    # Slot 0 (an older revision) publishes nothing, slot 1 publishes the new port: rolled
    # in slot order, slot 0's surge would take h2 and leave slot 1 nowhere to surge to.
    d = desired(2, placement=Placement(host_ports=((8080, "tcp"),)))
    old = [container(0, template=OLD, host="h1", started_at=at(-60)),
           container(1, template=OLD, host="h1", host_ports=((8080, "tcp"),), started_at=at(-60))]
    sim = Sim(d, old, hosts("h1", "h2"))

    assert describe(sim.step()) == ["create 1@h2"]
    sim.settle(max_steps=20)
    assert_converged(sim)


def test_rolling_update_same_host_port_cannot_surge_onto_the_same_host():
    d = desired(2, max_unavailable=1, placement=Placement(host_ports=((8080, "tcp"),)))
    old = fleet(2, template=OLD, host_names=("h1", "h2"), host_ports=((8080, "tcp"),))

    p = plan(d, old, hosts("h1", "h2"), now=T0)

    # No host can take a surge container, so the strategy's unavailability is used: that
    # is the plan, not a placement held up (no pending reason, no Unschedulable event).
    assert describe(p) == ["remove 0/old@h1"]
    assert p.pending == ()


def test_a_surge_nothing_else_can_stand_in_for_is_pending():
    d = desired(2, placement=Placement(host_ports=((8080, "tcp"),)))
    old = fleet(2, template=OLD, host_names=("h1", "h2"), host_ports=((8080, "tcp"),))

    p = plan(d, old, hosts("h1", "h2"), now=T0)

    assert p.empty and p.pending == ("0/2 hosts match: 2 have the host port in use",)


# ---- summarize -------------------------------------------------------------------------


def test_summary_of_a_converged_deployment():
    s = summarize(desired(3), fleet(3), hosts("h1"), now=T0)
    assert (s.replicas, s.ready, s.updated, s.unavailable, s.converged) == (3, 3, 3, 0, True)
    assert s.crashing_slots == () and s.message == ""


def test_summary_mid_rollout():
    observed = [container(0), container(1, template=OLD), container(2, template=OLD, state="created")]
    s = summarize(desired(3), observed, hosts("h1"), now=T0)
    assert (s.ready, s.updated, s.unavailable, s.converged) == (2, 1, 1, False)


def test_summary_counts_no_replica_on_an_unreachable_host_ready():
    hs = [host("h1"), host("h2", UNREACHABLE)]
    observed = [container(0, host="h1"), container(1, host="h2"), container(2, host="h2")]
    s = summarize(desired(3), observed, hs, now=T0)
    # They hold their slots (updated), but are not available.
    assert (s.ready, s.updated, s.unavailable, s.converged) == (1, 3, 2, False)


def test_summary_names_crashing_slots():
    observed = [container(0), exited(1, 3), exited(2, 1)]
    s = summarize(desired(3), observed, hosts("h1"), {0: SlotRestarts(5)}, now=T0)
    assert s.crashing_slots == (1, 2)  # slot 0 restarted a lot but is ready now
    assert s.message == "replica slot(s) 1, 2 keep crashing (last exit code 3)"


def test_summary_of_deletion():
    hs = [host("h1"), host("h2", UNREACHABLE)]
    assert not summarize(desired(1, deleting=True), fleet(1), hs, now=T0).converged
    assert not summarize(desired(1, deleting=True), [container(0, host="h2")], hs, now=T0).converged
    assert summarize(desired(1, deleting=True), [], hs, now=T0).converged


# ---- 2. the simulator ------------------------------------------------------------------


def check_plan(
    p: Plan,
    d: Desired,
    observed: list[ObservedContainer],
    hs: list[HostView],
    now: datetime,
) -> None:
    """What every plan must satisfy, whatever it was given."""
    given = {c.container_id: c for c in observed}
    view = {h.name: h for h in hs}
    held = {c.slot for c in observed if c.host in view and view[c.host].state is UNREACHABLE}
    touched: list[str] = []
    new_slots: list[int] = []
    assert all(isinstance(a, Create) for a in p.then), "only creates follow the removes"
    assert not p.then or any(isinstance(a, Remove) for a in p.actions), "then without removes"
    for a in (*p.actions, *p.then):
        if isinstance(a, Create):
            assert not d.deleting
            assert a.host in view and view[a.host].reachable and view[a.host].schedulable
            assert 0 <= a.slot < d.replicas
            assert a.slot not in held, "created a replica for a slot an unreachable host holds"
            assert a.name == container_name(d.deployment, a.slot, d.template_hash)
            assert not any(c.host == a.host and c.name == a.name for c in observed), "name conflict on the engine"
            new_slots.append(a.slot)
        else:
            c = a.container
            assert given.get(c.container_id) == c, "acted on a container it was not given"
            assert view[c.host].reachable, "touched a container on a host it cannot reach"
            if isinstance(a, Start):
                assert c.state == "created"
            touched.append(c.container_id)
    assert len(touched) == len(set(touched)), "one container, two actions"
    assert len(new_slots) == len(set(new_slots)), "two creates for one slot"
    assert p.wake_at is None or p.wake_at > now


@dataclass
class Sim:
    desired: Desired
    observed: list[ObservedContainer]
    hosts: list[HostView]
    restarts: dict[int, SlotRestarts] = field(default_factory=dict)
    now: datetime = T0
    backoff: BackoffPolicy = field(default_factory=BackoffPolicy)
    create_state: str = "running"  # "created": a Create needs a Start before it runs
    # What becomes of a container the moment it runs (e.g. it crashes): None, it runs.
    fate: Callable[[ObservedContainer, datetime], ObservedContainer] | None = None
    tick: timedelta = timedelta(seconds=1)
    log: list = field(default_factory=list)  # every action applied, in order
    _ids: itertools.count = field(default_factory=lambda: itertools.count(1))

    def plan(self) -> Plan:
        return plan(
            self.desired,
            tuple(self.observed),
            tuple(self.hosts),
            dict(self.restarts),
            now=self.now,
            backoff=self.backoff,
        )

    def apply(self, p: Plan) -> None:
        check_plan(p, self.desired, self.observed, self.hosts, self.now)
        d = self.desired
        # The removes (with the rest of the batch), then the creates they make room for,
        # as app.services.reconciler.act runs them.
        for a in (*p.actions, *p.then):
            if isinstance(a, Create):
                running = self.create_state == "running"
                self.observed.append(
                    ObservedContainer(
                        container_id=f"sim{next(self._ids)}",
                        name=a.name,
                        host=a.host,
                        slot=a.slot,
                        template_hash=d.template_hash,
                        revision=d.revision,
                        state=self.create_state,
                        started_at=self.now if running else None,
                        cpus=d.placement.cpus,
                        memory_bytes=d.placement.memory_bytes,
                        host_ports=d.placement.host_ports if running else (),
                    )
                )
                if running:
                    self.observed[-1] = self._run(self.observed[-1])
            elif isinstance(a, Start):
                self.observed = [
                    self._run(replace(c, state="running", started_at=self.now, host_ports=d.placement.host_ports))
                    if c.container_id == a.container.container_id
                    else c
                    for c in self.observed
                ]
            else:
                self.observed = [c for c in self.observed if c.container_id != a.container.container_id]
                if a.crashed:
                    before = self.restarts.get(a.container.slot, SlotRestarts())
                    self.restarts[a.container.slot] = SlotRestarts(before.count + 1, self.now)
        for slot in p.stable_slots:
            self.restarts.pop(slot, None)
        self.log += (*p.actions, *p.then)
        if p.actions:
            self.now += self.tick
        elif p.wake_at is not None:
            self.now = p.wake_at

    def _run(self, c: ObservedContainer) -> ObservedContainer:
        return self.fate(c, self.now) if self.fate is not None else c

    def step(self) -> Plan:
        p = self.plan()
        self.apply(p)
        return p

    def settle(self, max_steps: int) -> Plan:
        """Step until a plan is empty with nothing to wake for; fail past ``max_steps``."""
        for _ in range(max_steps):
            p = self.step()
            if p.empty and p.wake_at is None:
                return p
        raise AssertionError(f"no fixed point after {max_steps} steps: {describe(self.plan())}")

    def on(self, *states: HostState) -> list[ObservedContainer]:
        names = {h.name for h in self.hosts if h.state in states}
        return [c for c in self.observed if c.host in names]


def assert_converged(sim: Sim) -> None:
    d = sim.desired
    mine = sim.on(READY)
    assert sorted(c.slot for c in mine) == list(range(d.replicas)), "one container per slot"
    assert all(c.template_hash == d.template_hash for c in mine)
    assert all(is_ready(c, d.strategy.min_ready_s, sim.now) for c in mine)
    s = summarize(d, sim.observed, sim.hosts, sim.restarts, now=sim.now)
    assert s.converged and s.ready == d.replicas and s.unavailable == 0


def test_simulator_reaches_a_fresh_deployment_and_rolls_it():
    sim = Sim(desired(4, template=OLD, min_ready_s=3), [], hosts("h1", "h2"), create_state="created")
    sim.settle(max_steps=20)
    assert_converged(sim)

    sim.desired = desired(4, min_ready_s=3)
    sim.settle(max_steps=60)
    assert_converged(sim)


@pytest.mark.parametrize("n", [1, 3], ids=["one-replica", "three-replicas"])
def test_rollout_overtaken_by_a_newer_revision_still_finishes(n):
    """rev 1 -> rev 2 is mid-way (a slot holds both) when rev 3 arrives: both are 'old'."""
    rev1, rev2, rev3 = "rev1" * 8, "rev2" * 8, "rev3" * 8
    sim = Sim(desired(n, template=rev1, min_ready_s=5), [], hosts("h1", "h2"))
    sim.settle(max_steps=20)
    sim.desired = desired(n, template=rev2, revision=2, min_ready_s=5)
    sim.step()  # the surge container for slot 0, not ready yet
    assert Counter(c.slot for c in sim.observed)[0] == 2

    sim.desired = desired(n, template=rev3, revision=3, min_ready_s=5)
    sim.settle(max_steps=40)

    assert_converged(sim)


def test_slot_with_two_old_containers_keeps_the_ready_one():
    d = desired(1)
    observed = [
        container(0, template=OLD, host="h1", state="created", started_at=None),
        container(0, template=OLD, host="h2"),
    ]
    p = plan(d, observed, hosts("h1", "h2"), now=T0)

    assert p.actions[0] == Remove(observed[0], "duplicate replica")
    assert describe(p) == ["remove 0/old@h1"]  # surge room is taken until it is gone
    assert describe(plan(d, observed[1:], hosts("h1", "h2"), now=T0)) == ["create 0@h1"]


# ---- hypothesis strategies ------------------------------------------------------------

FAST = settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
SLOW = settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])

surge_unavailable = st.tuples(st.integers(0, 3), st.integers(0, 3)).filter(lambda t: t != (0, 0))
min_ready = st.sampled_from([0.0, 0.0, 3.0, 2.0000004]) | st.floats(0, 20, allow_nan=False)


@st.composite
def observed_container(draw, replicas: int, host_names: list[str]) -> ObservedContainer:
    state = draw(st.sampled_from(["created", "running", "running", "running", "exited", "dead"]))
    dead = state in ("exited", "dead")
    started = None if state == "created" else at(-draw(st.integers(0, 600)))
    return container(
        draw(st.integers(-1, replicas + 3)),
        template=draw(st.sampled_from([OLD, NEW])),
        host=draw(st.sampled_from(host_names)),
        state=state,
        exit_code=draw(st.sampled_from([0, 1, 137])) if dead else None,
        started_at=started,
        finished_at=draw(st.none() | st.integers(0, 120).map(lambda s: at(-s))) if dead else None,
    )


@dataclass
class Scenario:
    desired: Desired
    observed: list[ObservedContainer]
    hosts: list[HostView]
    restarts: dict[int, SlotRestarts]

    def sim(self, **kw) -> Sim:
        return Sim(self.desired, list(self.observed), list(self.hosts), dict(self.restarts), **kw)


@st.composite
def scenarios(
    draw,
    policies: tuple[str, ...] = ("always",),
    host_states: tuple[HostState, ...] = (READY, READY, UNREACHABLE, LOST),
    deleting: bool = False,
) -> Scenario:
    n_hosts = draw(st.integers(1, 4))
    states = draw(st.lists(st.sampled_from(host_states), min_size=n_hosts, max_size=n_hosts))
    hs = [host(f"h{i}", s) for i, s in enumerate(states)]
    replicas = draw(st.integers(0, 20))
    surge, unavailable = draw(surge_unavailable)
    d = desired(
        replicas,
        max_surge=surge,
        max_unavailable=unavailable,
        min_ready_s=draw(min_ready),
        restart_policy=draw(st.sampled_from(policies)),
        deleting=draw(st.booleans()) if deleting else False,
    )
    raw = draw(st.lists(observed_container(replicas, [h.name for h in hs]), max_size=25))
    observed, names = [], set()
    for c in raw:  # an engine has one container per name
        if (c.host, c.name) not in names:
            names.add((c.host, c.name))
            observed.append(replace(c, container_id=f"c{len(observed)}"))
    restarts = draw(
        st.dictionaries(
            st.integers(0, replicas + 1),
            st.builds(
                SlotRestarts,
                count=st.integers(0, 8),
                last_at=st.sampled_from([None, at(-5), at(-300)]),
            ),
            max_size=4,
        )
    )
    return Scenario(d, observed, hs, restarts)


def step_bound(sim: Sim) -> int:
    # Every slot is rolled at worst one at a time, a handful of passes each (create, start,
    # wait for min_ready, remove, back-off waits and stable waits for crashed ones).
    return 8 * (sim.desired.replicas + len(sim.observed)) + 20


# ---- 2. properties ---------------------------------------------------------------------


@FAST
@given(scenarios(policies=("always", "on-failure", "never"), deleting=True))
def test_plan_only_acts_on_what_it_was_given(sc: Scenario):
    p = plan(sc.desired, sc.observed, sc.hosts, sc.restarts, now=T0)

    check_plan(p, sc.desired, sc.observed, sc.hosts, T0)
    unknown = {h.name for h in sc.hosts if not h.reachable}
    assert not any((a.host if isinstance(a, Create) else a.container.host) in unknown for a in p.actions)


def test_a_slot_lost_on_two_hosts_is_said_the_same_whatever_the_order():
    hs = [host("h0"), host("h1", LOST), host("h2", LOST)]
    on_lost = [container(0, host="h1"), container(0, host="h2")]
    reasons = {a.reason for obs in (on_lost, on_lost[::-1])
               for a in plan(desired(1), obs, hs, now=T0).actions}
    assert reasons == {"replacing the one on lost host h1"}


@FAST
@given(scenarios(policies=("always", "on-failure", "never"), deleting=True), st.randoms())
def test_plan_is_deterministic(sc: Scenario, rnd):
    p = plan(sc.desired, sc.observed, sc.hosts, sc.restarts, now=T0)
    assert plan(sc.desired, list(sc.observed), list(sc.hosts), dict(sc.restarts), now=T0) == p

    # Nor does the order it is told things in matter.
    observed, hs = list(sc.observed), list(sc.hosts)
    rnd.shuffle(observed)
    rnd.shuffle(hs)
    q = plan(sc.desired, observed, hs, sc.restarts, now=T0)
    assert Counter(q.actions) == Counter(p.actions)
    assert (q.wake_at, q.pending, q.stable_slots) == (p.wake_at, p.pending, p.stable_slots)


@SLOW
@given(scenarios(), st.sampled_from(["running", "created"]))
def test_any_state_converges(sc: Scenario, create_state: str):
    sim = sc.sim(create_state=create_state)
    bound = step_bound(sim)
    untouchable = sim.on(UNREACHABLE, LOST)

    last = sim.settle(bound)

    assert sim.on(UNREACHABLE, LOST) == untouchable
    d, held = sim.desired, {c.slot for c in sim.on(UNREACHABLE)}
    per_slot = Counter(c.slot for c in sim.on(READY))
    assert set(per_slot) <= set(range(d.replicas)), "nothing outside the slots survives"
    assert all(n == 1 for n in per_slot.values())
    if any(h.state is READY for h in sim.hosts):
        assert set(range(d.replicas)) - held <= set(per_slot), "every free slot is filled"
    elif set(range(d.replicas)) - held:
        assert last.pending

    # Once the unreachable hosts are declared lost, their slots are re-placed too.
    sim.hosts = [replace(h, state=LOST) if h.state is UNREACHABLE else h for h in sim.hosts]
    last = sim.settle(bound)
    if any(h.state is READY for h in sim.hosts):
        assert_converged(sim)
    else:
        assert sim.on(READY) == [] and (last.pending or d.replicas == 0)


@SLOW
@given(scenarios(policies=("always", "on-failure", "never")))
def test_any_restart_policy_reaches_a_fixed_point(sc: Scenario):
    sim = sc.sim()
    sim.settle(step_bound(sim))
    assert all(0 <= c.slot < sim.desired.replicas for c in sim.on(READY))


@SLOW
@given(scenarios(host_states=(READY, READY, LOST)), st.integers(0, 20))
def test_converged_replans_to_nothing_and_scaling_touches_only_the_difference(sc, m):
    assume(any(h.state is READY for h in sc.hosts))
    sim = sc.sim()
    sim.settle(step_bound(sim))
    assert_converged(sim)
    n, before = sim.desired.replicas, sim.on(READY)

    # Re-planning a converged state, any time later, yields nothing.
    sim.now += timedelta(hours=1)
    again = sim.plan()
    assert again.empty and again.wake_at is None and again.stable_slots == frozenset()

    sim.desired = replace(sim.desired, replicas=m)
    sim.log = []
    p = sim.plan()
    if m >= n:
        assert sorted(a.slot for a in creates(p)) == list(range(n, m))
        assert removed(p) == []
    else:
        assert creates(p) == []
        assert sorted(c.slot for c in removed(p)) == list(range(m, n))
    assert not any(isinstance(a, Start) for a in p.actions)

    sim.apply(p)
    sim.settle(step_bound(sim))
    assert_converged(sim)
    assert len(sim.log) == abs(n - m), "only the difference was created or removed"
    kept = [c for c in before if c.slot < m]
    assert [c for c in sim.on(READY) if c.slot < min(n, m)] == kept, "the others untouched"


@SLOW
@given(
    n=st.integers(1, 20),
    strategy=surge_unavailable,
    n_hosts=st.integers(1, 4),
    min_ready_s=min_ready,
    create_state=st.sampled_from(["running", "created"]),
    lost=st.booleans(),
)
def test_rolling_update_stays_within_the_strategy_bounds(n, strategy, n_hosts, min_ready_s, create_state, lost):
    surge, unavailable = strategy
    hs = hosts(*[f"h{i}" for i in range(n_hosts)])
    if lost:  # leftovers on a lost host change nothing
        hs.append(host("gone", LOST))
    old = fleet(n, template=OLD, host_names=tuple(h.name for h in hs[:n_hosts]), started_at=at(-3600))
    old += [container(s, template=OLD, host="gone") for s in range(n)] if lost else []
    d = desired(n, max_surge=surge, max_unavailable=unavailable, min_ready_s=min_ready_s)
    sim = Sim(d, old, hs, create_state=create_state)

    for _ in range(step_bound(sim)):
        p = sim.plan()
        mine = sim.on(READY)
        gone = {c.container_id for c in removed(p)}
        # Containers being removed in this batch still count: removal and creation race.
        assert len(mine) + len(creates(p)) <= n + surge
        # The creates that follow the removes (once they are done) stay within it too.
        then = [a for a in p.then if isinstance(a, Create)]
        assert len(mine) - len(gone & {c.container_id for c in mine}) + len(creates(p)) \
            + len(then) <= n + surge
        ready_after = [c for c in mine if c.container_id not in gone and is_ready(c, min_ready_s, sim.now)]
        assert len(ready_after) >= n - unavailable
        sim.apply(p)
        s = summarize(d, sim.observed, sim.hosts, sim.restarts, now=sim.now)
        assert s.unavailable <= unavailable
        if p.empty and p.wake_at is None:
            break
    else:
        raise AssertionError("rollout did not terminate")
    assert_converged(sim)


@SLOW
@given(
    data=st.data(),
    strategy=surge_unavailable,
    old_cpus=st.sampled_from([0.5, 1.0, 2.0]),
    new_cpus=st.sampled_from([0.5, 1.0, 2.0]),
    old_port=st.sampled_from([None, 80, 81]),
    new_port=st.sampled_from([None, 80, 81]),
    n_hosts=st.integers(1, 3),
)
def test_rolling_update_never_overcommits_a_host(data, strategy, old_cpus, new_cpus, old_port, new_port, n_hosts):
    """Capacity and fixed host ports hold at every step, counting what is being removed."""
    per_host = 1 if old_port else data.draw(st.integers(1, 3), label="per_host")
    capacity = per_host * old_cpus + data.draw(st.sampled_from([0.0, 0.5, 1.0]), label="spare")
    n = data.draw(st.integers(1, per_host * n_hosts), label="n")
    names = [f"h{i}" for i in range(n_hosts)]
    old_ports = ((old_port, "tcp"),) if old_port else ()
    new_ports = ((new_port, "tcp"),) if new_port else ()
    old = [
        container(s, template=OLD, host=names[s % n_hosts], cpus=old_cpus, host_ports=old_ports, started_at=at(-3600))
        for s in range(n)
    ]
    surge, unavailable = strategy
    d = desired(
        n,
        max_surge=surge,
        max_unavailable=unavailable,
        placement=Placement(cpus=new_cpus, host_ports=new_ports),
    )
    sim = Sim(d, old, [host(h, cpus=capacity) for h in names])

    for _ in range(step_bound(sim)):
        p = sim.plan()
        for h in names:
            there = [c for c in sim.observed if c.host == h]
            new = [a for a in creates(p) if a.host == h]
            assert sum(c.cpus for c in there) + new_cpus * len(new) <= capacity + 1e-9
            ports = [port for c in there for port in c.host_ports]
            ports += [port for _ in new for port in new_ports]
            assert len(ports) == len(set(ports)), f"host port doubled on {h}"
        sim.apply(p)
        if p.empty and p.wake_at is None:
            break


def _there(observed: list[ObservedContainer], hs: list[HostView]) -> list[ObservedContainer]:
    """What exists as far as the planner knows: every state, reachable or not (not lost)."""
    state = {h.name: h.state for h in hs}
    return [c for c in observed if state.get(c.host) in (READY, UNREACHABLE)]


def _ready_slots(d: Desired, observed: list[ObservedContainer], hs: list[HostView], now: datetime) -> set[int]:
    reachable = {h.name for h in hs if h.state is READY}
    return {
        c.slot
        for c in observed
        if c.host in reachable and 0 <= c.slot < d.replicas and is_ready(c, d.strategy.min_ready_s, now)
    }


@FAST
@given(scenarios(policies=("always", "on-failure", "never")))
def test_no_state_mix_lets_a_surge_exceed_replicas_plus_max_surge(sc: Scenario):
    """Any mix of states: a create beside an existing container (a surge) is made only when
    everything there, in any state, plus all the creates stays within replicas + max_surge;
    and the plan never takes ready replicas below replicas - max_unavailable (nor lower
    than they already are)."""
    d, s = sc.desired, sc.desired.strategy
    p = plan(d, sc.observed, sc.hosts, sc.restarts, now=T0)

    there = _there(sc.observed, sc.hosts)
    surges = [a for a in creates(p) if a.slot in {c.slot for c in there}]
    if surges:
        assert len(there) + len(creates(p)) <= d.replicas + s.max_surge, describe(p)
    before = _ready_slots(d, sc.observed, sc.hosts, T0)
    gone = {c.container_id for c in removed(p)}
    after = _ready_slots(d, [c for c in sc.observed if c.container_id not in gone], sc.hosts, T0)
    assert len(after) >= min(len(before), d.replicas - s.max_unavailable), describe(p)


def _never_ready(fates: list[str]) -> Callable[[ObservedContainer, datetime], ObservedContainer]:
    """A broken image: each container it runs ends in the next of ``fates``, never ready."""
    turn = itertools.cycle(fates)

    def fate(c: ObservedContainer, now: datetime) -> ObservedContainer:
        if c.template_hash != NEW:
            return c
        how = next(turn)
        if how == "crash":
            return replace(c, state="exited", exit_code=1, finished_at=now)
        if how == "restarting":
            return replace(c, state="restarting")
        return replace(c, health=how)  # running: "unhealthy" or "starting" forever

    return fate


broken = st.lists(st.sampled_from(["crash", "crash", "restarting", "unhealthy", "starting"]), min_size=1, max_size=6)


@SLOW
@given(
    n=st.integers(1, 8),
    strategy=surge_unavailable,
    n_hosts=st.integers(1, 3),
    min_ready_s=min_ready,
    create_state=st.sampled_from(["running", "created"]),
    fates=broken,
    steps=st.integers(10, 120),
)
def test_rolling_to_a_broken_image_stays_within_the_bounds_however_long(
    n, strategy, n_hosts, min_ready_s, create_state, fates, steps
):
    """Ready old replicas, a new image whose containers crash, hang restarting or never
    pass their check: at every step at most replicas + max_surge containers exist in any
    state (those removed in the batch still counted) and at least replicas - max_unavailable
    are ready."""
    surge, unavailable = strategy
    hs = hosts(*[f"h{i}" for i in range(n_hosts)])
    old = fleet(n, template=OLD, host_names=tuple(h.name for h in hs), started_at=at(-3600))
    d = desired(n, max_surge=surge, max_unavailable=unavailable, min_ready_s=min_ready_s)
    sim = Sim(d, old, hs, create_state=create_state, fate=_never_ready(fates), backoff=BackoffPolicy(0.5, 8.0))

    for _ in range(steps):
        p = sim.plan()
        gone = {c.container_id for c in removed(p)}
        assert len(sim.observed) + len(creates(p)) <= n + surge, describe(p)
        kept = [c for c in sim.observed if c.container_id not in gone]
        assert len(_ready_slots(d, kept, hs, sim.now)) >= n - unavailable, describe(p)
        sim.apply(p)
        if p.empty:
            # Nothing to do until a back-off ends; a hung container gives no wake at all.
            sim.now = p.wake_at or sim.now + timedelta(seconds=30)
