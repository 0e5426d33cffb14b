"""an index for the webhook rate limit: deliveries per webhook by time

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-25 21:00:00
"""

from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_webhook_delivery_webhook_id_received_at", "webhook_delivery",
                    ["webhook_id", "received_at"])


def downgrade() -> None:
    op.drop_index("ix_webhook_delivery_webhook_id_received_at", table_name="webhook_delivery")
