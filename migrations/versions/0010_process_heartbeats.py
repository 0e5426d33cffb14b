"""worker and beat processes record that they live: one row per process start

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-01 10:00:00
"""

import sqlalchemy as sa
from alembic import op

import app.db

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "process_heartbeat",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("hostname", sa.String(length=255), nullable=False),
        sa.Column("pid", sa.Integer(), nullable=False),
        sa.Column("started_at", app.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("last_seen_at", app.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("broker_seen_at", app.db.UTCDateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_process_heartbeat")),
    )
    op.create_index(op.f("ix_process_heartbeat_last_seen_at"), "process_heartbeat",
                    ["last_seen_at"])


def downgrade() -> None:
    op.drop_index(op.f("ix_process_heartbeat_last_seen_at"), table_name="process_heartbeat")
    op.drop_table("process_heartbeat")
