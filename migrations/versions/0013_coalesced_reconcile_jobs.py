"""at most one reconcile job per deployment in the broker; look again after a held lease

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-01 09:40:00
"""

import sqlalchemy as sa
from alembic import op

import app.db

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("deployment") as batch:
        batch.add_column(sa.Column("job_queued_at", app.db.UTCDateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column("look_again", sa.Boolean(), server_default=sa.false(), nullable=False))


def downgrade() -> None:
    with op.batch_alter_table("deployment") as batch:
        batch.drop_column("look_again")
        batch.drop_column("job_queued_at")
