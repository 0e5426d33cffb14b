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


# ---- the installation row (0012) --------------------------------------------------------


@pytest.fixture(autouse=True)
def _sealing_key(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[None]:
    """Migration 0012 seals a hash key: with the run's key, never a key made in ~."""
    from app.config import get_settings
    from tests.conftest import SECRET_KEY

    monkeypatch.setenv("MOORAGE_SECRET_KEYS", SECRET_KEY)
    monkeypatch.setenv("MOORAGE_DATA_DIR", str(tmp_path / "data"))
    get_settings.cache_clear()
    yield
    get_settings.cache_clear()


def installation(engine: sa.Engine) -> tuple[str, str]:
    """(installation id, hash key) as stored; the key opened."""
    from app.sealing import PREFIX, open_sealed

    with engine.connect() as conn:
        rows = conn.execute(sa.text("SELECT installation_id, hash_key FROM installation")).all()
    assert len(rows) == 1, rows
    installation_id, sealed = rows[0]
    assert sealed.startswith(PREFIX), "the hash key is sealed at rest"
    return installation_id, open_sealed(sealed)


def test_each_fresh_installation_gets_a_random_id_and_key(
    fresh_postgres: sa.Engine, fresh_sqlite: sa.Engine
) -> None:
    import hashlib

    from app.services import specs

    made = []
    for engine in (fresh_postgres, fresh_sqlite):
        migrate(engine, "upgrade", "head")
        made.append(installation(engine))
        url = engine.url.render_as_string(hide_password=False)
        assert made[-1][0] != hashlib.sha256(url.encode()).hexdigest()[:12]
        assert len(made[-1][0]) == 16 and len(made[-1][1]) == 64
    (id_a, key_a), (id_b, key_b) = made
    assert id_a != id_b and key_a != key_b
    # So the same spec, with the same secret, is named differently by each.
    public, secrets = {"image": "nginx:1.27", "env": {}}, {"DB_PASSWORD": "hunter2"}
    assert (specs.template_hash(key_a.encode(), public, secrets)
            != specs.template_hash(key_b.encode(), public, secrets))


def _moorage_python(url: str, code: str) -> str:
    """Run ``code`` in a Moorage process of its own, configured with ``url``."""
    import os
    import subprocess
    import sys

    from tests.conftest import service_env

    env = {**os.environ, **service_env(), "MOORAGE_DATABASE_URL": url}
    done = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True,
                          text=True, timeout=60)
    assert done.returncode == 0, done.stderr[-3000:]
    return done.stdout.strip()


MIGRATE_TO = ("from alembic import command; from app.migrate import alembic_config; "
              "command.upgrade(alembic_config(), {!r})")
READ_ID = ("from app.db import session_scope; from app.services.installation import "
           "installation_id\nwith session_scope() as s: print(installation_id(s))")


def test_an_upgraded_installation_keeps_its_id_through_a_new_database_password(
    fresh_postgres: sa.Engine,
) -> None:
    """Before 0012 the id was a hash of the database URL, password and all: containers
    are labelled with it. The upgrade keeps it; from then on it is read from the
    database, so a rotated password (a new URL) no longer loses every container."""
    import hashlib

    from sqlalchemy.engine import make_url

    base = make_url(fresh_postgres.url.render_as_string(hide_password=False))
    # The test server trusts local connections, so any password connects.
    first = base.set(password="first-password").render_as_string(hide_password=False)
    rotated = base.set(password="rotated-password").render_as_string(hide_password=False)
    _moorage_python(first, MIGRATE_TO.format("0009"))
    with fresh_postgres.begin() as conn:  # an installation in use: a host (with containers)
        conn.execute(sa.text(
            "INSERT INTO host (id, name, url, labels, state, schedulable, containers, "
            "resource_version, created_at, updated_at) VALUES (:id, 'h1', 'unix:///x', '{}', "
            "'ready', true, 0, 1, CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)"
        ), {"id": uuid.uuid4().hex})
    _moorage_python(first, MIGRATE_TO.format("head"))

    derived = hashlib.sha256(first.encode()).hexdigest()[:12]  # what app.config computed
    assert installation(fresh_postgres)[0] == derived
    assert _moorage_python(first, READ_ID) == derived
    # The password rotated: the URL (and the hash of it) changed, the id did not.
    assert hashlib.sha256(rotated.encode()).hexdigest()[:12] != derived
    assert _moorage_python(rotated, READ_ID) == derived


# ---- typed templates; replicas are the deployment's (0015) -------------------------------


def test_revisions_stored_before_0015_get_a_template_and_lose_their_replicas(
    fresh: sa.Engine,
) -> None:
    """Revisions written the 0013 way (a spec with replicas, no template) are converted:
    each gets the v1 template today's apply makes from the same request (a sparse spec
    from an older Moorage gets the defaults), loads, and the desired count is the
    deployment's alone. Downgrading puts the count back where 0013's code reads it."""
    import json

    from app.reconcile import template as tpl
    from app.schemas.deployments import DeploymentSpec
    from app.services import specs
    from tests.support.legacy import insert_deployment_0013, spec_0013

    sparse = {"image": "nginx:1.25", "replicas": 1, "env": {"A": "1"},
              "update_strategy": {"max_surge": 1, "max_unavailable": 0}}
    current = spec_0013("nginx:1.27", replicas=3)
    migrate(fresh, "upgrade", "0013")
    with fresh.begin() as conn:
        deployment_id, _ = insert_deployment_0013(conn, "legacy", [sparse, current],
                                                  secrets={"API_TOKEN": "s3cret"})
        conn.execute(sa.text("UPDATE deployment SET replicas = 0"))  # the revision was the truth
    migrate(fresh, "upgrade", "head")

    with fresh.connect() as conn:
        rows = conn.execute(sa.text(
            "SELECT number, spec, template FROM revision ORDER BY number")).all()
        replicas = conn.execute(sa.text("SELECT replicas FROM deployment")).scalar_one()
    loaded = {n: (s if isinstance(s, dict) else json.loads(s),
                  t if isinstance(t, dict) else json.loads(t)) for n, s, t in rows}
    assert replicas == 3
    for number, old in ((1, sparse), (2, current)):
        spec, stored = loaded[number]
        assert "replicas" not in spec
        assert spec == {k: v for k, v in old.items() if k != "replicas"}
        assert stored["schema_version"] == 1
        expected = specs.template(DeploymentSpec.model_validate(old))
        assert stored == expected.to_dict()
        assert tpl.from_dict(stored) == expected
    t2 = tpl.from_dict(loaded[2][1])
    desired = t2.desired("legacy", 2, replicas, "h")
    assert (desired.replicas, desired.placement.host_ports) == (3, ())
    assert t2.health_check == tpl.HealthCheck(tpl.HttpProbe(8080, "/version"), 0.5)
    assert tpl.from_dict(loaded[1][1]).update_strategy.progress_deadline_s == 600.0

    migrate(fresh, "downgrade", "0013")
    with fresh.connect() as conn:
        specs_back = [s if isinstance(s, dict) else json.loads(s) for (s,) in conn.execute(
            sa.text("SELECT spec FROM revision ORDER BY number"))]
    assert [s["replicas"] for s in specs_back] == [3, 3]
    assert specs_back[1] == current
