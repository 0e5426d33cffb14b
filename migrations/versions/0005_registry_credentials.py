"""registry credentials (global, and a deployment's own password); how a revision's image is pulled

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-25 21:00:00
"""

import sqlalchemy as sa
from alembic import op

import app.db

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "registry_credential",
        sa.Column("name", sa.String(length=255), nullable=False),
        sa.Column("username", sa.String(length=255), nullable=False),
        sa.Column("password", sa.Text(), nullable=False),
        sa.Column("created_at", app.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", app.db.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_registry_credential")),
    )
    with op.batch_alter_table("revision") as batch:
        batch.add_column(sa.Column("registry_password", sa.Text(), nullable=True))
        batch.add_column(sa.Column("image_pull_ref", sa.String(length=1024), nullable=True))
        batch.add_column(sa.Column("pin_from_registry", sa.Boolean(),
                                   server_default=sa.false(), nullable=False))


def downgrade() -> None:
    with op.batch_alter_table("revision") as batch:
        batch.drop_column("pin_from_registry")
        batch.drop_column("image_pull_ref")
        batch.drop_column("registry_password")
    op.drop_table("registry_credential")
