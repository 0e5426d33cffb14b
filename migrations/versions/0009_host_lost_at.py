"""when a heartbeat declared a host lost: the one decision its replicas move on

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-25 22:10:00
"""

import sqlalchemy as sa
from alembic import op

import app.db

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("host") as batch:
        batch.add_column(sa.Column("lost_at", app.db.UTCDateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("host") as batch:
        batch.drop_column("lost_at")
