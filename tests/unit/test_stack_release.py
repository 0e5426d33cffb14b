"""The stack release core (app.reconcile.stacks): conditions, order, the step's decision
and the status, table-tested, with properties over random dependency graphs."""

from __future__ import annotations

from dataclasses import replace

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from app.reconcile import stacks as core
from app.reconcile.stacks import COMPLETED, HEALTHY, STARTED, ServiceView
from app.reconcile.vocabulary import Phase, RolloutState

S = RolloutState

NOT_APPLIED = ServiceView("db")
ROLLING = ServiceView("db", applied=True, rollout=S.IN_PROGRESS, phase=Phase.PROGRESSING,
                      replicas=2, ready=0)
ONE_UP = replace(ROLLING, ready=1)
SUCCEEDED = ServiceView("db", applied=True, rollout=S.SUCCEEDED, phase=Phase.AVAILABLE,
                        replicas=2, ready=2)
UNCHANGED_AVAILABLE = ServiceView("db", applied=True, phase=Phase.AVAILABLE, replicas=1, ready=1)
UNCHANGED_DEGRADED = ServiceView("db", applied=True, phase=Phase.DEGRADED, replicas=2, ready=1)
COMPLETED_OK = ServiceView("db", applied=True, rollout=S.IN_PROGRESS, phase=Phase.PROGRESSING,
                           completed=True)
FAILED = ServiceView("db", applied=True, rollout=S.FAILED, phase=Phase.FAILED, ready=1)


@pytest.mark.parametrize(("view", "started", "healthy", "completed"), [
    (NOT_APPLIED, False, False, False),
    (ROLLING, False, False, False),
    (ONE_UP, True, False, False),
    (SUCCEEDED, True, True, False),
    (UNCHANGED_AVAILABLE, True, True, False),
    (UNCHANGED_DEGRADED, True, False, False),
    (COMPLETED_OK, True, False, True),
    (FAILED, False, False, False),
])
def test_conditions(view, started, healthy, completed):
    assert core.satisfied(view, STARTED) is started
    assert core.satisfied(view, HEALTHY) is healthy
    assert core.satisfied(view, COMPLETED) is completed


def test_order_is_in_waves():
    assert core.order({"web": ["db", "queue"], "db": [], "queue": ["db"], "cron": []}) == [
        ["cron", "db"], ["queue"], ["web"]]


def web(**kw) -> ServiceView:
    return ServiceView("web", depends_on=(("db", HEALTHY),), **kw)


def test_a_first_step_applies_what_depends_on_nothing():
    d = core.decide([NOT_APPLIED, web()], rollback_target=None)
    assert d.apply == ("db",) and d.outcome is None
    assert d.message == "web waits for db (service_healthy)"
    assert d.status.phase == Phase.PROGRESSING


def test_a_dependent_waits_for_its_condition_then_is_applied():
    assert core.decide([ROLLING, web()], rollback_target=None).apply == ()
    assert core.decide([ONE_UP, web()], rollback_target=None).apply == ()  # started, not healthy
    assert core.decide([SUCCEEDED, web()], rollback_target=None).apply == ("web",)


def test_success_when_every_service_is_done():
    done = web(applied=True, rollout=S.SUCCEEDED, phase=Phase.AVAILABLE, replicas=1, ready=1)
    d = core.decide([SUCCEEDED, done], rollback_target=3)
    assert d.outcome == S.SUCCEEDED and d.apply == ()
    assert d.status.phase == Phase.AVAILABLE
    assert [(s.name, s.ready) for s in d.status.services] == [("db", 2), ("web", 1)]


@pytest.mark.parametrize(("action", "target", "outcome", "says"), [
    ("rollback", 3, S.ROLLED_BACK, "rolling the stack back to revision 3"),
    ("rollback", None, S.FAILED, "nothing to roll back to"),
    ("pause", 3, S.FAILED, "failure_action pause"),
])
def test_a_failed_service_ends_the_release(action, target, outcome, says):
    failed = replace(FAILED, failure_action=action, rollout_message="image web:bad exits")
    d = core.decide([failed, web()], rollback_target=target)
    assert d.outcome == outcome and d.apply == ()
    assert "service db failed: image web:bad exits" in d.message and says in d.message
    assert d.roll_back_to == (target if outcome == S.ROLLED_BACK else None)


def test_status_aggregates():
    assert core.status([SUCCEEDED, UNCHANGED_AVAILABLE], releasing=False).phase == Phase.AVAILABLE
    degraded = core.status([SUCCEEDED, replace(UNCHANGED_DEGRADED, name="web", message="x")],
                           releasing=False)
    assert degraded.phase == Phase.DEGRADED and degraded.message == "web: 1/2 ready; x"
    failed = core.status([replace(FAILED, rollout_message="boom")], releasing=False)
    assert failed.phase == Phase.FAILED and failed.message == "db: boom"
    assert core.status([SUCCEEDED], releasing=False, deleting=True).phase == Phase.DELETING


# ---- properties over random graphs ------------------------------------------------------


@st.composite
def graphs(draw) -> dict[str, list[tuple[str, str]]]:
    n = draw(st.integers(1, 7))
    names = [f"s{i}" for i in range(n)]
    # A service is long-running (becomes healthy) or one-shot (completes); a dependent
    # asks for what it can give. Edges only to earlier names: acyclic, as a checked file is.
    one_shot = {name: draw(st.booleans()) for name in names}
    graph: dict[str, list[tuple[str, str]]] = {}
    for i, name in enumerate(names):
        deps = draw(st.lists(st.sampled_from(names[:i]), unique=True)) if i else []
        graph[name] = [(dep, draw(st.sampled_from([STARTED, COMPLETED if one_shot[dep] else HEALTHY])))
                       for dep in deps]
    graph["one-shot"] = [(n, "") for n in names if one_shot[n]]  # not a service: a note
    return graph


@settings(max_examples=200, deadline=None)
@given(graphs(), st.data())
def test_a_release_applies_each_service_once_and_only_after_its_dependencies(graph, data):
    one_shot = {n for n, _ in graph.pop("one-shot")}
    views = {n: ServiceView(n, depends_on=tuple(deps)) for n, deps in graph.items()}
    applied_order: list[str] = []
    for _ in range(4 * len(graph) + 2):
        d = core.decide(list(views.values()), rollback_target=None)
        assert not set(d.apply) & set(applied_order), "a service applied twice"
        for name in d.apply:
            for dep, condition in views[name].depends_on:
                assert core.satisfied(views[dep], condition)
            applied_order.append(name)
            views[name] = replace(views[name], applied=True, rollout=S.IN_PROGRESS)
        # The same views decided again apply nothing new: a step may run any number of times.
        assert core.decide(list(views.values()), rollback_target=None).apply == ()
        if d.outcome == S.SUCCEEDED:
            break
        # Some applied service makes progress: started, then done (healthy or completed).
        moving = [v for v in views.values() if v.applied and not v.done]
        if moving:
            v = data.draw(st.sampled_from(moving))
            if v.ready == 0:
                views[v.name] = replace(v, ready=1)
            elif v.name not in one_shot:
                views[v.name] = replace(v, rollout=S.SUCCEEDED, phase=Phase.AVAILABLE)
            else:
                views[v.name] = replace(v, completed=True)
    assert sorted(applied_order) == sorted(graph)
    assert core.decide(list(views.values()), rollback_target=None).outcome == S.SUCCEEDED


@settings(max_examples=100, deadline=None)
@given(graphs(), st.data())
def test_any_failure_with_rollback_ends_it_with_the_target(graph, data):
    graph.pop("one-shot")
    names = sorted(graph)
    failing = data.draw(st.sampled_from(names))
    views = [ServiceView(n, depends_on=tuple(graph[n]), applied=n == failing,
                         rollout=S.FAILED if n == failing else None) for n in names]
    d = core.decide(views, rollback_target=7)
    assert d.outcome == S.ROLLED_BACK and d.roll_back_to == 7 and d.apply == ()


def test_a_one_shot_that_completed_is_done_even_if_its_rollout_then_fails():
    migrate = ServiceView("migrate", applied=True, rollout=S.FAILED, completed=True,
                          phase=Phase.FAILED)
    d = core.decide([migrate, ServiceView("web", depends_on=(("migrate", COMPLETED),))],
                    rollback_target=1)
    assert d.outcome is None and d.apply == ("web",)


def test_an_unchanged_service_that_had_failed_ends_the_release():
    stuck = ServiceView("db", applied=True, phase=Phase.FAILED, message="db:v1 crashes")
    d = core.decide([stuck, web()], rollback_target=2)
    assert d.outcome == S.ROLLED_BACK and "service db failed: db:v1 crashes" in d.message


def test_a_release_that_cannot_move_by_itself_ends_past_the_deadline():
    degraded = ServiceView("db", applied=True, phase=Phase.DEGRADED, replicas=2, ready=1)
    views = [degraded, web()]
    assert core.decide(views, rollback_target=2, stalled_s=30, deadline_s=60).outcome is None
    d = core.decide(views, rollback_target=2, stalled_s=61, deadline_s=60)
    assert d.outcome == S.ROLLED_BACK and d.roll_back_to == 2
    assert d.message.startswith("no progress for 60 s: db is degraded (1/2 ready); "
                                "web waits for db (service_healthy)")
    # A service rolling out has a deadline of its own: the stack's does not preempt it.
    rolling = replace(degraded, rollout=S.IN_PROGRESS, phase=Phase.PROGRESSING)
    assert core.decide([rolling, web()], rollback_target=2, stalled_s=999,
                       deadline_s=60).outcome is None


def test_the_progress_mark_grows_with_applies_and_completions():
    assert core.progress_mark([NOT_APPLIED, web()]) == 0
    assert core.progress_mark([ROLLING, web()]) == 1
    assert core.progress_mark([SUCCEEDED, web(applied=True, rollout=S.IN_PROGRESS)]) == 3
