"""Secret values are registered for redaction where they are sealed and opened (issue 10):
a process that only reads a revision, or a host's key, from the database redacts them."""

from __future__ import annotations

import sqlalchemy as sa

from app import logs
from app.db import session_scope
from app.models import Revision


def _forget_all() -> None:
    with logs._lock:
        logs._secrets.clear()
        logs._pattern = None


def test_a_secret_written_is_redacted(client) -> None:
    _forget_all()
    r = client.put("/v1/deployments/web", json={"image": "moorage-test/web:v1",
                                               "secrets": {"DB_PASSWORD": "hunter2-written"}})
    assert r.status_code == 201, r.text
    assert logs.redact("connecting with hunter2-written") == "connecting with ***"


def test_a_secret_read_back_is_redacted(client) -> None:
    client.put("/v1/deployments/web", json={"image": "moorage-test/web:v1",
                                           "secrets": {"DB_PASSWORD": "hunter2-read-back"}})
    _forget_all()  # as in a worker process that never saw the request
    with session_scope() as session:
        rev = session.scalar(sa.select(Revision))
        assert rev.secrets == {"DB_PASSWORD": "hunter2-read-back"}
    assert logs.redact("env DB_PASSWORD=hunter2-read-back") == "env DB_PASSWORD=***"
