"""Shared fixtures: a private Postgres database and Redis queue per test run.

Nothing here is mocked. Outside CI a missing Postgres or Redis skips the tests that need
it; under CI (CI=true) it fails them, so a broken machine can never pass silently.
"""

from __future__ import annotations

import base64
import os
import uuid
from collections.abc import Iterator

import pytest

IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")
PG_ADMIN_URL = os.environ.get(
    "MOORAGE_TEST_DATABASE_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
)
REDIS_URL = os.environ.get("MOORAGE_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
RUN_ID = uuid.uuid4().hex[:8]
TEST_DB = f"moorage_test_{RUN_ID}"
TEST_DB_URL = PG_ADMIN_URL.rsplit("/", 1)[0] + f"/{TEST_DB}"
TEST_QUEUE = f"moorage-test-{RUN_ID}"
# Every API process of this run makes this admin token at startup (MOORAGE_BOOTSTRAP_TOKEN).
BOOTSTRAP_TOKEN = f"mrg_test_{uuid.uuid4().hex}{uuid.uuid4().hex}"
AUTH = {"Authorization": f"Bearer {BOOTSTRAP_TOKEN}"}
# Every process of this run seals and opens secrets at rest with this key.
SECRET_KEY = base64.urlsafe_b64encode(os.urandom(32)).decode()


def unavailable(what: str) -> None:
    """Fail under CI, skip elsewhere."""
    if IN_CI:
        pytest.fail(f"{what} is required under CI", pytrace=False)
    pytest.skip(f"{what} is not available")


def service_env() -> dict[str, str]:
    """Environment that points Moorage (in-process or a child process) at this run."""
    return {
        "MOORAGE_DATABASE_URL": TEST_DB_URL,
        "MOORAGE_BROKER_URL": REDIS_URL,
        "MOORAGE_QUEUE": TEST_QUEUE,
        "MOORAGE_BOOTSTRAP_TOKEN": BOOTSTRAP_TOKEN,
        "MOORAGE_SECRET_KEYS": SECRET_KEY,
    }


def ensure_bootstrap_token() -> None:
    """The run's admin token, made again after tables were emptied."""
    from app.main import ensure_bootstrap_token as ensure

    ensure()


def _reset_caches() -> None:
    from app.config import get_settings
    from app.db import get_engine, get_read_engine, get_sessionmaker
    from app.jobs import get_celery
    from app.services.tokens import CACHE

    for cached in (get_settings, get_engine, get_read_engine, get_sessionmaker, get_celery):
        cached.cache_clear()
    CACHE.clear()  # token checks kept from another test's database


@pytest.fixture(scope="session")
def postgres() -> Iterator[str]:
    """A fresh, migrated database for this run; dropped at the end."""
    import sqlalchemy as sa

    admin = sa.create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.execute(sa.text(f'CREATE DATABASE "{TEST_DB}"'))
    except sa.exc.OperationalError as exc:
        unavailable(f"Postgres at {PG_ADMIN_URL} ({exc.orig})")
    os.environ.update(service_env())
    _reset_caches()
    from app.migrate import upgrade_to_head

    upgrade_to_head()
    yield TEST_DB_URL
    from app.db import get_engine

    get_engine().dispose()
    with admin.connect() as conn:
        conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{TEST_DB}" WITH (FORCE)'))
    admin.dispose()


@pytest.fixture(scope="session")
def redis_broker() -> Iterator[str]:
    import redis

    client = redis.Redis.from_url(REDIS_URL)
    try:
        client.ping()
    except redis.exceptions.ConnectionError as exc:
        unavailable(f"Redis at {REDIS_URL} ({exc})")
    yield REDIS_URL
    client.delete(TEST_QUEUE, f"{TEST_QUEUE}.periodic")
    client.close()


@pytest.fixture
def clean_db(postgres: str, redis_broker: str) -> Iterator[None]:
    """Each test starts from empty tables (the schema stays)."""
    import sqlalchemy as sa

    from app.db import Base, get_engine

    # Not the installation row: who this installation is (migration 0012) is no test's data.
    tables = ", ".join(f'"{t.name}"' for t in Base.metadata.sorted_tables
                       if t.name != "installation")
    with get_engine().begin() as conn:
        conn.execute(sa.text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))
    from app.services.tokens import CACHE

    CACHE.clear()  # the tokens it named are gone with the tables
    ensure_bootstrap_token()  # clients made before this test (module fixtures) still work
    yield


# -- every collected test ran (the xdist controller's check) ------------------------------
# A test process that vanished mid-file can leave its file's remaining tests unreported,
# and xdist then reports fewer tests with a green exit (pytest-dev/pytest-xdist: lost
# items). The controller knows what each worker collected and what was reported: a run
# that was not stopped on purpose fails when the two differ.
_collected: set[str] = set()
_reported: set[str] = set()


@pytest.hookimpl(optionalhook=True)
def pytest_xdist_node_collection_finished(node, ids: list[str]) -> None:
    _collected.update(ids)


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    _reported.add(report.nodeid)


@pytest.hookimpl(trylast=True)
def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    stopped = session.shouldstop or session.shouldfail or exitstatus == pytest.ExitCode.INTERRUPTED
    missing = sorted(_collected - _reported)
    if missing and not stopped:
        reporter = session.config.pluginmanager.get_plugin("terminalreporter")
        if reporter is not None:
            reporter.write_line(f"error: {len(missing)} collected tests never reported:", red=True)
            for nodeid in missing[:50]:
                reporter.write_line(f"  {nodeid}")
        session.exitstatus = pytest.ExitCode.TESTS_FAILED
