"""Moving replicas between hosts: drain, constraint changes, lost hosts, shared capacity."""

from __future__ import annotations

from app.reconcile.host_access import Bind
from app.reconcile.planner import plan
from app.reconcile.types import Create, HostLoad, HostState, Placement, Remove
from tests.unit.factories import at, container, desired, host


def creates(p) -> list[Create]:
    return [a for a in p.actions if isinstance(a, Create)]


def removes(p) -> list[Remove]:
    return [a for a in p.actions if isinstance(a, Remove)]


def test_drained_host_gets_a_replacement_before_its_replica_goes() -> None:
    hosts = [host("h1", schedulable=False), host("h2")]
    observed = [container(0, host="h1"), container(1, host="h2")]
    first = plan(desired(2), observed, hosts, now=at(10))
    assert [(a.slot, a.host) for a in creates(first)] == [(0, "h2")]
    assert removes(first) == []  # max_unavailable 0: the old one stays until the new is ready

    moved = container(0, host="h2", started_at=at(10))
    second = plan(desired(2), [*observed, moved], hosts, now=at(11))
    assert [(a.container.host, a.container.slot) for a in removes(second)] == [("h1", 0)]
    assert creates(second) == []


def test_changed_constraint_moves_replicas_to_matching_hosts() -> None:
    hosts = [host("h1", labels={"region": "us"}), host("h2", labels={"region": "eu"})]
    want = desired(1, placement=Placement(constraints=("region==eu",)))
    p = plan(want, [container(0, host="h1")], hosts, now=at(10))
    assert [(a.slot, a.host) for a in creates(p)] == [(0, "h2")]


def test_draining_with_nowhere_to_go_keeps_the_replica_and_says_why() -> None:
    hosts = [host("h1", schedulable=False)]
    p = plan(desired(1), [container(0, host="h1")], hosts, now=at(10))
    assert p.actions == ()
    assert p.pending and "not schedulable" in p.pending[0]


def test_unreachable_host_holds_its_slots_until_lost() -> None:
    observed = [container(0, host="h1"), container(1, host="h2")]
    unreachable = [host("h1", HostState.UNREACHABLE), host("h2")]
    assert plan(desired(2), observed, unreachable, now=at(10)).actions == ()

    lost = [host("h1", HostState.LOST), host("h2")]
    p = plan(desired(2), observed, lost, now=at(10))
    assert [(a.slot, a.host) for a in creates(p)] == [(0, "h2")]
    # Said apart from a replica that vanished behind Moorage's back (no ReplicaMissing).
    assert creates(p)[0].reason == "replacing the one on lost host h1"
    assert removes(p) == []  # nothing can be done on a lost host


def test_returned_host_duplicates_are_removed_keeping_the_running_one() -> None:
    stale = container(0, host="h1", state="exited", exit_code=0, container_id="stale")
    fresh = container(0, host="h2", container_id="fresh")
    p = plan(desired(1), [stale, fresh], [host("h1"), host("h2")], now=at(10))
    assert [a.container.container_id for a in removes(p)] == ["stale"]
    assert creates(p) == []


def test_capacity_is_shared_with_other_deployments() -> None:
    hosts = [host("h1", memory_bytes=1024), host("h2", memory_bytes=1024)]
    loads = {"h1": HostLoad(containers=3, memory_bytes=1000)}
    want = desired(2, placement=Placement(memory_bytes=512))
    p = plan(want, [], hosts, now=at(0), loads=loads)
    assert [a.host for a in creates(p)] == ["h2", "h2"]


def test_old_replicas_still_warming_up_are_not_thrown_away() -> None:
    # v1 started 0.5 s ago; the new revision asks min_ready_s=1: v1 is not ready *yet*,
    # but removing it for free would take availability down to zero.
    from tests.unit.factories import OLD

    want = desired(2, min_ready_s=1.0)
    observed = [container(s, template=OLD, started_at=at(9.5)) for s in range(2)]
    p = plan(want, observed, [host("h1")], now=at(10))
    assert removes(p) == []
    assert len(creates(p)) == 1  # one surge container, as the strategy allows


# ---- host paths: a host whose allow list no longer has them ---------------------------------

WEB = Bind(0, "/srv/web")


def test_a_narrowed_allow_list_moves_the_replica_to_a_host_that_allows_it() -> None:
    hosts = [host("h1"), host("h2", bind_allow=("/srv/web",))]  # h1 no longer lists it
    want = desired(1, placement=Placement(binds=(WEB,)))
    p = plan(want, [container(0, host="h1")], hosts, now=at(10))
    assert [(a.slot, a.host) for a in creates(p)] == [(0, "h2")]
    assert removes(p) == []  # replacement first, as for a drain


def test_a_bind_no_host_allows_is_never_created_and_the_plan_says_why() -> None:
    hosts = [host("h1", bind_allow=("/srv:ro",)), host("h2")]
    for bind in (WEB, Bind(0, "/../../etc", problem="'..' is not allowed in a host path")):
        p = plan(desired(2, placement=Placement(binds=(bind,))), [], hosts, now=at(10))
        assert creates(p) == []
        assert p.pending and bind.source in p.pending[0], p.pending
    # Nor is a crashed replica recreated where the bind is no longer allowed.
    crashed = container(0, host="h1", state="exited", exit_code=1, started_at=at(0))
    p = plan(desired(1, placement=Placement(binds=(WEB,))), [crashed], hosts, now=at(100))
    assert creates(p) == []
