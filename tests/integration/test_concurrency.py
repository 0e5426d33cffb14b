"""Concurrent requests against a live API process (uvicorn, real Postgres and Redis).

Threads fire at the same moment (a barrier), each on its own connection, so the
requests really overlap inside the server: what is tested is how the database
serializes them, not how a test client queues them.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.conftest import AUTH, service_env

VENV_BIN = Path(sys.executable).parent
ROUNDS = 12


@pytest.fixture(scope="module")
def live_api(postgres: str, redis_broker: str, tmp_path_factory: pytest.TempPathFactory
             ) -> Iterator[str]:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    workdir = tmp_path_factory.mktemp("live-api")
    env = {**os.environ, **service_env(), "MOORAGE_DATA_DIR": str(workdir / "data")}
    log = open(workdir / "api.log", "wb")  # noqa: SIM115  (closed below)
    proc = subprocess.Popen([str(VENV_BIN / "moorage"), "api", "--port", str(port)], env=env,
                            stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while True:
        try:
            if httpx.get(f"{url}/healthz", timeout=1).status_code == 200:
                break
        except httpx.HTTPError:
            pass
        if proc.poll() is not None or time.monotonic() > deadline:
            raise AssertionError((workdir / "api.log").read_text(errors="replace")[-3000:])
        time.sleep(0.1)
    try:
        yield url
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
        log.close()


def at_once(url: str, n: int, call: Callable[[httpx.Client, int], httpx.Response]
            ) -> list[httpx.Response]:
    """``call(client, i)`` for i in 0..n-1, released together, each on its own warm
    connection."""
    barrier = threading.Barrier(n)

    def one(i: int) -> httpx.Response:
        with httpx.Client(base_url=url, headers=AUTH, timeout=30) as c:
            c.get("/healthz")  # connect first, so the requests leave together
            barrier.wait()
            return call(c, i)

    with ThreadPoolExecutor(n) as pool:
        return list(pool.map(one, range(n)))


def spec(**overrides: Any) -> dict[str, Any]:
    return {"image": "nginx:1.27", "replicas": 1, **overrides}


def test_two_applies_with_the_same_if_match_exactly_one_wins(live_api: str) -> None:
    for _ in range(ROUNDS):
        name = f"race-{uuid.uuid4().hex[:8]}"
        with httpx.Client(base_url=live_api, headers=AUTH) as c:
            created = c.put(f"/v1/deployments/{name}", json=spec())
            assert created.status_code == 201, created.text
            etag = created.headers["ETag"]

        results = at_once(live_api, 2, lambda c, i, name=name, etag=etag: c.put(
            f"/v1/deployments/{name}", json=spec(replicas=2 + i), headers={"If-Match": etag}))

        statuses = sorted(r.status_code for r in results)
        assert statuses == [200, 412], [r.text for r in results]
        winner = next(r for r in results if r.status_code == 200).json()
        loser = next(r for r in results if r.status_code == 412)
        assert loser.headers["content-type"].startswith("application/problem+json")
        with httpx.Client(base_url=live_api, headers=AUTH) as c:
            current = c.get(f"/v1/deployments/{name}").json()
            revisions = c.get(f"/v1/deployments/{name}/revisions").json()["items"]
        # The winner's change, exactly once: one new revision, version 2, no lost update.
        assert current["resource_version"] == 2
        assert current["spec"]["replicas"] == winner["spec"]["replicas"]
        assert [r["number"] for r in revisions] == [2, 1]


def test_concurrent_patches_without_if_match_lose_no_update(live_api: str) -> None:
    """Without If-Match both win, one after the other: two revisions, nothing lost."""
    name = f"race-{uuid.uuid4().hex[:8]}"
    with httpx.Client(base_url=live_api, headers=AUTH) as c:
        assert c.put(f"/v1/deployments/{name}", json=spec()).status_code == 201
    results = at_once(live_api, 2, lambda c, i: c.patch(
        f"/v1/deployments/{name}", json={"env": {f"K{i}": "v"}}))
    assert [r.status_code for r in results] == [200, 200], [r.text for r in results]
    with httpx.Client(base_url=live_api, headers=AUTH) as c:
        current = c.get(f"/v1/deployments/{name}").json()
    assert current["resource_version"] == 3
    assert current["revision"] == 3
    # Each merge patch applied to what the other left: both keys are there.
    assert current["spec"]["env"] == {"K0": "v", "K1": "v"}


def test_the_same_idempotency_key_at_once_creates_one_deployment(live_api: str) -> None:
    for _ in range(ROUNDS // 2):
        name = f"idem-{uuid.uuid4().hex[:8]}"
        key = str(uuid.uuid4())
        results = at_once(live_api, 3, lambda c, i, name=name, key=key: c.post(
            "/v1/deployments", json={"name": name, **spec()}, headers={"Idempotency-Key": key}))
        assert [r.status_code for r in results] == [201, 201, 201], [r.text for r in results]
        bodies = [r.json() for r in results]
        assert all(b == bodies[0] for b in bodies)
        replayed = [r for r in results if r.headers.get("Idempotent-Replayed") == "true"]
        assert len(replayed) == 2
        with httpx.Client(base_url=live_api, headers=AUTH) as c:
            rollouts = c.get(f"/v1/deployments/{name}/rollouts").json()["items"]
        assert len(rollouts) == 1


def test_the_same_idempotency_key_with_different_bodies_at_once(live_api: str) -> None:
    """One of them runs; the other waits for it and then gets 409 (another request)."""
    key = str(uuid.uuid4())
    names = [f"idem-{uuid.uuid4().hex[:8]}" for _ in range(2)]
    results = at_once(live_api, 2, lambda c, i: c.post(
        "/v1/deployments", json={"name": names[i], **spec()}, headers={"Idempotency-Key": key}))
    assert sorted(r.status_code for r in results) == [201, 409], [r.text for r in results]
    with httpx.Client(base_url=live_api, headers=AUTH) as c:
        found = [c.get(f"/v1/deployments/{n}").status_code for n in names]
    assert sorted(found) == [200, 404]


def test_the_same_webhook_delivery_at_once_is_applied_once(live_api: str) -> None:
    import json

    from app.services.webhook_payloads import sign

    name = f"hook-{uuid.uuid4().hex[:8]}"
    with httpx.Client(base_url=live_api, headers=AUTH) as c:
        assert c.put(f"/v1/deployments/{name}", json=spec()).status_code == 201
        hook = c.post(f"/v1/deployments/{name}/webhooks", json={"kind": "generic"}).json()
    body = json.dumps({"tag": "1.28"}).encode()
    headers = {"X-Hub-Signature-256": sign(hook["secret"], body), "X-Delivery-Id": "once",
               "Content-Type": "application/json", "Authorization": ""}
    results = at_once(live_api, 3, lambda c, i: c.post(hook["url"], content=body, headers=headers))
    assert sorted(r.status_code for r in results) == [200, 200, 202], [r.text for r in results]
    assert all(r.json()["ignored"].startswith("duplicate delivery")
               for r in results if r.status_code == 200)
    with httpx.Client(base_url=live_api, headers=AUTH) as c:
        revisions = c.get(f"/v1/deployments/{name}/revisions").json()["items"]
    assert [r["number"] for r in revisions] == [2, 1]
