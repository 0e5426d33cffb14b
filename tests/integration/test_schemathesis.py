"""Schemathesis against the live app (served by uvicorn in this process, on the real Postgres and Redis), with the
run's admin token, over every operation: never a 500, and every answer matches the schema
(body, status code, content type). Cases it found are regular tests in
tests/integration/test_found_by_schemathesis.py.

Four adjustments keep it fast, finite and true, and are the only ones:
- no `Accept: text/event-stream` on list_events (that is an endless SSE stream; the JSON
  page is fuzzed, the stream has its own tests);
- no `follow=true` on get_logs, for the same reason (tests/e2e/test_cli.py follows logs);
- `?wait=` of get_rollout is capped at 0.5 s (a long poll, by design, holds the request);
- healthz_workers may answer 503: no worker or beat runs here, and that is its documented
  answer then (its body is still checked against the schema; tests/integration/
  test_liveness.py runs real ones).
A deployment named `web` exists in each test's fresh tables.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import schemathesis
import uvicorn
from hypothesis import HealthCheck, Phase, settings
from schemathesis.checks import (
    content_type_conformance,
    not_a_server_error,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from tests.conftest import AUTH
from tests.support.ports import free_port

CHECKS = [not_a_server_error, response_schema_conformance, status_code_conformance,
          content_type_conformance, response_headers_conformance]
SEED_SPEC = {"image": "moorage-test/web:v1", "replicas": 2, "env": {"MODE": "a"}}
# The committed schema (`make client-check` keeps it equal to the app's), sent to the app.
schema = schemathesis.openapi.from_path(
    Path(__file__).resolve().parents[2] / "clients" / "openapi.json")


@pytest.fixture(scope="module")
def server(postgres: str, redis_broker: str) -> Iterator[str]:
    """The app served by uvicorn in a thread of this process, on a free port."""
    from app.main import create_app
    from tests.conftest import ensure_bootstrap_token

    ensure_bootstrap_token()
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(create_app(), host="127.0.0.1", port=port,
                                           log_level="warning", lifespan="on"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        assert time.monotonic() < deadline and thread.is_alive(), "uvicorn did not start"
        time.sleep(0.05)
    assert httpx.get(f"http://127.0.0.1:{port}/openapi.json").json() == schema.raw_schema, (
        "clients/openapi.json is stale: run `make client`")
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(10)


@pytest.fixture
def live_app(server: str, clean_db) -> str:
    """Emptied tables for each operation, with `web`."""
    with httpx.Client(base_url=server, headers=AUTH) as c:
        r = c.put("/v1/deployments/web", json=SEED_SPEC)
        assert r.status_code == 201, r.text
    return server


@schema.parametrize()
@settings(max_examples=10, deadline=None, derandomize=True, database=None,
          suppress_health_check=list(HealthCheck),
          phases=[Phase.explicit, Phase.generate])
def test_api(case: schemathesis.Case, live_app: str) -> None:
    if case.headers:
        for key in [k for k in case.headers if k.lower() == "accept"]:
            if "event-stream" in str(case.headers[key]).lower():
                del case.headers[key]
    if case.operation.definition.raw.get("operationId") == "get_logs" and case.query:
        case.query.pop("follow", None)
    if case.operation.definition.raw.get("operationId") == "get_rollout" and case.query:
        wait = case.query.get("wait")
        if isinstance(wait, int | float) and not isinstance(wait, bool) and wait > 0.5:
            case.query["wait"] = 0.5
    # The client's own token header, except for the webhook trigger (no bearer token).
    headers = {} if case.operation.path == "/v1/hooks/{webhook_id}" else AUTH
    checks = CHECKS
    if case.operation.definition.raw.get("operationId") == "healthz_workers":
        checks = [c for c in CHECKS if c is not not_a_server_error]
    case.call_and_validate(base_url=live_app, headers=headers, checks=checks, timeout=10)
