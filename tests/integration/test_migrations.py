"""The Alembic migrations make exactly the schema the models describe, on both backends.

Each test gets a database of its own (a fresh Postgres database, or a fresh SQLite file),
so nothing here depends on the schema the rest of the run uses.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory

from app import models  # noqa: F401  (registers every table on Base.metadata)
from app.db import Base, make_engine
from app.migrate import alembic_config
from tests.conftest import PG_ADMIN_URL, unavailable


@pytest.fixture
def fresh_postgres() -> Iterator[sa.Engine]:
    name = f"moorage_mig_{uuid.uuid4().hex[:10]}"
    admin = sa.create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    except sa.exc.OperationalError as exc:
        admin.dispose()
        unavailable(f"Postgres at {PG_ADMIN_URL} ({exc.orig})")
    engine = make_engine(PG_ADMIN_URL.rsplit("/", 1)[0] + f"/{name}")
    try:
        yield engine
    finally:
        engine.dispose()
        with admin.connect() as conn:
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture
def fresh_sqlite(tmp_path: Path) -> Iterator[sa.Engine]:
    engine = make_engine(f"sqlite:///{tmp_path / 'moorage.db'}")
    yield engine
    engine.dispose()


@pytest.fixture(params=["postgres", "sqlite"])
def fresh(request: pytest.FixtureRequest) -> sa.Engine:
    return request.getfixturevalue(f"fresh_{request.param}")


def migrate(engine: sa.Engine, direction: str, target: str) -> None:
    cfg = alembic_config()
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn  # migrations/env.py uses it instead of settings
        getattr(command, direction)(cfg, target)


def schema_diffs(engine: sa.Engine) -> list:
    with engine.connect() as conn:
        context = MigrationContext.configure(
            conn, opts={"compare_type": True, "target_metadata": Base.metadata}
        )
        return compare_metadata(context, Base.metadata)


def tables(engine: sa.Engine) -> set[str]:
    return set(sa.inspect(engine).get_table_names())


def current_revision(engine: sa.Engine) -> str | None:
    with engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()


def head() -> str:
    heads = ScriptDirectory.from_config(alembic_config()).get_heads()
    assert len(heads) == 1, f"migrations branch: heads {heads}"
    return heads[0]


def test_there_is_one_head() -> None:
    head()


def test_upgrade_head_yields_exactly_the_models(fresh: sa.Engine) -> None:
    migrate(fresh, "upgrade", "head")
    assert schema_diffs(fresh) == []
    assert tables(fresh) == set(Base.metadata.tables) | {"alembic_version"}
    assert current_revision(fresh) == head()
    # Upgrading again is a no-op, not an error.
    migrate(fresh, "upgrade", "head")
    assert schema_diffs(fresh) == []


def test_downgrade_base_then_upgrade_head(fresh: sa.Engine) -> None:
    migrate(fresh, "upgrade", "head")
    with fresh.begin() as conn:  # some data, so the downgrade has something to drop
        conn.execute(sa.text(
            "INSERT INTO host (id, name, url, labels, state, schedulable, containers, "
            "resource_version, created_at, updated_at) VALUES (:id, 'h1', 'unix:///x', '{}', "
            "'ready', true, 0, 1, CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)"
        ), {"id": uuid.uuid4().hex})

    migrate(fresh, "downgrade", "base")
    assert tables(fresh) <= {"alembic_version"}
    assert current_revision(fresh) is None

    migrate(fresh, "upgrade", "head")
    assert schema_diffs(fresh) == []
    assert current_revision(fresh) == head()
    with fresh.connect() as conn:
        assert conn.execute(sa.text("SELECT count(*) FROM host")).scalar() == 0


def test_every_step_down_and_up_again(fresh: sa.Engine) -> None:
    """Each migration's downgrade undoes its upgrade (checked one step at a time)."""
    script = ScriptDirectory.from_config(alembic_config())
    steps = [r.revision for r in reversed(list(script.walk_revisions("base", "heads")))]
    for revision in steps:
        migrate(fresh, "upgrade", revision)
        migrate(fresh, "downgrade", "-1")
        migrate(fresh, "upgrade", revision)
        assert current_revision(fresh) == revision
    assert schema_diffs(fresh) == []
