"""a deployment's latest rollout in one index probe

``ix_rollout_deployment_id_created_at`` (deployment_id, created_at, id) replaces
``ix_rollout_deployment_id``: every deployment view reads its deployment's newest rollout,
which was a sort of all its rollouts (and, for a page, a scan of the whole table).

Revision ID: 0025
Revises: 0021
Create Date: 2026-12-02 02:00:00
"""

from alembic import op

revision = "0025"
down_revision = "0021"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_rollout_deployment_id_created_at", "rollout",
                    ["deployment_id", "created_at", "id"])
    op.drop_index("ix_rollout_deployment_id", table_name="rollout")


def downgrade() -> None:
    op.create_index("ix_rollout_deployment_id", "rollout", ["deployment_id"])
    op.drop_index("ix_rollout_deployment_id_created_at", table_name="rollout")
