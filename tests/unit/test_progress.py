"""What counts as a rollout's progress: tables for the rule, then properties.

Progress is replicas of the target becoming ready (more at once than ever) or containers
that must go becoming fewer (than ever); never a container created, restarted or running.
"""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from app.reconcile.planner import BackoffPolicy, summarize
from app.reconcile.progress import Level, Mark, advance, deadline_at, level, past_deadline
from app.reconcile.types import HostState, Placement, Plan

from .factories import NEW, OLD, T0, at, container, desired, exited, fleet, host, hosts
from .test_planner import FAST, SLOW, Sim, _never_ready, broken, scenarios, surge_unavailable

# ---- level: what one observation shows -------------------------------------------------


@pytest.mark.parametrize(
    ("d", "observed", "hs", "expected"),
    [
        pytest.param(desired(3), [], hosts("h1"), Level(0, 0), id="nothing-yet"),
        pytest.param(desired(3), fleet(3), hosts("h1"), Level(3, 0), id="all-ready"),
        pytest.param(
            desired(3),
            [exited(0), container(1, state="created", started_at=None), container(2, state="restarting")],
            hosts("h1"),
            Level(0, 0),
            id="crashed-created-restarting-are-not-ready",
        ),
        pytest.param(
            desired(2, min_ready_s=5),
            [container(0, started_at=at(-1)), container(1, health="unhealthy")],
            hosts("h1"),
            Level(0, 0),
            id="running-is-not-ready",
        ),
        pytest.param(
            desired(3),
            [*fleet(3, template=OLD), container(0)],
            hosts("h1"),
            Level(1, 3),
            id="mid-rollout-old-ones-must-go",
        ),
        pytest.param(
            desired(3),
            [container(0), container(0, host="h2")],
            hosts("h1", "h2"),
            Level(1, 0),
            id="a-slot-counts-once",
        ),
        pytest.param(desired(2), fleet(5), hosts("h1"), Level(2, 3), id="scale-down-extra-slots-must-go"),
        pytest.param(desired(2, deleting=True), fleet(2), hosts("h1"), Level(0, 2), id="deleting-everything-must-go"),
        pytest.param(
            desired(2),
            fleet(2, host_names=("h1", "h2")),
            [host("h1"), host("h2", schedulable=False)],
            Level(1, 1),
            id="drained-host-replica-must-go",
        ),
        pytest.param(
            desired(2, placement=Placement(constraints=("region==eu",))),
            fleet(2, host_names=("h1", "h2")),
            [host("h1", labels={"region": "eu"}), host("h2", labels={"region": "us"})],
            Level(1, 1),
            id="replica-on-a-host-its-constraint-no-longer-allows",
        ),
        pytest.param(
            desired(2),
            fleet(2, host_names=("h1", "h2")),
            [host("h1"), host("h2", HostState.LOST)],
            Level(1, 0),
            id="lost-host-counts-for-nothing",
        ),
        pytest.param(
            desired(2),
            fleet(2, host_names=("h1", "h2")),
            [host("h1"), host("h2", HostState.UNREACHABLE)],
            Level(1, 0),
            id="unreachable-host-replica-holds-its-slot-but-is-not-ready",
        ),
        pytest.param(
            desired(2),
            [*fleet(2, host_names=("h1", "h2")), container(1, host="h1")],
            [host("h1"), host("h2", HostState.UNREACHABLE)],
            Level(2, 0),
            id="its-replacement-ready-elsewhere-is-counted",
        ),
    ],
)
def test_level(d, observed, hs, expected):
    assert level(d, observed, hs, now=T0) == expected


@FAST
@given(scenarios())
def test_level_counts_ready_as_the_status_does(world):
    """Progress never sees more ready than the deployment's status shows (a replica on an
    unreachable host is ready for neither), and a converged deployment is at its best."""
    seen = level(world.desired, world.observed, world.hosts, now=T0)
    status = summarize(world.desired, world.observed, world.hosts, now=T0)
    assert seen.ready <= status.ready
    if status.converged:
        assert seen == Level(world.desired.replicas, 0)


# ---- advance: the marks ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("before", "seen", "after"),
    [
        pytest.param(None, Level(2, 3), Mark(2, 3, T0), id="first-look-dated-at-the-start"),
        pytest.param(Mark(1, 3, T0), Level(2, 3), Mark(2, 3, at(10)), id="one-more-ready"),
        pytest.param(Mark(1, 3, T0), Level(1, 2), Mark(1, 2, at(10)), id="one-fewer-to-remove"),
        pytest.param(Mark(1, 3, T0), Level(2, 4), Mark(2, 3, at(10)), id="ready-up-while-a-host-returns"),
        pytest.param(Mark(1, 3, T0), Level(1, 3), Mark(1, 3, T0), id="unchanged"),
        pytest.param(Mark(2, 0, T0), Level(0, 0), Mark(2, 0, T0), id="crashed-is-no-progress"),
        pytest.param(Mark(2, 0, T0), Level(2, 0), Mark(2, 0, T0), id="back-to-the-old-best-is-none"),
        pytest.param(Mark(0, 1, T0), Level(0, 2), Mark(0, 1, T0), id="more-to-remove-is-none"),
    ],
)
def test_advance(before, seen, after):
    assert advance(before, seen, now=at(10), started=T0) == after


def test_deadline_counts_from_the_last_progress_or_the_start():
    assert deadline_at(None, 20, started=T0) == at(20)
    assert deadline_at(Mark(1, 0, at(7)), 20, started=T0) == at(27)
    assert not past_deadline(Mark(1, 0, at(7)), 20, started=T0, now=at(26.999))
    # Due at the instant the loop was told to wake for it.
    assert past_deadline(Mark(1, 0, at(7)), 20, started=T0, now=at(27))


def test_a_crash_recreated_again_and_again_is_no_progress():
    """The reported bug: every crash-and-recreate reset the clock."""
    d = desired(1, min_ready_s=1)
    mark = None
    for i in range(0, 100, 4):  # created, running for a moment, exited, removed; again
        for t, observed in enumerate([
            [container(0, state="created", started_at=None)],
            [container(0, started_at=at(i + 1))],
            [exited(0, finished=at(i + 1.5))],
            [],
        ]):
            now = at(i + t + 0.5)
            mark = advance(mark, level(d, observed, hosts("h1"), now=now), now=now, started=T0)
    assert mark == Mark(0, 0, T0)
    assert past_deadline(mark, 20, started=T0, now=at(20))


# ---- properties ------------------------------------------------------------------------

levels = st.builds(Level, st.integers(0, 6), st.integers(0, 6))


@FAST
@given(st.lists(st.tuples(st.floats(0.01, 30), levels), min_size=1, max_size=40), st.floats(1, 60))
def test_the_deadline_fires_at_the_first_pass_past_the_last_real_progress(passes, deadline_s):
    mark, now, best_ready, least_surplus, last_progress = None, T0, None, None, T0
    for gap, seen in passes:
        now += timedelta(seconds=gap)
        new = advance(mark, seen, now=now, started=T0)
        if mark is None:
            best_ready, least_surplus = seen.ready, seen.surplus
        elif seen.ready > best_ready or seen.surplus < least_surplus:
            last_progress = now
        best_ready = max(best_ready, seen.ready)
        least_surplus = min(least_surplus, seen.surplus)
        # Monotone: the best only gets better, and its date only later.
        if mark is not None:
            assert new.ready >= mark.ready and new.surplus <= mark.surplus and new.at >= mark.at
        mark = new
        assert mark == Mark(best_ready, least_surplus, last_progress)
        late = now - last_progress >= timedelta(seconds=deadline_s)
        assert past_deadline(mark, deadline_s, started=T0, now=now) is late
        if late:
            return  # failed at this pass: the first one at or after the deadline


@FAST
@given(levels, st.lists(st.tuples(st.floats(0.01, 30), levels), max_size=60))
def test_no_repetition_below_the_best_ever_is_progress(first, later):
    """A crash loop of any length: ready replicas come and go but never beat the best,
    containers come and go but the ones to remove never get fewer."""
    mark, now = advance(None, first, now=T0, started=T0), T0
    for gap, seen in later:
        now += timedelta(seconds=gap)
        crash = Level(min(seen.ready, first.ready), max(seen.surplus, first.surplus))
        mark = advance(mark, crash, now=now, started=T0)
    assert mark == Mark(first.ready, first.surplus, T0)


def _drive(sim: Sim, deadline_s: float, steps: int, started: datetime = T0) -> tuple[list[Mark], datetime | None]:
    """The reconciler's loop in small: plan, note the level, act or wait -- for a back-off,
    but never past the deadline. Returns the marks and when the deadline fired (or None)."""
    marks: list[Mark] = []
    mark = None
    for _ in range(steps):
        p: Plan = sim.plan()
        mark = advance(mark, level(sim.desired, sim.observed, sim.hosts, now=sim.now), now=sim.now, started=started)
        marks.append(mark)
        if past_deadline(mark, deadline_s, started=started, now=sim.now):
            return marks, sim.now
        if p.empty and p.wake_at is None and summarize(sim.desired, sim.observed, sim.hosts, now=sim.now).converged:
            return marks, None  # the rollout succeeded
        due = deadline_at(mark, deadline_s, started=started)
        sim.apply(p)
        if p.empty:
            sim.now = min(t for t in (p.wake_at, due) if t is not None)
    return marks, None


@SLOW
@given(
    n=st.integers(1, 6),
    strategy=surge_unavailable,
    update=st.booleans(),
    create_state=st.sampled_from(["running", "created"]),
    fates=broken,
    deadline_s=st.floats(1, 300),
    backoff_max_s=st.sampled_from([8.0, 60.0, 300.0]),
)
def test_a_crash_loop_never_makes_progress_and_fails_by_its_deadline(
    n, strategy, update, create_state, fates, deadline_s, backoff_max_s
):
    """The real planner against an image that never comes up, fresh or as an update of
    ready replicas: the target is never ready, so the mark rises never, and the deadline
    fires at the first pass past ``deadline_s`` however long the back-off (one pass: the
    simulator's tick)."""
    surge, unavailable = strategy
    old = fleet(n, template=OLD, host_names=("h1", "h2"), started_at=at(-3600)) if update else []
    sim = Sim(
        desired(n, max_surge=surge, max_unavailable=unavailable),
        old,
        hosts("h1", "h2"),
        create_state=create_state,
        fate=_never_ready(fates),
        backoff=BackoffPolicy(1.0, backoff_max_s),
    )

    marks, failed_at = _drive(sim, deadline_s, steps=10_000)

    assert all(m.ready == 0 for m in marks), "a replica of the broken image counted as ready"
    progressed = [m for m in marks if m.at != T0]
    if not update or unavailable == 0:
        assert progressed == [], "a crash loop made progress"
    # (With max_unavailable > 0 old replicas may go first: each goes once, and that is progress.)
    last = marks[-1].at
    assert failed_at is not None
    assert last + timedelta(seconds=deadline_s) <= failed_at <= last + timedelta(seconds=deadline_s) + sim.tick
    assert len({m.surplus for m in marks}) <= len(old) + 1


def test_a_healthy_rollout_progresses_at_each_ready_replica_and_removal():
    d = desired(3, max_surge=1, max_unavailable=0, min_ready_s=2)
    sim = Sim(d, fleet(3, template=OLD, started_at=at(-3600)), hosts("h1"))

    marks, failed_at = _drive(sim, 4.5, steps=100)

    assert failed_at is None  # never 4.5 s without progress: it succeeded
    assert (marks[-1].ready, marks[-1].surplus) == (3, 0)
    assert len({m.at for m in marks}) >= 1 + 3  # the start, then each replica ready
    assert [c.template_hash for c in sim.observed] == [NEW] * 3
