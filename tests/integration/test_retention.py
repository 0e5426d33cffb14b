"""Retention: what grows with use is purged by age and count, in bounded batches."""

from __future__ import annotations

from datetime import timedelta

import sqlalchemy as sa

from app.config import Settings
from app.db import session_scope, utcnow
from app.models import Event, Rollout, StackRollout, WebhookDelivery
from app.repositories import deployments as deployment_repo
from app.services import retention

SPEC = {"image": "moorage-test/web:v1", "replicas": 1}


def _settings(**overrides) -> Settings:
    defaults = {"events_per_deployment": 50, "event_retention_days": 14,
                "rollout_retention_days": 30, "delivery_retention_days": 7,
                "deliveries_per_webhook": 20, "purge_batch": 25, "purge_max_batches": 1000}
    return Settings(**{**defaults, **overrides})


def _count(model, *where) -> int:
    with session_scope() as session:
        return session.scalar(sa.select(sa.func.count()).select_from(model).where(*where))


def _deployment(client, name: str):
    assert client.put(f"/v1/deployments/{name}", json=SPEC).status_code == 201
    with session_scope() as session:
        return deployment_repo.find_by_name(session, name).id


def test_events_keep_the_newest_per_deployment_and_nothing_too_old(client) -> None:
    busy, quiet = _deployment(client, "busy"), _deployment(client, "quiet")
    now = utcnow()
    with session_scope() as session:
        for i in range(120):
            session.add(Event(deployment_id=busy, time=now - timedelta(seconds=120 - i),
                              reason="Tick", message=f"busy {i}"))
        session.add(Event(deployment_id=quiet, time=now - timedelta(days=20), reason="Old",
                          message="too old"))
    purged = retention.purge(_settings())

    assert _count(Event, Event.deployment_id == quiet, Event.reason == "Old") == 0
    assert _count(Event, Event.deployment_id == busy) == 50
    with session_scope() as session:
        kept = session.scalars(sa.select(Event.message).where(Event.deployment_id == busy)
                               .order_by(Event.id)).all()
    assert kept[-1] == "busy 119" and kept[0] == "busy 70"  # the newest 50, RevisionCreated gone
    assert purged["events"] == 1 + 71  # the old one; 120 + RevisionCreated - 50
    # The quiet deployment's own RevisionCreated is recent and stays.
    assert _count(Event, Event.deployment_id == quiet) == 1


def test_a_run_is_bounded_and_the_next_goes_on(client) -> None:
    busy = _deployment(client, "busy")
    old = utcnow() - timedelta(days=30)
    with session_scope() as session:
        session.add_all(Event(deployment_id=busy, time=old, reason="Old", message=str(i))
                        for i in range(100))
    first = retention.purge(_settings(purge_batch=10, purge_max_batches=3, events_per_deployment=1000))
    assert first["events"] == 30
    assert _count(Event, Event.reason == "Old") == 70
    while retention.purge(_settings(purge_batch=10, purge_max_batches=3,
                                    events_per_deployment=1000))["events"]:
        pass
    assert _count(Event, Event.reason == "Old") == 0


def test_finished_rollouts_go_but_a_deployments_latest_stays(client) -> None:
    web = _deployment(client, "web")
    client.patch("/v1/deployments/web", json={"replicas": 2},
                 headers={"content-type": "application/merge-patch+json"})
    long_ago = utcnow() - timedelta(days=60)
    with session_scope() as session:
        rollouts = session.scalars(sa.select(Rollout).where(Rollout.deployment_id == web)
                                   .order_by(Rollout.created_at)).all()
        assert len(rollouts) == 2
        for i, r in enumerate(rollouts):
            r.state, r.finished_at = "succeeded", long_ago
            r.created_at = long_ago - timedelta(minutes=10 - i)
        latest_id = rollouts[-1].id
        # One of a deployment deleted long ago (deployment_id set null).
        session.add(Rollout(deployment_id=None, deployment_name="gone", kind="create",
                            to_revision=1, state="succeeded", desired=1,
                            created_at=long_ago, finished_at=long_ago))
    purged = retention.purge(_settings())

    assert purged["rollouts"] == 2
    with session_scope() as session:
        left = session.scalars(sa.select(Rollout.id)).all()
    assert left == [latest_id]
    assert client.get("/v1/deployments/web").json()["current_rollout"]["id"] == str(latest_id)


def test_finished_stack_releases_go_but_a_stacks_latest_stays(client) -> None:
    text = "services:\n  web:\n    image: moorage-test/web:v1\n"
    assert client.put("/v1/stacks/shop", json={"compose": text}).status_code == 201
    assert client.put("/v1/stacks/shop", json={"compose": text.replace("v1", "v2")}).status_code == 200
    long_ago = utcnow() - timedelta(days=60)
    with session_scope() as session:
        releases = session.scalars(sa.select(StackRollout).order_by(StackRollout.created_at)).all()
        assert len(releases) == 2
        for i, r in enumerate(releases):
            r.state, r.finished_at = "succeeded", long_ago
            r.created_at = long_ago - timedelta(minutes=10 - i)
        latest_id = releases[-1].id
    purged = retention.purge(_settings())
    assert purged["stack_rollouts"] == 1
    with session_scope() as session:
        assert session.scalars(sa.select(StackRollout.id)).all() == [latest_id]


def test_deliveries_by_age_and_count_per_hook(client) -> None:
    _deployment(client, "web")
    hook = client.post("/v1/deployments/web/webhooks", json={"kind": "generic"}).json()
    now = utcnow()
    with session_scope() as session:
        for i in range(40):
            session.add(WebhookDelivery(webhook_id=hook["id"], received_at=now - timedelta(minutes=40 - i),
                                        outcome="ignored", reason=str(i)))
        session.add(WebhookDelivery(webhook_id=hook["id"], received_at=now - timedelta(days=8),
                                    outcome="ignored", reason="old"))
    retention.purge(_settings())
    assert _count(WebhookDelivery) == 20
    assert _count(WebhookDelivery, WebhookDelivery.reason == "old") == 0
