"""an edge that cannot take its config says so

``host.edge_error``: why the edge's proxy could not be given the config the database
says, at the last try (null: it has it, or it is no edge).

Revision ID: 0026
Revises: 0025
Create Date: 2026-12-03 07:40:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0026"
down_revision = "0025"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("host", sa.Column("edge_error", sa.Text(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("host") as batch_op:  # SQLite rebuilds the table to drop one
        batch_op.drop_column("edge_error")
