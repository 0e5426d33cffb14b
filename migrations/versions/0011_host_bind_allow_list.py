"""host paths an admin allows binding on a host, and where its engine keeps its data

Revision ID: 0011
Revises: 0010
Create Date: 2026-11-27 10:00:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("host") as batch:
        batch.add_column(sa.Column("allowed_bind_prefixes", sa.JSON(), nullable=False,
                                   server_default=sa.text("'[]'")))
        batch.add_column(sa.Column("engine_root_dir", sa.Text(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("host") as batch:
        batch.drop_column("engine_root_dir")
        batch.drop_column("allowed_bind_prefixes")
