"""The pass's whole decision, without I/O: transitions, failures and how they settle, the
status, the events, and when to look again (issue 10)."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from app.reconcile import decide as core
from app.reconcile import rollouts as rules
from app.reconcile.health import HealthState
from app.reconcile.planner import summarize
from app.reconcile.progress import Mark
from app.reconcile.types import Create, HostState, Placement, Remove
from app.reconcile.vocabulary import Phase, RolloutKind, RolloutState
from tests.unit.factories import OLD, T0, at, container, desired, exited, fleet, host, hosts
from tests.unit.test_planner import Sim

DEADLINE = 60.0
POLICY = core.Policy(progress_deadline_s=DEADLINE, auto_rollback=True, drift_check_s=300,
                     resync_s=5, health_interval_s=None)


def rollout(kind=RolloutKind.UPDATE, state=RolloutState.IN_PROGRESS, *, to=2, mark=None,
            started=T0, message=""):
    return core.ActiveRollout(kind, state, to, mark, started, message)


def group(d=None, observed=(), hs=None, *, now=T0, **kw) -> core.Group:
    return core.Group(desired=d or desired(3), observed=tuple(observed),
                      hosts=tuple(hs if hs is not None else hosts("h1", "h2")), now=now,
                      policy=kw.pop("policy", POLICY), **kw)


def states(steps) -> list[RolloutState]:
    return [s.state for s in steps]


# ---- the common paths ------------------------------------------------------------------


def test_a_pending_rollout_starts_and_creates() -> None:
    d = core.decide(group(observed=[], rollout=rollout(state=RolloutState.PENDING)))
    assert states(d.rollout.transitions) == [RolloutState.IN_PROGRESS]
    assert sum(isinstance(a, Create) for a in d.plan.actions) == 3
    assert d.status.phase is Phase.PROGRESSING and not d.converged and not d.done


def test_a_converged_rollout_succeeds_and_the_group_rests() -> None:
    d = core.decide(group(observed=fleet(3), rollout=rollout()))
    assert states(d.rollout.transitions) == [RolloutState.SUCCEEDED]
    assert d.rollout.transitions[0].message == "3/3 replicas ready"
    assert d.status.phase is Phase.AVAILABLE and d.converged and d.done
    assert d.next_reconcile_at == T0 + timedelta(seconds=POLICY.drift_check_s)


def test_a_rollout_to_an_older_revision_does_not_succeed_on_the_new_one() -> None:
    d = core.decide(group(observed=fleet(3), rollout=rollout(to=1)))
    assert d.rollout.transitions == ()


def test_health_checks_bring_the_drift_check_closer() -> None:
    policy = replace(POLICY, health_interval_s=2.0)
    d = core.decide(group(observed=fleet(3), policy=policy))
    assert d.next_reconcile_at == T0 + timedelta(seconds=2)


def test_deleting_every_replica_removed_deletes_the_group() -> None:
    d = core.decide(group(desired(3, deleting=True), [], rollout=rollout(RolloutKind.DELETE)))
    assert d.delete_group and states(d.rollout.transitions) == [RolloutState.SUCCEEDED]


def test_waiting_on_an_unreachable_host_looks_again_at_the_resync() -> None:
    hs = [host("h1"), host("h2", HostState.UNREACHABLE)]
    obs = [container(0, host="h1"), container(1, host="h2"), container(2, host="h1")]
    d = core.decide(group(observed=obs, hs=hs, unreachable={"h2": "h2: connection refused"}))
    assert d.plan.empty and d.wake_at == T0 + timedelta(seconds=POLICY.resync_s)
    # Slot 1 holds its place there, but is not counted available.
    assert (d.status.counts.ready, d.status.counts.unavailable) == (2, 1)
    assert not {k.type: k.status for k in d.status.conditions}["Available"]
    assert core.Note("HostUnreachable", "h2: connection refused", warning=True,
                     dedupe=True) in d.events


RESYNC = T0 + timedelta(seconds=POLICY.resync_s)


@pytest.mark.parametrize("observed", [
    pytest.param([exited(0, code=0)], id="exited-for-good"),
    pytest.param([container(0, state="paused")], id="paused"),
])
def test_with_nothing_to_wait_for_the_job_ends_and_the_resync_looks_again(observed) -> None:
    d = core.decide(group(desired(1, restart_policy="on-failure"), observed, hosts("h1")))
    assert d.plan.empty and not d.converged
    assert d.wake_at is None and d.next_reconcile_at == RESYNC


def test_an_unschedulable_replica_waits_for_the_resync_or_the_deadline() -> None:
    hs = [host("h1", cpus=1.0)]
    d = core.decide(group(desired(1, placement=Placement(cpus=4.0)), [], hs))
    assert d.plan.pending and d.wake_at is None and d.next_reconcile_at == RESYNC
    # A rollout's deadline nearer than the resync: looked at then, so it fails on time.
    late = core.decide(group(desired(1, placement=Placement(cpus=4.0)), [], hs,
                             now=at(DEADLINE - 2), rollout=rollout(mark=Mark(0, 0, T0))))
    assert late.failure is None and late.wake_at is None
    assert late.next_reconcile_at == at(DEADLINE)


@pytest.mark.parametrize("state", ["restarting", "removing"])
def test_a_container_between_states_is_looked_at_again_soon(state) -> None:
    # The planner leaves it be until it settles; the pass looks again soon.
    d = core.decide(group(desired(1), [container(0, state=state)], hosts("h1")))
    assert d.plan.empty and d.wake_at == T0 + timedelta(seconds=core.POLL_S)


def test_an_old_replica_getting_ready_is_waited_for_until_it_is() -> None:
    # Slot 0 (old, 1 s into min_ready_s 5) will count as ready at 5 s; no surge room.
    obs = [container(0, template=OLD, started_at=at(-1)), container(1)]
    d = core.decide(group(desired(2, min_ready_s=5, max_surge=0, max_unavailable=1),
                          obs, hosts("h1"), rollout=rollout()))
    assert d.plan.empty and d.wake_at == at(4)


def test_a_lost_host_s_replicas_are_placed_elsewhere() -> None:
    hs = [host("h1"), host("h2", HostState.LOST)]
    obs = [container(0, host="h1"), container(1, host="h2")]
    d = core.decide(group(desired(2), obs, hs))
    assert [(a.slot, a.host) for a in d.plan.actions if isinstance(a, Create)] == [(1, "h1")]


def test_a_replica_that_must_leave_a_drained_host_and_cannot_is_not_converged() -> None:
    # Slot 0 must leave h1; h2 already runs its one replica, and none may be lost.
    hs = [host("h1", schedulable=False), host("h2")]
    d = desired(2, placement=Placement(max_per_host=1))
    obs = [container(0, host="h1"), container(1, host="h2")]
    stuck = core.decide(group(d, obs, hs, rollout=rollout()))
    assert stuck.plan.pending and not stuck.converged
    assert stuck.rollout.transitions == () and stuck.status.phase is Phase.PROGRESSING
    assert stuck.rollout.message.startswith("waiting: ")
    # It waits as any stuck rollout does: its deadline fails it.
    late = core.decide(group(d, obs, hs, now=at(DEADLINE),
                             rollout=rollout(mark=Mark(1, 1, T0))))
    assert late.failure is not None and late.failure.reason.startswith("no progress")
    # Once the host is usable again there is nothing left to do.
    back = core.decide(group(d, obs, hosts("h1", "h2"), rollout=rollout()))
    assert back.converged and states(back.rollout.transitions) == [RolloutState.SUCCEEDED]


def test_a_failure_that_stands_keeps_the_phase_failed() -> None:
    d = core.decide(group(observed=fleet(2), failed="image not found"))
    assert d.status.phase is Phase.FAILED and d.status.message.startswith("image not found")


# ---- failing, and how a failure settles ------------------------------------------------


def _past_deadline(**kw) -> core.Decision:
    # Revision 2's replicas never get ready; the old ones hold on.
    obs = [container(s, template=OLD) for s in range(3)] + [
        container(0, health="starting", host="h2")]
    return core.decide(group(observed=obs, now=at(DEADLINE + 1),
                             rollout=rollout(mark=Mark(0, 3, T0), **kw)))


def test_no_progress_by_the_deadline_fails_and_acts_on_nothing() -> None:
    d = _past_deadline()
    assert d.failure is not None and d.plan.empty
    assert d.failure.reason.startswith("no progress for 60s")
    assert d.failure.wants_rollback and d.failure.wants_last_warning


def test_the_deadline_names_the_probe_that_failed_last() -> None:
    d = _past_deadline(message="replica web.0.new fails its health check: 503")
    assert d.failure.reason.endswith("replica web.0.new fails its health check: 503")
    assert not d.failure.wants_last_warning


@pytest.mark.parametrize("kind", [RolloutKind.SCALE, RolloutKind.ROLLBACK, RolloutKind.DELETE])
def test_kinds_that_changed_no_template_are_not_rolled_back(kind) -> None:
    assert not _past_deadline(kind=kind).failure.wants_rollback


def test_a_failure_rolls_back_to_the_candidate_announced_once_it_can_happen() -> None:
    failure = _past_deadline().failure
    settled = core.settle(failure, core.Candidate(1, same_spec=False), now=at(61),
                          last_warning="image pull failed")
    assert settled.roll_back_to == 1 and settled.failed is None
    assert states(settled.transitions) == [RolloutState.ROLLED_BACK]
    assert settled.transitions[0].message.endswith(
        "last warning: image pull failed; rolling back to revision 1")


@pytest.mark.parametrize(
    ("candidate", "why"),
    [
        pytest.param(None, "no earlier revision ever rolled out", id="none"),
        pytest.param(core.Candidate(1, same_spec=True), "same spec", id="restart-or-repin"),
        pytest.param(core.Candidate(1, same_spec=False, unreadable="schema 9"),
                     "cannot be read: schema 9", id="unreadable"),
        pytest.param(core.Candidate(2, same_spec=False), "already the current one",
                     id="current"),
    ],
)
def test_a_rollback_that_cannot_happen_fails_with_the_truth(candidate, why) -> None:
    settled = core.settle(_past_deadline().failure, candidate, now=at(61))
    assert settled.roll_back_to is None
    assert states(settled.transitions) == [RolloutState.FAILED]
    assert "no automatic rollback" in settled.failed and why in settled.failed
    assert settled.retry_at == at(61) + timedelta(seconds=core.FAILED_RETRY_S)


def test_a_rollback_to_host_paths_no_host_allows_any_more_fails() -> None:
    from app.reconcile.host_access import Bind

    candidate = core.Candidate(1, same_spec=False, binds=(Bind(0, "/srv/data"),))
    settled = core.settle(_past_deadline().failure, candidate, now=at(61),
                          hosts=hosts("h1"))
    assert settled.roll_back_to is None and "no longer valid" in settled.failed
    allowed = core.settle(_past_deadline().failure, candidate, now=at(61),
                          hosts=[host("h1", bind_allow=("/srv/data",))])
    assert allowed.roll_back_to == 1


def test_a_pending_rollout_that_fails_at_once_starts_first() -> None:
    failure = core.engine_failure("manifest unknown", False, desired=desired(),
                                  rollout=rollout(state=RolloutState.PENDING), policy=POLICY,
                                  now=T0)
    settled = core.settle(failure, core.Candidate(1, same_spec=False), now=T0)
    assert states(settled.transitions) == [RolloutState.IN_PROGRESS, RolloutState.ROLLED_BACK]


def test_a_temporary_engine_error_is_retried_until_the_deadline() -> None:
    args = dict(desired=desired(), rollout=rollout(), policy=POLICY)
    assert core.engine_failure("registry down", True, now=at(10), **args) is None
    late = core.engine_failure("registry down", True, now=at(DEADLINE), **args)
    assert late.reason == "no progress for 60s (progress deadline): registry down"


def test_a_scale_that_fails_says_it_is_not_rolled_back() -> None:
    settled = core.settle(_past_deadline(kind=RolloutKind.SCALE).failure, None, now=at(61))
    assert settled.failed.endswith("a scale is not rolled back")


# ---- what cannot ever be placed --------------------------------------------------------

PORT = Placement(host_ports=((8080, "tcp"),))


def test_more_fixed_port_replicas_than_hosts_fail_at_once() -> None:
    d = core.decide(group(desired(3, placement=PORT), [], hosts("h1", "h2"),
                          rollout=rollout(state=RolloutState.PENDING)))
    assert d.failure is not None
    assert "3 replicas publish fixed host port 8080/tcp" in d.failure.reason
    assert "only 2 host(s)" in d.failure.reason


def test_a_fixed_port_rolling_update_with_no_spare_host_fails_at_once() -> None:
    old = [container(0, template=OLD, host_ports=((8080, "tcp"),))]
    d = core.decide(group(desired(1, placement=PORT), old, hosts("h1"), rollout=rollout()))
    assert d.failure is not None and "max_unavailable ≥ 1" in d.failure.reason


def test_a_fixed_port_rolling_update_that_may_lose_one_replaces_in_place() -> None:
    old = [container(0, template=OLD, host_ports=((8080, "tcp"),))]
    d = core.decide(group(desired(1, placement=PORT, max_unavailable=1), old, hosts("h1"),
                          rollout=rollout()))
    assert d.failure is None
    assert [type(a) for a in d.plan.actions] == [Remove]


def test_changing_the_fixed_host_port_surges_beside_the_old_replica() -> None:
    # The old replica publishes 8081, the new revision 8080: free on h1 for the surge.
    old = [container(0, template=OLD, host_ports=((8081, "tcp"),))]
    d = core.decide(group(desired(1, placement=PORT), old, hosts("h1"), rollout=rollout()))
    assert d.failure is None
    assert [(type(a), a.host) for a in d.plan.actions] == [(Create, "h1")]


def test_adding_a_fixed_host_port_is_not_unplaceable() -> None:
    old = [container(0, template=OLD, host="h1"), container(1, template=OLD, host="h2")]
    d = core.decide(group(desired(2, placement=PORT), old, hosts("h1", "h2"),
                          rollout=rollout()))
    assert d.failure is None and len(d.plan.actions) == 1


def test_a_fixed_port_update_in_place_warns_of_nothing_unschedulable() -> None:
    old = [container(s, template=OLD, host=h, host_ports=((8080, "tcp"),))
           for s, h in enumerate(("h1", "h2"))]
    d = core.decide(group(desired(2, placement=PORT, max_unavailable=1), old,
                          hosts("h1", "h2"), rollout=rollout()))
    assert [type(a) for a in d.plan.actions] == [Remove]
    assert not [n for n in d.events if n.reason == "Unschedulable"]
    assert "pending" not in d.status.message and not d.rollout.message


def test_a_fixed_port_with_a_spare_host_surges_there() -> None:
    old = [container(0, template=OLD, host_ports=((8080, "tcp"),))]
    d = core.decide(group(desired(1, placement=PORT), old, hosts("h1", "h2"),
                          rollout=rollout()))
    assert d.failure is None
    assert [(type(a), a.host) for a in d.plan.actions] == [(Create, "h2")]


# ---- health: events, messages, replacement ---------------------------------------------


def _probed(failures: int, health: str, *, counted: bool = True) -> core.Group:
    c = container(0, health=health)
    key = (c.host, c.name)
    policy = replace(POLICY, health_interval_s=5.0, health_retries=3)
    return group(desired(1), [c], health={key: HealthState(health, failures, T0, "HTTP 503")},
                 failed_now=frozenset({key}) if counted else frozenset(), policy=policy,
                 rollout=rollout())


def test_the_first_failed_probe_is_an_event_and_the_rollout_says_which() -> None:
    d = core.decide(_probed(1, "starting"))
    [note] = [n for n in d.events if n.reason == "HealthCheckFailed"]
    assert "HTTP 503" in note.message and note.warning
    assert d.rollout.message == f"replica {container(0).name} fails its health check: HTTP 503"


def test_a_failed_probe_stays_named_once_its_replica_was_replaced() -> None:
    """The replacement is not probed yet: the failure that held the rollout is still
    what its message (and so its deadline) names, until the rollout progresses."""
    said = f"replica {container(0).name} fails its health check: HTTP 503"
    replacement = container(0, health="starting")
    held = rollout(mark=Mark(0, 0, T0), message=said)
    d = core.decide(group(desired(1), [replacement], rollout=held))
    assert d.rollout.message == said
    late = core.decide(group(desired(1), [replacement], now=at(DEADLINE + 1), rollout=held))
    assert late.failure.reason.endswith(said) and not late.failure.wants_last_warning
    # Progress (another replica got ready) ends it; so does a message that was no probe's.
    moved = core.decide(group(desired(2), [container(1), replacement], rollout=held))
    assert moved.rollout.message == ""
    other = core.decide(group(desired(1), [replacement],
                              rollout=rollout(mark=Mark(0, 0, T0), message="waiting: h2")))
    assert other.rollout.message == ""


def test_later_failures_make_no_event_until_the_verdict() -> None:
    assert not [n for n in core.decide(_probed(2, "starting")).events]
    [note] = core.decide(_probed(3, "unhealthy")).events
    assert note.reason == "ReplicaUnhealthy" and "3 health checks in a row" in note.message


def test_a_probe_not_run_or_not_counted_this_pass_repeats_no_event() -> None:
    # Not run, or a fresh replica's quick probe that failed within the interval_s its
    # last counted failure started: the failure count did not rise, nothing new to say.
    assert not core.decide(_probed(1, "starting", counted=False)).events


def test_a_ready_replica_turned_unhealthy_is_replaced_and_degraded() -> None:
    c = container(0, health="unhealthy", started_at=T0)
    d = core.decide(group(desired(2), [c, container(1)], now=at(3600)))
    [remove] = [a for a in d.plan.actions if isinstance(a, Remove)]
    assert remove.container == c and remove.crashed
    assert d.status.phase is Phase.DEGRADED and "unhealthy" in d.status.message


def test_an_unhealthy_replica_is_replaced_with_the_crash_back_off() -> None:
    from app.reconcile.types import SlotRestarts

    c = container(0, health="unhealthy", started_at=T0)
    restarts = {0: SlotRestarts(4, T0)}  # 2**4 = 16 s of back-off at the default base
    early = core.decide(group(desired(1), [c], now=at(10), restarts=restarts))
    assert early.plan.empty and early.wake_at == at(16)
    late = core.decide(group(desired(1), [c], now=at(16), restarts=restarts))
    assert [type(a) for a in late.plan.actions] == [Remove]


def test_restart_policy_never_leaves_an_unhealthy_replica_be() -> None:
    c = container(0, health="unhealthy")
    d = core.decide(group(desired(1, restart_policy="never"), [c], now=at(3600)))
    assert d.plan.empty


# ---- after the actions -----------------------------------------------------------------


def test_a_crash_removal_counts_a_restart_with_its_back_off() -> None:
    crashed = exited(0)
    result = core.ActionResult(Remove(crashed, "exited with code 1", crashed=True))
    after = core.after_actions([result], desired=desired(1), restarts={}, held_slots=frozenset(),
                               rollout=None, policy=POLICY, backoff=core.BackoffPolicy(),
                               now=at(5), current=True)
    assert after.restarts[0].count == 1 and after.restarts[0].last_at == at(5)
    assert after.events[0].reason == "ReplicaRestarted"


def test_a_vanished_container_is_observed_again_not_a_failure() -> None:
    result = core.ActionResult(Remove(container(0), "scaled down"), "no such container",
                               vanished=True)
    after = core.after_actions([result], desired=desired(1), restarts={}, held_slots=frozenset(),
                               rollout=rollout(), policy=POLICY, backoff=core.BackoffPolicy(),
                               now=T0, current=True)
    assert after.failure is None and after.events == ()


def test_a_permanent_error_fails_only_the_desired_state_it_was_for() -> None:
    create = Create(0, "h1", "web.0.x", "missing replica")
    result = core.ActionResult(create, "invalid reference format", temporary=False)
    args = dict(desired=desired(1), restarts={}, held_slots=frozenset({0}), rollout=rollout(),
                policy=POLICY, backoff=core.BackoffPolicy(), now=T0)
    assert core.after_actions([result], current=True, **args).failure.reason == (
        "invalid reference format")
    assert core.after_actions([result], current=False, **args).failure is None


# ---- properties ------------------------------------------------------------------------

HEALTH = st.sampled_from(["none", "starting", "healthy", "unhealthy"])
STATE = st.sampled_from(["created", "running", "exited", "restarting", "removing"])


@st.composite
def groups(draw) -> core.Group:
    hs = [host(f"h{i}", draw(st.sampled_from(list(HostState))),
               schedulable=draw(st.booleans()))
          for i in range(draw(st.integers(1, 3)))]
    n = draw(st.integers(0, 4))
    ports = PORT if draw(st.booleans()) else Placement()
    d = desired(n, placement=ports, max_unavailable=draw(st.integers(0, 1)),
                deleting=draw(st.booleans()))
    observed = [
        container(draw(st.integers(0, 5)), template=draw(st.sampled_from([OLD, d.template_hash])),
                  host=draw(st.sampled_from([h.name for h in hs])), state=draw(STATE),
                  health=draw(HEALTH), exit_code=1, started_at=at(draw(st.integers(0, 100))),
                  finished_at=at(draw(st.integers(0, 100))))
        for _ in range(draw(st.integers(0, 6)))
    ]
    active = None
    if draw(st.booleans()):
        active = rollout(draw(st.sampled_from(list(RolloutKind))),
                         draw(st.sampled_from([RolloutState.PENDING, RolloutState.IN_PROGRESS])),
                         to=draw(st.sampled_from([1, 2])),
                         mark=draw(st.none() | st.just(Mark(0, 2, T0))))
    return group(d, observed, hs, now=at(draw(st.integers(0, 200))), rollout=active,
                 failed=draw(st.none() | st.just("it broke")))


def _valid_chain(start: RolloutState, steps) -> bool:
    state = start
    for step in steps:
        if not rules.allowed(state, step.state):
            return False
        state = step.state
    return True


@settings(max_examples=400, deadline=None)
@given(groups(), st.none() | st.builds(core.Candidate, st.integers(1, 3), st.booleans()))
def test_every_decision_is_consistent(g: core.Group, candidate) -> None:
    d = core.decide(g)
    # Exactly one way the pass goes on: act, wait, or end.
    assert d.plan.empty or d.wake_at is None
    if d.failure is not None:
        assert d.plan.empty and g.rollout is not None and not d.delete_group
        settled = core.settle(d.failure, candidate, now=g.now, hosts=g.hosts)
        assert _valid_chain(g.rollout.state, settled.transitions)
        assert settled.transitions[-1].state in (RolloutState.FAILED, RolloutState.ROLLED_BACK)
        if settled.roll_back_to is not None:
            # Only to a different revision of a different spec, and only when asked.
            assert d.failure.wants_rollback and candidate is not None
            assert not candidate.same_spec and candidate.revision != g.desired.revision
            assert settled.failed is None
        else:
            assert settled.failed
    if d.rollout is not None:
        assert g.rollout is not None
        assert _valid_chain(g.rollout.state, d.rollout.transitions)
        if RolloutState.SUCCEEDED in states(d.rollout.transitions):
            assert d.converged and (g.desired.deleting
                                    or g.rollout.to_revision == g.desired.revision)
        assert d.rollout.mark.ready >= (g.rollout.mark.ready if g.rollout.mark else 0)
    if d.converged:
        assert d.plan.empty
    if d.status is not None and d.status.phase is Phase.AVAILABLE:
        assert d.converged


@settings(max_examples=200, deadline=None)
@given(groups())
def test_deciding_twice_on_the_same_view_decides_the_same(g: core.Group) -> None:
    assert core.decide(g) == core.decide(g)


# unplaceable must agree with what the planner can do; ports are the only limit here.
OLDER = "0lder0lder0lder0lder0lder0lder"
SERVING = ("running", "none")


@st.composite
def port_worlds(draw):
    n_hosts = draw(st.integers(1, 3))
    names = [f"h{i}" for i in range(n_hosts)]
    n = draw(st.integers(1, n_hosts + 1))
    new_port = draw(st.sampled_from([80, 81]))
    surge, unav = draw(st.tuples(st.integers(0, 2), st.integers(0, 2))
                       .filter(lambda t: t != (0, 0)))
    d = desired(n, max_surge=surge, max_unavailable=unav,
                placement=Placement(host_ports=((new_port, "tcp"),)))
    observed = []
    for slot in range(min(n, n_hosts)):
        # Mid-way through earlier rollouts: each slot of any template; old ones publish
        # the new port, another one, or none, and may be failing or stopped.
        template = draw(st.sampled_from([OLD, OLDER, d.template_hash]))
        port = (new_port if template == d.template_hash
                else draw(st.sampled_from([None, 80, 81])))
        state, health = draw(st.sampled_from(
            [SERVING] * 4 + [("running", "unhealthy"), ("exited", "none"), ("created", "none")]))
        observed.append(container(slot, template=template, host=draw(st.sampled_from(names)),
                                  host_ports=((port, "tcp"),) if port else (), state=state,
                                  health=health, exit_code=0, started_at=at(-100),
                                  finished_at=at(-50)))
    # What an engine allows: one container per port per host.
    published = [(c.host, p) for c in observed for p in c.host_ports]
    assume(len(published) == len(set(published)))
    return d, observed, [host(h) for h in names]


@settings(max_examples=500, deadline=None)
@given(port_worlds())
def test_unplaceable_is_what_the_planner_cannot_get_past(world) -> None:
    d, observed, hs = world
    sim = Sim(d, list(observed), hs)
    said = []  # what unplaceable says at each pass on the way
    for _ in range(60):
        said.append(core.unplaceable(core.Group(desired=d, observed=tuple(sim.observed),
                                                hosts=tuple(sim.hosts), now=sim.now)))
        p = sim.step()
        if p.empty and p.wake_at is None:
            break
    converged = summarize(d, sim.observed, sim.hosts, now=sim.now).converged
    # Never on a way the planner gets to the end: it would fail (and roll back) a
    # rollout that was going to succeed.
    assert not (converged and any(said)), said
    # Where every old replica serves, it is said from the first pass whenever the
    # planner cannot get there (the rollout does not wait out its deadline for it).
    if all((c.state, c.health) == SERVING for c in observed):
        assert converged or said[0], said
