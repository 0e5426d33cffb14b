"""usage samples: what each running replica consumed, over a short window

Revision ID: 0023
Revises: 0015
Create Date: 2026-12-01 12:00:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0023"
down_revision = "0017"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "usage_sample",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False),
        sa.Column("deployment_id", sa.Uuid(), nullable=False),
        sa.Column("container_id", sa.String(length=64), nullable=False),
        sa.Column("sampled_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("cpu_percent", sa.Float(), nullable=True),
        sa.Column("memory_bytes", sa.BigInteger(), nullable=True),
        sa.Column("memory_percent", sa.Float(), nullable=True),
        sa.Column("cpu_total_ns", sa.BigInteger(), nullable=False),
        sa.Column("system_cpu_ns", sa.BigInteger(), nullable=True),
        sa.Column("online_cpus", sa.Integer(), nullable=False),
        sa.Column("read_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["deployment_id"], ["deployment.id"],
                                name=op.f("fk_usage_sample_deployment_id_deployment"),
                                ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_usage_sample")),
    )
    op.create_index(op.f("ix_usage_sample_deployment_id"), "usage_sample", ["deployment_id"])
    op.create_index(op.f("ix_usage_sample_sampled_at"), "usage_sample", ["sampled_at"])
    op.create_index("ix_usage_sample_container_sampled", "usage_sample",
                    ["container_id", "sampled_at"])


def downgrade() -> None:
    op.drop_table("usage_sample")
