"""A 2xx means committed; a commit that fails, or a database that is away, is a 503.

These run a real `moorage api` process on a real Postgres: the defect they pin (the
commit ran after the response was on the wire) cannot be seen through an in-process
client, which waits for the whole ASGI call either way.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import urlsplit

import httpx
import pytest
import sqlalchemy as sa

from tests.conftest import AUTH, TEST_DB_URL, service_env
from tests.support.ports import free_port
from tests.support.tcpproxy import TcpProxy

VENV_BIN = Path(sys.executable).parent
SPEC = {"image": "moorage-test/web:v1", "replicas": 1}


@contextmanager
def live_api(tmp_path: Path, **env: str) -> Iterator[httpx.Client]:
    port = free_port()
    full_env = {**os.environ, **service_env(), "MOORAGE_DATA_DIR": str(tmp_path), **env}
    log = open(tmp_path / "api.log", "ab")  # noqa: SIM115  (closed below)
    proc = subprocess.Popen([str(VENV_BIN / "moorage"), "api", "--port", str(port)],
                            env=full_env, stdout=log, stderr=log)
    client = httpx.Client(base_url=f"http://127.0.0.1:{port}", headers=AUTH, timeout=30)
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                if client.get("/healthz").status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline or proc.poll() is not None:
                raise AssertionError((tmp_path / "api.log").read_text(errors="replace"))
            time.sleep(0.1)
        yield client
    finally:
        client.close()
        proc.terminate()
        proc.wait(timeout=15)
        log.close()


@contextmanager
def commit_trigger(body: str) -> Iterator[None]:
    """A deferred constraint trigger on revision: ``body`` runs at COMMIT, not at INSERT."""
    engine = sa.create_engine(TEST_DB_URL)
    with engine.begin() as conn:
        conn.execute(sa.text(f"""
            CREATE FUNCTION moorage_test_at_commit() RETURNS trigger AS $$
            BEGIN {body} RETURN NULL; END $$ LANGUAGE plpgsql;
            CREATE CONSTRAINT TRIGGER moorage_test_at_commit AFTER INSERT ON revision
              DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION moorage_test_at_commit();
        """))
    try:
        yield
    finally:
        with engine.begin() as conn:
            conn.execute(sa.text("DROP TRIGGER IF EXISTS moorage_test_at_commit ON revision;"
                                 "DROP FUNCTION IF EXISTS moorage_test_at_commit();"))
        engine.dispose()


@pytest.fixture
def api(clean_db, tmp_path: Path) -> Iterator[httpx.Client]:
    with live_api(tmp_path) as client:
        yield client


def test_a_commit_that_fails_is_a_503_and_nothing_changed(api: httpx.Client) -> None:
    first = api.put("/v1/deployments/web", json=SPEC)
    assert first.status_code == 201, first.text
    with commit_trigger("IF NEW.spec->>'image' LIKE 'refused%' THEN "
                        "RAISE EXCEPTION 'refused at commit'; END IF;"):
        r = api.put("/v1/deployments/web", json={**SPEC, "image": "refused:1"})
        created = api.post("/v1/deployments", json={"name": "other", **SPEC, "image": "refused:2"})

    assert r.status_code == 503, r.text
    assert r.headers["content-type"].startswith("application/problem+json")
    assert int(r.headers["Retry-After"]) >= 1
    assert "commit" in r.json()["detail"]
    assert created.status_code == 503, created.text
    after = api.get("/v1/deployments/web").json()
    assert after["revision"] == 1
    assert after["spec"]["image"] == SPEC["image"]
    assert after["resource_version"] == first.json()["resource_version"]
    assert [rev["number"] for rev in api.get("/v1/deployments/web/revisions").json()["items"]] == [1]
    assert api.get("/v1/deployments/other").status_code == 404


def test_the_answer_waits_for_the_commit(api: httpx.Client) -> None:
    assert api.put("/v1/deployments/web", json=SPEC).status_code == 201
    with commit_trigger("IF NEW.spec->>'image' = 'slow:1' THEN PERFORM pg_sleep(1.5); END IF;"):
        started = time.monotonic()
        r = api.put("/v1/deployments/web", json={**SPEC, "image": "slow:1"})
        elapsed = time.monotonic() - started
        # Read at once, as a caller that trusts the 200 would.
        seen = api.get("/v1/deployments/web").json()
        rollout = api.get(f"/v1/rollouts/{r.json()['current_rollout']['id']}")

    assert r.status_code == 200, r.text
    assert elapsed >= 1.5, f"answered in {elapsed:.3f}s, before the 1.5 s commit ended"
    assert seen["revision"] == 2
    assert rollout.status_code == 200


def _until(check: Callable[[], bool], timeout: float) -> float:
    started = time.monotonic()
    while not check():
        if time.monotonic() - started > timeout:
            raise AssertionError(f"not within {timeout}s")
        time.sleep(0.05)
    return time.monotonic() - started


def test_the_database_away_is_a_503_and_the_api_recovers(clean_db, tmp_path: Path) -> None:
    pg = urlsplit(TEST_DB_URL)
    with TcpProxy((pg.hostname or "127.0.0.1", pg.port or 5432)) as proxy:
        url = TEST_DB_URL.replace(f"{pg.hostname}:{pg.port}", f"127.0.0.1:{proxy.port}")
        with live_api(tmp_path, MOORAGE_DATABASE_URL=url) as api:
            assert api.put("/v1/deployments/web", json=SPEC).status_code == 201
            proxy.cut()
            for method, path, body in (
                ("GET", "/v1/deployments/web", None),
                ("GET", "/v1/deployments", None),
                ("PUT", "/v1/deployments/web", {**SPEC, "replicas": 2}),
                ("GET", "/v1/hosts", None),
            ):
                r = api.request(method, path, json=body)
                assert r.status_code == 503, (method, path, r.status_code, r.text)
                assert r.headers["content-type"].startswith("application/problem+json")
                assert int(r.headers["Retry-After"]) >= 1
            assert api.get("/readyz").status_code == 503
            proxy.restore()
            recovered = _until(lambda: api.get("/v1/deployments/web").status_code == 200, 10)
            assert recovered < 5
            assert api.get("/v1/deployments/web").json()["revision"] == 1
