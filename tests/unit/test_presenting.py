"""A deployment's JSON is kept between reads (``presenters.deployment_json``): whatever
changes in its view, what is answered is what presenting it afresh gives; only an equal
view reuses the bytes. A page assembled from kept items is the page pydantic renders."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from app.api import presenters
from app.api.responses import as_json, page_json
from app.config import get_settings
from app.reconcile.endpoints import EdgeView
from app.repositories.deployments import DeploymentView, RolloutRow, UsageRow
from app.schemas.common import Page
from app.schemas.deployments import DeploymentRead

T0 = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)
ID = uuid.UUID(int=1)


def view(**changes) -> DeploymentView:
    base = DeploymentView(
        id=ID, name="web", revision=3, resource_version=7, phase="available", replicas=2,
        autoscale=None, ready_replicas=2, updated_replicas=2, unavailable_replicas=0,
        observed_revision=3, message="", conditions=[
            {"type": "Available", "status": True, "reason": "MinimumReplicasAvailable",
             "message": "2/2 ready"}],
        endpoint_listen_port=None, endpoint_state=None, created_at=T0, updated_at=T0,
        spec={"image": "web:v1", "env": {"A": "1"}}, secret_keys=["TOKEN"], stack=None,
        rollout=RolloutRow(uuid.UUID(int=2), "web", "update", 2, 3, "succeeded", 2, 2, 2, 0,
                           "done", T0, T0, T0 + timedelta(seconds=5)),
        usage=UsageRow(12.5, 1 << 20, 2, T0),
    )
    return base._replace(**changes)


def fresh(v: DeploymentView, edges=()) -> bytes:
    shown = presenters.deployment(v, None, edges)
    return shown.__pydantic_serializer__.to_json(shown, by_alias=True)


@pytest.fixture(autouse=True)
def _nothing_kept():
    presenters.forget_specs()
    yield
    presenters.forget_specs()


CHANGES = st.fixed_dictionaries({}, optional={
    "phase": st.sampled_from(["progressing", "available", "degraded", "failed"]),
    "ready_replicas": st.integers(0, 3),
    "unavailable_replicas": st.integers(0, 3),
    "observed_revision": st.none() | st.integers(1, 3),
    "message": st.text(max_size=8),
    "resource_version": st.integers(7, 9),
    "updated_at": st.sampled_from([T0, T0 + timedelta(seconds=1)]),
    "conditions": st.none() | st.just([{"type": "Progressing", "status": False,
                                        "reason": "Idle", "message": ""}]),
    "stack": st.none() | st.just("shop"),
    "rollout": st.none() | st.builds(
        lambda state, ready: view().rollout._replace(state=state, ready=ready),
        st.sampled_from(["in_progress", "succeeded", "rolled_back"]), st.integers(0, 2)),
    "usage": st.none() | st.builds(UsageRow, st.floats(0, 400, allow_nan=False),
                                   st.integers(0, 1 << 30), st.integers(1, 3), st.just(T0)),
})


@given(st.lists(CHANGES, min_size=1, max_size=8))
def test_what_is_answered_is_the_view_presented_afresh_whatever_changed(steps) -> None:
    for changes in steps:
        v = view(**changes)
        assert presenters.deployment_json(v) == fresh(v)


def test_an_equal_view_reuses_the_kept_bytes_and_a_changed_one_does_not() -> None:
    first = presenters.deployment_json(view())
    assert presenters.deployment_json(view()) is first  # equal, not the same object
    changed = presenters.deployment_json(view(ready_replicas=1))
    assert changed != first and changed == fresh(view(ready_replicas=1))


def test_other_edges_or_other_settings_present_it_again() -> None:
    with_endpoint = view(spec={"image": "web:v1", "endpoint": {"port": 80}},
                         endpoint_listen_port=20001)
    one = [EdgeView.of("edge-1", None, "http://127.0.0.1:2375")]
    two = [*one, EdgeView.of("edge-2", None, "http://127.0.0.2:2375")]
    assert presenters.deployment_json(with_endpoint, None, one) == fresh(with_endpoint, one)
    assert presenters.deployment_json(with_endpoint, None, two) == fresh(with_endpoint, two)
    before = presenters.deployment_json(with_endpoint, None, two)
    get_settings.cache_clear()
    try:
        assert presenters.deployment_json(with_endpoint, None, two) is not before
    finally:
        get_settings.cache_clear()


@pytest.mark.parametrize("cursor", [None, "eyJhZnRlciI6ICJ3ZWIifQ"])
def test_a_page_of_kept_items_is_the_page_pydantic_renders(cursor) -> None:
    views = [view(), view(id=uuid.UUID(int=3), name="api", ready_replicas=0)]
    expected = as_json(Page[DeploymentRead](
        items=[presenters.deployment(v) for v in views], next_cursor=cursor)).body
    assert page_json([presenters.deployment_json(v) for v in views], cursor).body == expected
