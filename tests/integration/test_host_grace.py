"""The heartbeat loses a host at the end of its grace, counted from its last answer, with a
check of its own at that moment when it falls between two ticks (issue 14, part 5)."""

from __future__ import annotations

import uuid
from datetime import timedelta

NO_ENGINE = "unix:///tmp/moorage-nonexistent-engine.sock"


def _host(answered_ago_s: float) -> str:
    from app.db import session_scope, utcnow
    from app.models import Host

    name = f"grace-{uuid.uuid4().hex[:8]}"
    now = utcnow()
    with session_scope() as session:
        session.add(Host(name=name, url=NO_ENGINE, labels={}, state="ready", schedulable=True,
                         resource_version=1, created_at=now, updated_at=now,
                         last_heartbeat_at=now - timedelta(seconds=answered_ago_s)))
    return name


def _row(name: str):
    from app.db import session_scope
    from app.repositories import hosts as host_repo

    with session_scope() as session:
        host = host_repo.find_by_name(session, name)
        session.expunge(host)
    return host


def test_the_grace_counts_from_the_last_answer_and_ends_with_a_check_of_its_own(
    clean_db: None,
) -> None:
    from app.config import get_settings
    from app.db import session_scope
    from app.repositories import hosts as host_repo
    from app.services import hosts as host_service

    settings = get_settings()
    grace, tick = settings.host_grace_s, settings.heartbeat_interval_s
    name = _host(answered_ago_s=tick / 2)  # it answered the last tick, then went
    bystander = _host(answered_ago_s=0)
    answered = _row(name).last_heartbeat_at

    beat = host_service.heartbeat_all(only=[name])
    host = _row(name)
    assert host.state == "unreachable" and host.lost_at is None
    assert host.unreachable_since == answered  # not this tick: its last answer
    assert beat.recheck == {}  # the ticks to come see the grace end in time
    # Only the host asked about was pinged: the other's row is as it was.
    other = _row(bystander)
    assert other.state == "ready" and other.last_error is None

    def age_outage(by_s: float) -> None:  # as if that many seconds had passed
        with session_scope() as session:
            row = host_repo.find_by_name(session, name)
            row.unreachable_since = row.unreachable_since - timedelta(seconds=by_s)

    # A tick where the grace ends before the next one: a check at its end is asked for.
    age_outage(grace - tick)  # its grace now ends half a tick from now
    since = _row(name).unreachable_since
    beat = host_service.heartbeat_all(only=[name])
    assert _row(name).lost_at is None
    assert beat.recheck == {name: since + timedelta(seconds=grace)}

    # That check, at the grace's end, loses it.
    age_outage(tick / 2 + 0.2)
    beat = host_service.heartbeat_all(only=[name])
    host = _row(name)
    assert host.lost_at is not None and beat.recheck == {}
    # Once: the next check changes nothing.
    host_service.heartbeat_all(only=[name])
    assert _row(name).lost_at == host.lost_at
