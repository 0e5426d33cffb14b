"""service endpoints: edge hosts (their proxy's address and config lease) and each
deployment's kept listen port and served upstreams

Revision ID: 0017
Revises: 0015
Create Date: 2026-12-01 12:00:00
"""

import sqlalchemy as sa

import app.db
from alembic import op

revision = "0017"
down_revision = "0015"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("host", sa.Column("edge", sa.Boolean(), nullable=False, server_default=sa.false()))
    op.add_column("host", sa.Column("edge_address", sa.String(255), nullable=True))
    op.add_column("host", sa.Column("edge_lease_owner", sa.String(128), nullable=True))
    op.add_column("host", sa.Column("edge_lease_until", app.db.UTCDateTime(timezone=True), nullable=True))
    op.add_column("host", sa.Column("edge_applied", sa.JSON(), nullable=True))
    # With one host, that host is the edge (as registering the first host makes it).
    op.execute("UPDATE host SET edge = true WHERE (SELECT count(*) FROM host) = 1")
    op.add_column("deployment", sa.Column("endpoint_listen_port", sa.Integer(), nullable=True))
    op.add_column("deployment", sa.Column("endpoint_state", sa.JSON(), nullable=True))
    # A unique index, not a constraint: SQLite adds one without copying the table (a copy
    # would cascade-delete every revision through their foreign keys).
    op.create_index("ix_deployment_endpoint_listen_port", "deployment", ["endpoint_listen_port"], unique=True)


def downgrade() -> None:
    op.drop_index("ix_deployment_endpoint_listen_port", table_name="deployment")
    # Plain DROP COLUMN (SQLite has it since 3.35), not a batch: on SQLite a batch copies
    # the table, and dropping the old deployment table would cascade-delete its revisions.
    for table, column in (("deployment", "endpoint_state"), ("deployment", "endpoint_listen_port"),
                          ("host", "edge_applied"), ("host", "edge_lease_until"),
                          ("host", "edge_lease_owner"), ("host", "edge_address"), ("host", "edge")):
        op.execute(f"ALTER TABLE {table} DROP COLUMN {column}")
