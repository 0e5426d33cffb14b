"""Schemathesis against the live app (in-process ASGI, real Postgres and Redis), with the
run's admin token, over every operation: never a 500, and every answer matches the schema
(body, status code, content type). Cases it found are regular tests in
tests/integration/test_found_by_schemathesis.py.

Two adjustments keep it fast and finite, and are the only ones:
- no `Accept: text/event-stream` on list_events (that is an endless SSE stream; the JSON
  page is fuzzed, the stream has its own tests);
- `?wait=` of get_rollout is capped at 0.5 s (a long poll, by design, holds the request).
A deployment named `web` (the example of every `{name}`) exists, so the explicit examples
reach the handlers, not just the 404 path.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, settings
from schemathesis.checks import (
    content_type_conformance,
    not_a_server_error,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from tests.conftest import AUTH

CHECKS = [not_a_server_error, response_schema_conformance, status_code_conformance,
          content_type_conformance, response_headers_conformance]
SEED_SPEC = {"image": "moorage-test/web:v1", "replicas": 2, "env": {"MODE": "a"}}
# The committed schema (`make client-check` keeps it equal to the app's), sent to the app.
schema = schemathesis.openapi.from_path(
    Path(__file__).resolve().parents[2] / "clients" / "openapi.json")


@pytest.fixture(autouse=True)
def live_app(clean_db) -> Iterator[None]:
    """A fresh app on emptied tables for each operation, with `web` (two revisions)."""
    from fastapi.testclient import TestClient

    from app.main import create_app

    app = create_app()
    with TestClient(app, headers=AUTH) as c:
        assert c.get("/openapi.json").json() == schema.raw_schema, "run `make client`"
        r = c.put("/v1/deployments/web", json=SEED_SPEC)
        assert r.status_code == 201, r.text
        r = c.put("/v1/deployments/web", json={**SEED_SPEC, "env": {"MODE": "b"}})
        assert r.status_code == 200, r.text
    schema.app = app  # schemathesis calls it in-process (ASGI transport)
    yield


@schema.parametrize()
@settings(max_examples=15, deadline=None, derandomize=True, database=None,
          suppress_health_check=list(HealthCheck),
          phases=[Phase.explicit, Phase.generate])
def test_api(case: schemathesis.Case) -> None:
    if case.headers:
        for key in [k for k in case.headers if k.lower() == "accept"]:
            if "event-stream" in str(case.headers[key]).lower():
                del case.headers[key]
    if case.operation.definition.raw.get("operationId") == "get_rollout" and case.query:
        wait = case.query.get("wait")
        if isinstance(wait, int | float) and not isinstance(wait, bool) and wait > 0.5:
            case.query["wait"] = 0.5
    headers = {**AUTH} if case.operation.path != "/v1/hooks/{webhook_id}" else {}
    case.call_and_validate(headers=headers, checks=CHECKS)
