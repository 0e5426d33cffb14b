"""room for sealed webhook secrets (secrets at rest are sealed from now on)

Sealed values are longer than the plain ones. Rows written before are read as they are;
`moorage secrets reseal` seals them.

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-25 21:00:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("webhook") as batch:
        batch.alter_column("secret", existing_type=sa.String(length=128), type_=sa.Text(),
                           existing_nullable=True)


def downgrade() -> None:
    # A sealed secret does not fit the old column: refuse rather than truncate it.
    conn = op.get_bind()
    if conn.scalar(sa.text("SELECT count(*) FROM webhook WHERE length(secret) > 128")):
        raise RuntimeError("webhook secrets are sealed; they do not fit the 0006 schema")
    with op.batch_alter_table("webhook") as batch:
        batch.alter_column("secret", existing_type=sa.Text(), type_=sa.String(length=128),
                           existing_nullable=True)
