"""autoscaling: a deployment's policy (deployment.autoscale) and what the autoscaler
remembers between looks (autoscaler_state)

Revision ID: 0024
Revises: 0023
Create Date: 2026-12-01 12:30:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0024"
down_revision = "0023"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("deployment", sa.Column("autoscale", sa.JSON(), nullable=True))
    op.create_table(
        "autoscaler_state",
        sa.Column("deployment_id", sa.Uuid(), nullable=False),
        sa.Column("memory", sa.JSON(), nullable=False),
        sa.Column("current_replicas", sa.Integer(), nullable=False),
        sa.Column("desired_replicas", sa.Integer(), nullable=False),
        sa.Column("recommendation", sa.Integer(), nullable=False),
        sa.Column("message", sa.Text(), nullable=False),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["deployment_id"], ["deployment.id"],
                                name=op.f("fk_autoscaler_state_deployment_id_deployment"),
                                ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("deployment_id", name=op.f("pk_autoscaler_state")),
    )


def downgrade() -> None:
    op.drop_table("autoscaler_state")
    # Not a batch: on SQLite that copies the deployment table, and dropping the old one
    # would cascade to every revision. SQLite (3.35+) drops a plain column in place.
    op.execute("ALTER TABLE deployment DROP COLUMN autoscale")
