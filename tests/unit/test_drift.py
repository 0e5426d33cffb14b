"""The drift check of settled deployments, without I/O: which ones the engines contradict."""

from __future__ import annotations

from app.reconcile.drift import Recorded, Settled, drifted

USABLE = frozenset({"a", "b"})


def settled(dep="d1", replicas=1, *recorded):
    return Settled(dep, replicas, tuple(recorded) or (Recorded("a", "c1", "running"),))


def test_nothing_drifted_when_the_engines_agree_with_the_records() -> None:
    deps = [settled("d1"), settled("d2", 2, Recorded("a", "c2", "running"),
                                   Recorded("b", "c3", "running"))]
    listed = {"a": [("c1", "d1", "running"), ("c2", "d2", "running"),
                    ("x9", "other", "exited")],  # not settled: not this check's
              "b": [("c3", "d2", "running")]}
    assert drifted(deps, listed, USABLE) == set()


def test_a_container_that_died_or_went_wakes_its_deployment() -> None:
    assert drifted([settled()], {"a": [("c1", "d1", "exited")], "b": []}, USABLE) == {"d1"}
    assert drifted([settled()], {"a": [], "b": []}, USABLE) == {"d1"}


def test_a_container_replaced_or_added_behind_moorage_wakes_it() -> None:
    assert drifted([settled()], {"a": [("c7", "d1", "running")], "b": []}, USABLE) == {"d1"}
    assert drifted([settled()], {"a": [("c1", "d1", "running")],
                                 "b": [("c8", "d1", "running")]}, USABLE) == {"d1"}


def test_a_replica_on_a_host_not_listed_or_not_usable_wakes_it() -> None:
    # The host did not answer: the pass sees it unreachable and decides.
    assert drifted([settled()], {"b": []}, USABLE) == {"d1"}
    # Drained (not schedulable) or no longer ready: its replicas may have to move.
    assert drifted([settled()], {"a": [("c1", "d1", "running")]}, frozenset({"b"})) == {"d1"}


def test_records_that_do_not_add_up_to_the_desired_count_wake_it() -> None:
    assert drifted([settled("d1", 2)], {"a": [("c1", "d1", "running")]}, USABLE) == {"d1"}
    stopped = settled("d1", 1, Recorded("a", "c1", "exited"))
    assert drifted([stopped], {"a": [("c1", "d1", "running")]}, USABLE) == {"d1"}


def test_a_settled_deployment_of_no_replicas_wakes_only_for_a_container() -> None:
    none = Settled("d0", 0, ())
    assert drifted([none], {"a": [], "b": []}, USABLE) == set()
    assert drifted([none], {"a": [("c5", "d0", "running")]}, USABLE) == {"d0"}
