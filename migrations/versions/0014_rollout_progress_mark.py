"""a rollout's progress mark: the most replicas of its target ready at once, and the
fewest containers left to remove, so a crash loop no longer counts as progress

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-01 10:00:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("rollout") as batch:
        batch.add_column(sa.Column("progress_ready", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("progress_surplus", sa.Integer(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("rollout") as batch:
        batch.drop_column("progress_surplus")
        batch.drop_column("progress_ready")
