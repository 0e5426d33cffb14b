"""the installation row: an id and a hash key of its own, not derived from the database URL

The id labels every container an installation makes. It used to be a hash of the
database URL, password included: a new password or a moved database made every existing
container invisible to the orphan collector and the event filter. Now it is stored.
An existing installation (one with hosts or deployments) keeps the id it derived until
now, computed here the way app.config did: run this with the MOORAGE_DATABASE_URL the
services used. A fresh one gets a random id.

The hash key (random, sealed like every secret at rest) keys the template and spec
hashes from now on. Revisions made before keep the hashes they have.

Downgrading drops the row: upgrading again makes a new one (derived again if there are
hosts or deployments, which a random id from before does not match).

Revision ID: 0012
Revises: 0011
Create Date: 2026-11-26 09:00:00
"""

import hashlib
import secrets

import sqlalchemy as sa
from alembic import op

import app.db

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def _existing_installation(conn) -> bool:
    return bool(conn.scalar(sa.text("SELECT count(*) FROM host"))
                or conn.scalar(sa.text("SELECT count(*) FROM deployment")))


def _derived_id() -> str:
    """What app.config.Settings.installation_id was before 0012."""
    from app.config import get_settings

    return hashlib.sha256(get_settings().effective_database_url.encode()).hexdigest()[:12]


def upgrade() -> None:
    from app.sealing import seal

    table = op.create_table(
        "installation",
        sa.Column("id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("installation_id", sa.String(length=32), nullable=False),
        sa.Column("hash_key", sa.Text(), nullable=False),
        sa.Column("created_at", app.db.UTCDateTime(timezone=True), nullable=False),
        sa.CheckConstraint("id = 1", name=op.f("ck_installation_one_row")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_installation")),
    )
    conn = op.get_bind()
    installation_id = _derived_id() if _existing_installation(conn) else secrets.token_hex(8)
    op.bulk_insert(table, [{
        "id": 1,
        "installation_id": installation_id,
        "hash_key": seal(secrets.token_hex(32)),
        "created_at": app.db.utcnow(),
    }])


def downgrade() -> None:
    op.drop_table("installation")
