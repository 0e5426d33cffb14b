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
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.conftest import AUTH, service_env
from tests.support.ports import free_port

VENV_BIN = Path(sys.executable).parent
ROUNDS = 12


@contextmanager
def _serving(tmp_path_factory: pytest.TempPathFactory, *args: str) -> Iterator[str]:
    port = free_port()
    workdir = tmp_path_factory.mktemp("live-api")
    env = {**os.environ, **service_env(), "MOORAGE_DATA_DIR": str(workdir / "data")}
    log = open(workdir / "api.log", "wb")  # noqa: SIM115  (closed below)
    proc = subprocess.Popen([str(VENV_BIN / "moorage"), "api", "--port", str(port), *args],
                            env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
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


@pytest.fixture(scope="module")
def live_api(postgres: str, redis_broker: str, tmp_path_factory: pytest.TempPathFactory
             ) -> Iterator[str]:
    with _serving(tmp_path_factory) as url:
        yield url


@pytest.fixture(scope="module")
def one_process_api(postgres: str, redis_broker: str, tmp_path_factory: pytest.TempPathFactory
                    ) -> Iterator[str]:
    """One API process: every request shares its thread pool and its connection pool."""
    with _serving(tmp_path_factory, "--workers", "1") as url:
        yield url


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
            f"/v1/deployments/{name}", json=spec(env={"N": str(i)}), headers={"If-Match": etag}))

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
        assert current["spec"]["env"] == winner["spec"]["env"]
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


# ---- reads that race deletes -----------------------------------------------------------

RACE_S = 8.0


def _lost_host() -> uuid.UUID:
    """A host a heartbeat declared lost: what its replicas were is recorded, nobody can ask
    it, and a deployment being deleted stops waiting for it (so the reconciler really
    deletes the row here, with no engine at all)."""
    from datetime import timedelta

    from app.db import session_scope, utcnow
    from app.models import Host

    now = utcnow()
    with session_scope() as session:
        host = Host(name=f"lost-{uuid.uuid4().hex[:8]}", url="unix:///nonexistent/docker.sock",
                    labels={}, state="unreachable", schedulable=True, resource_version=1,
                    unreachable_since=now - timedelta(minutes=5), lost_at=now,
                    created_at=now, updated_at=now)
        session.add(host)
        session.flush()
        return host.id


def _record_replicas(name: str, host_id: uuid.UUID, n: int) -> uuid.UUID:
    """The replicas the reconciler last observed for ``name`` (before its host was lost)."""
    from app.db import session_scope
    from app.models import Replica
    from app.reconcile.planner import container_name
    from app.repositories import deployments as deployment_repo

    with session_scope() as session:
        d = deployment_repo.get_by_name(session, name)
        rev = deployment_repo.revision(session, d.id, d.revision)
        for slot in range(n):
            session.add(Replica(
                deployment_id=d.id, host_id=host_id, slot=slot, revision=rev.number,
                template_hash=rev.template_hash, container_id=uuid.uuid4().hex,
                container_name=container_name(name, slot, rev.template_hash), state="running"))
        return d.id


def test_reads_racing_deletes_show_each_deployment_whole_or_not_at_all(live_api: str) -> None:
    """Deployments are created and deleted (through the API, then for real by the
    reconciler) while other clients list and get them and a reconciler pass loads what
    other deployments hold on each host. A vanished deployment is absent from an answer,
    never an error: no 404 "revision ... does not exist" in a list, no KeyError in a pass."""
    from app.config import get_settings
    from app.services.reconciler import Reconciler
    from app.services.reconciler.context import load

    host_id = _lost_host()
    prefix = f"churn-{uuid.uuid4().hex[:6]}"
    with httpx.Client(base_url=live_api, headers=AUTH) as c:
        steady = f"{prefix}-steady"
        assert c.put(f"/v1/deployments/{steady}", json=spec()).status_code == 201
    steady_id = _record_replicas(steady, host_id, 1)

    stop = threading.Event()
    lock = threading.Lock()
    calls: dict[str, int] = {"list": 0, "get": 0, "pass": 0}
    errors: list[str] = []
    alive: list[str] = []
    made = [0]

    def failed(what: str) -> None:
        with lock:
            errors.append(what)

    def churn(worker: int) -> None:
        reconciler = Reconciler(owner=f"test-churn-{worker}")
        with httpx.Client(base_url=live_api, headers=AUTH, timeout=30) as c:
            k = 0
            while not stop.is_set():
                batch = [f"{prefix}-{worker}-{k + i}" for i in range(4)]
                k += len(batch)
                ids = []
                for name in batch:
                    r = c.put(f"/v1/deployments/{name}", json=spec(replicas=2))
                    assert r.status_code == 201, r.text
                    ids.append(_record_replicas(name, host_id, 2))
                    with lock:
                        alive.append(name)
                        made[0] += 1
                for name, deployment_id in zip(batch, ids, strict=True):
                    r = c.delete(f"/v1/deployments/{name}")
                    assert r.status_code == 202, r.text
                    reconciler.run(deployment_id)  # removes the row: its replicas are gone
                    with lock:
                        alive.remove(name)

    def lister() -> None:
        with httpx.Client(base_url=live_api, headers=AUTH, timeout=30) as c:
            while not stop.is_set():
                r = c.get("/v1/deployments", params={"limit": 100})
                with lock:
                    calls["list"] += 1
                if r.status_code != 200:
                    failed(f"list: {r.status_code} {r.text[:200]}")
                    continue
                for item in r.json()["items"]:
                    if item["spec"] is None or item["revision"] < 1:
                        failed(f"list: a partial deployment {item}")

    def getter() -> None:
        with httpx.Client(base_url=live_api, headers=AUTH, timeout=30) as c:
            while not stop.is_set():
                with lock:
                    name = alive[-1] if alive else steady
                r = c.get(f"/v1/deployments/{name}")
                with lock:
                    calls["get"] += 1
                gone = (r.status_code == 404
                        and r.json()["detail"] == f"deployment {name!r} does not exist")
                if r.status_code != 200 and not gone:
                    failed(f"get {name}: {r.status_code} {r.text[:200]}")

    def reconciler_pass() -> None:
        # What a pass of another deployment loads, footprints of every deployment included.
        settings = get_settings()
        while not stop.is_set():
            try:
                ctx = load(steady_id, settings, on_generation=lambda _g: None)
                assert ctx is not None
            except Exception as exc:  # noqa: BLE001  (every crash is the finding)
                failed(f"pass: {type(exc).__name__}: {exc}")
            with lock:
                calls["pass"] += 1

    threads = [threading.Thread(target=churn, args=(i,)) for i in range(2)]
    threads += [threading.Thread(target=lister) for _ in range(2)]
    threads += [threading.Thread(target=getter), threading.Thread(target=reconciler_pass)]
    for t in threads:
        t.start()
    time.sleep(RACE_S)
    stop.set()
    for t in threads:
        t.join(timeout=60)
    total = sum(calls.values())
    by_kind = {k: sum(e.startswith(f"{k}") for e in errors) for k in calls}
    print("\nrace: " + ", ".join(f"{k} {by_kind[k]} errors / {n} calls" for k, n in calls.items())
          + f"; {made[0]} deployments made and deleted")
    assert made[0] >= 8 and calls["list"] >= 20 and calls["pass"] >= 20, calls
    assert errors == [], f"{len(errors)} of {total} calls failed: {sorted(set(errors))[:10]}"

    from app.db import session_scope
    from app.models import Host

    with session_scope() as session:
        session.delete(session.get(Host, host_id))


def test_an_answered_write_is_committed(live_api: str) -> None:
    """A 201 means the deployment is there for everyone, at once: the request's
    transaction commits before the answer leaves, not after (a client that reads
    elsewhere right away, or a commit that fails, must not see a success that isn't)."""
    from app.db import session_scope
    from app.repositories import deployments as deployment_repo

    missing = []
    with httpx.Client(base_url=live_api, headers=AUTH) as c:
        for i in range(40):
            name = f"seen-{uuid.uuid4().hex[:8]}-{i}"
            assert c.put(f"/v1/deployments/{name}", json=spec()).status_code == 201
            with session_scope() as session:
                if deployment_repo.find_by_name(session, name) is None:
                    missing.append(name)
    assert missing == [], f"{len(missing)} of 40 answered 201 before they were committed"


# More requests than one API process has threads (anyio's default, 40) or pooled
# connections (10 + 20 overflow).
QUEUED = 48
STACK_FILE = "services:\n  web:\n    image: nginx:1.27\n"


def _make_deployment(c: httpx.Client, name: str) -> None:
    assert c.put(f"/v1/deployments/{name}", json=spec()).status_code == 201


def _make_deployment_with_2_revisions(c: httpx.Client, name: str) -> None:
    _make_deployment(c, name)
    assert c.put(f"/v1/deployments/{name}", json=spec(env={"V": "2"})).status_code == 200


def _make_host(_c: httpx.Client, name: str) -> None:
    from app.db import session_scope, utcnow
    from app.models import Host

    now = utcnow()
    with session_scope() as session:  # registered without an engine: PATCH asks none
        session.add(Host(name=name, url="unix:///nonexistent/docker.sock", labels={},
                         state="unreachable", schedulable=True, resource_version=1,
                         created_at=now, updated_at=now))


def _make_stack(c: httpx.Client, name: str) -> None:
    r = c.put(f"/v1/stacks/{name}", content=STACK_FILE, headers={"content-type": "application/yaml"})
    assert r.status_code == 201, r.text


# name: (table whose row the requests lock, how the row is made, the request, its answer)
LOCKING_WRITES: dict[str, tuple[str, Callable[[httpx.Client, str], None],
                                Callable[[httpx.Client, str, int], httpx.Response], int]] = {
    "deployment restart": ("deployment", _make_deployment,
                           lambda c, n, _i: c.post(f"/v1/deployments/{n}/restart"), 202),
    # Each to the previous revision, which always differs from the current one.
    "deployment rollback": ("deployment", _make_deployment_with_2_revisions,
                            lambda c, n, _i: c.post(f"/v1/deployments/{n}/rollback"), 202),
    "host update": ("host", _make_host, lambda c, n, i: c.patch(
        f"/v1/hosts/{n}", json={"labels": {"n": str(i)}}), 200),
    "stack apply": ("stack", _make_stack, lambda c, n, _i: c.put(
        f"/v1/stacks/{n}", content=STACK_FILE, headers={"content-type": "application/yaml"}),
        200),
}


@pytest.mark.parametrize("case", list(LOCKING_WRITES))
def test_requests_queued_on_one_row_lock_all_get_their_answer(one_process_api: str,
                                                              case: str) -> None:
    """More writes of one row at once than the API has threads, all waiting for its lock:
    each answers once the lock is free. (When an endpoint's answer was validated in the
    thread pool before its transaction committed, the holder of the row lock waited for a
    thread that waiting requests held, and they for connections it held: nothing moved
    until the pool's checkout timeout answered 503s.)"""
    import sqlalchemy as sa

    from app.db import get_engine

    table, make, request, expected = LOCKING_WRITES[case]
    name = f"queue-{uuid.uuid4().hex[:8]}"
    with httpx.Client(base_url=one_process_api, headers=AUTH, timeout=60) as c:
        make(c, name)

    def waiting_on_locks() -> int:
        with get_engine().connect() as conn:
            return conn.execute(sa.text(
                "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                "AND wait_event_type = 'Lock'")).scalar_one()

    clients = [httpx.Client(base_url=one_process_api, headers=AUTH, timeout=120)
               for _ in range(QUEUED)]
    try:
        for c in clients:
            c.get("/healthz")  # connected before the row is locked
        holder = get_engine().connect()
        tx = holder.begin()
        holder.execute(sa.text(f"SELECT 1 FROM {table} WHERE name = :n FOR UPDATE"), {"n": name})
        with ThreadPoolExecutor(QUEUED) as pool:
            futures = [pool.submit(request, c, name, i) for i, c in enumerate(clients)]
            # Every pooled connection of the API waits for our lock (the rest of the
            # requests wait for a connection or a thread), then the lock goes.
            deadline = time.monotonic() + 60
            while waiting_on_locks() < 30:
                if time.monotonic() > deadline or any(f.done() for f in futures):
                    tx.rollback()
                    raise AssertionError(f"the requests did not all queue on the lock: "
                                         f"{[f.result().status_code for f in futures if f.done()]}")
                time.sleep(0.05)
            tx.rollback()
            holder.close()
            answers = [f.result() for f in futures]
    finally:
        for c in clients:
            c.close()
    statuses = sorted({r.status_code for r in answers})
    assert statuses == [expected], [(r.status_code, r.text[:200]) for r in answers
                                    if r.status_code != expected][:5]
