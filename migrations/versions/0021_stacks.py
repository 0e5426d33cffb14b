"""stacks: an application of several services from one Compose file, released as one

``stack`` (its services are deployments with ``deployment.stack_id``), its numbered
``stack_revision``s (the file, what it maps to, sealed secret values) and its
``stack_rollout``s (a release in depends_on order).

Revision ID: 0021
Revises: 0015
Create Date: 2026-12-01 12:00:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0021"
down_revision = "0024"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "stack",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("name", sa.String(length=63), nullable=False),
        sa.Column("revision", sa.Integer(), nullable=False),
        sa.Column("resource_version", sa.Integer(), nullable=False),
        sa.Column("deleting", sa.Boolean(), nullable=False),
        sa.Column("delete_volumes", sa.Boolean(), nullable=False),
        sa.Column("phase", sa.String(length=16), nullable=False),
        sa.Column("message", sa.Text(), nullable=False),
        sa.Column("step_queued_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_stack")),
        sa.UniqueConstraint("name", name=op.f("uq_stack_name")),
    )
    op.create_table(
        "stack_revision",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("stack_id", sa.Uuid(), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("compose", sa.Text(), nullable=False),
        sa.Column("services", sa.JSON(), nullable=False),
        sa.Column("volumes", sa.JSON(), nullable=False),
        sa.Column("networks", sa.JSON(), nullable=False),
        sa.Column("secrets", sa.JSON(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["stack_id"], ["stack.id"], ondelete="CASCADE",
                                name=op.f("fk_stack_revision_stack_id_stack")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_stack_revision")),
        sa.UniqueConstraint("stack_id", "number", name=op.f("uq_stack_revision_stack_id_number")),
    )
    op.create_index(op.f("ix_stack_revision_stack_id"), "stack_revision", ["stack_id"])
    op.create_table(
        "stack_rollout",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("stack_id", sa.Uuid(), nullable=True),
        sa.Column("stack_name", sa.String(length=63), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("from_revision", sa.Integer(), nullable=True),
        sa.Column("to_revision", sa.Integer(), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("message", sa.Text(), nullable=False),
        sa.Column("applied", sa.JSON(), nullable=False),
        sa.Column("progress_mark", sa.Integer(), nullable=True),
        sa.Column("last_progress_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["stack_id"], ["stack.id"], ondelete="SET NULL",
                                name=op.f("fk_stack_rollout_stack_id_stack")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_stack_rollout")),
    )
    op.create_index(op.f("ix_stack_rollout_stack_id"), "stack_rollout", ["stack_id"])
    op.create_index(op.f("ix_stack_rollout_state"), "stack_rollout", ["state"])
    # No foreign key, on purpose: on SQLite adding one copies the deployment table, and
    # dropping the old copy cascades to every revision. The link is the app's to keep (a
    # stack's row goes only once its deployments have gone).
    with op.batch_alter_table("deployment") as batch:
        batch.add_column(sa.Column("stack_id", sa.Uuid(), nullable=True))
    op.create_index(op.f("ix_deployment_stack_id"), "deployment", ["stack_id"])


def downgrade() -> None:
    op.drop_index(op.f("ix_deployment_stack_id"), "deployment")
    if op.get_bind().dialect.name == "sqlite":
        # Natively (SQLite 3.35+): batch mode would copy the table, and dropping the old
        # copy cascades to every revision.
        op.execute("ALTER TABLE deployment DROP COLUMN stack_id")
    else:
        op.drop_column("deployment", "stack_id")
    op.drop_table("stack_rollout")
    op.drop_table("stack_revision")
    op.drop_table("stack")
