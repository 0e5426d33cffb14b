"""Secrets at rest, against a real Postgres: what the database holds is sealed, what the
app reads is the value; old plain rows still read; a rotated key reseals everything."""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest
import sqlalchemy as sa
from cryptography.fernet import Fernet
from fastapi.testclient import TestClient
from pydantic import ValidationError

from tests.conftest import SECRET_KEY

SECRET = "env-secret-value-1234"
PASSWORD = "registry-password-5678"


_used: set[str] = set()


@pytest.fixture
def keys() -> Iterator[None]:
    """Lets a test change MOORAGE_SECRET_KEYS; the run's key comes back afterwards, and
    what the test sealed with other keys is sealed with it again (the installation row
    outlives every test)."""
    from app.config import get_settings
    from app.db import session_scope
    from app.services.secrets_at_rest import reseal

    yield
    os.environ["MOORAGE_SECRET_KEYS"] = ",".join([SECRET_KEY, *_used])
    get_settings.cache_clear()
    with session_scope() as session:
        reseal(session)
    _used.clear()
    os.environ["MOORAGE_SECRET_KEYS"] = SECRET_KEY
    get_settings.cache_clear()


def _use_keys(*keys: str) -> None:
    from app.config import get_settings

    _used.update(k for k in keys if k != SECRET_KEY)
    os.environ["MOORAGE_SECRET_KEYS"] = ",".join(keys)
    get_settings.cache_clear()


def _raw(sql: str) -> list:
    from app.db import get_engine

    with get_engine().connect() as conn:
        return [row[0] for row in conn.execute(sa.text(sql))]


def _deploy(client: TestClient) -> None:
    r = client.put("/v1/deployments/sealed", json={
        "image": "ghcr.io/acme/web:1", "secrets": {"TOKEN": SECRET},
        "registry_auth": {"username": "ci", "password": PASSWORD}})
    assert r.status_code == 201, r.text
    r = client.put("/v1/registries/ghcr.io", json={"username": "ci", "password": PASSWORD})
    assert r.status_code == 201, r.text
    r = client.post("/v1/deployments/sealed/webhooks", json={"kind": "generic"})
    assert r.status_code == 201, r.text


def test_the_database_holds_only_sealed_values(client: TestClient) -> None:
    from app.db import session_scope
    from app.models import RegistryCredential, Revision

    _deploy(client)
    stored = " ".join(map(str, _raw("SELECT secrets FROM revision")
                          + _raw("SELECT registry_password FROM revision")
                          + _raw("SELECT password FROM registry_credential")
                          + _raw("SELECT secret FROM webhook")))
    assert SECRET not in stored and PASSWORD not in stored
    assert stored.count("sealed:v1:") == 4, stored
    with session_scope() as session:  # the app reads the values
        rev = session.scalars(sa.select(Revision)).one()
        assert rev.secrets == {"TOKEN": SECRET} and rev.registry_password == PASSWORD
        assert session.get(RegistryCredential, "ghcr.io").password == PASSWORD


def test_rows_written_before_sealing_read_as_they_are_and_reseal(
    client: TestClient, keys: None
) -> None:
    from app.db import get_engine, session_scope
    from app.models import Revision
    from app.services.secrets_at_rest import reseal

    _deploy(client)
    with get_engine().begin() as conn:  # as an older Moorage wrote them
        conn.execute(sa.text("UPDATE revision SET secrets = CAST(:s AS json), registry_password = :p"),
                     {"s": f'{{"TOKEN": "{SECRET}"}}', "p": PASSWORD})
    with session_scope() as session:
        rev = session.scalars(sa.select(Revision)).one()
        assert rev.secrets == {"TOKEN": SECRET} and rev.registry_password == PASSWORD

    # Rotate: a new key first, the old one after it, then reseal.
    new_key = Fernet.generate_key().decode()
    _use_keys(new_key, SECRET_KEY)
    with session_scope() as session:
        assert reseal(session) >= 3
    sealed = _raw("SELECT registry_password FROM revision")[0]
    assert Fernet(new_key.encode()).decrypt(sealed.removeprefix("sealed:v1:").encode()) == (
        PASSWORD.encode())
    # Now the old key can go.
    _use_keys(new_key)
    with session_scope() as session:
        rev = session.scalars(sa.select(Revision)).one()
        assert rev.secrets == {"TOKEN": SECRET} and rev.registry_password == PASSWORD


def test_without_the_sealing_key_reads_fail_clearly(client: TestClient, keys: None) -> None:
    from app.db import session_scope
    from app.models import Revision
    from app.sealing import SealingError

    _deploy(client)
    _use_keys(Fernet.generate_key().decode())
    with session_scope() as session, pytest.raises(SealingError, match="MOORAGE_SECRET_KEYS"):
        session.scalars(sa.select(Revision)).one()


@pytest.mark.parametrize("value", ["not-a-key", "a" * 44, f"{SECRET_KEY},short"],
                         ids=["not-a-key", "44-a", "good-key,short"])
def test_a_malformed_key_is_refused_at_startup(value: str) -> None:
    from app.config import Settings

    with pytest.raises(ValidationError, match="Fernet key"):
        Settings(secret_keys=value)


def test_production_requires_a_key() -> None:
    from app.config import Settings

    with pytest.raises(ValidationError, match="MOORAGE_SECRET_KEYS"):
        Settings(environment="production", database_url="postgresql://x/y",
                 broker_url="redis://x", secret_keys="")


def test_the_secrets_cli_makes_keys_and_reseals(client: TestClient) -> None:
    import subprocess
    import sys
    from pathlib import Path

    from tests.conftest import service_env

    _deploy(client)
    moorage = str(Path(sys.executable).parent / "moorage")
    env = {**os.environ, **service_env()}
    key = subprocess.run([moorage, "secrets", "generate-key"], env=env, capture_output=True,
                         text=True, check=True).stdout.strip()
    Fernet(key.encode())  # a usable key
    done = subprocess.run([moorage, "secrets", "reseal"], env=env, capture_output=True,
                          text=True, check=True)
    assert done.stdout.startswith("resealed ") and int(done.stdout.split()[1]) >= 3
