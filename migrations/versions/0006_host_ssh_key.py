"""a host's ssh private key and known_hosts, for ssh:// engines

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-26 10:00:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("host") as batch:
        batch.add_column(sa.Column("ssh_private_key", sa.Text(), nullable=True))
        batch.add_column(sa.Column("ssh_known_hosts", sa.Text(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("host") as batch:
        batch.drop_column("ssh_known_hosts")
        batch.drop_column("ssh_private_key")
