"""Webhook deliveries record when they finished, so that old ones can be pruned.

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-29 15:00:00

"""

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade():
    op.add_column(
        "webhook_deliveries",
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
    )
    # The last trace of each finished row: its delivery, its last attempt, or (cancelled
    # rows) the deletion of its endpoint, which is what cancels them.
    op.execute(
        """
        UPDATE webhook_deliveries d SET finished_at = greatest(
            d.created_at,
            d.delivered_at,
            (SELECT max(a.attempted_at) FROM webhook_attempts a WHERE a.delivery_id = d.id),
            CASE WHEN d.status = 'cancelled' THEN
                (SELECT e.deleted_at FROM webhook_endpoints e WHERE e.id = d.endpoint_id)
            END
        )
        WHERE d.status <> 'pending'
        """
    )
    # What pruning scans for rows past their retention: only the finished ones.
    op.create_index(
        "ix_webhook_deliveries_finished",
        "webhook_deliveries",
        ["finished_at"],
        unique=False,
        postgresql_where=sa.text("status <> 'pending'"),
    )


def downgrade():
    op.drop_index(
        "ix_webhook_deliveries_finished",
        table_name="webhook_deliveries",
        postgresql_where=sa.text("status <> 'pending'"),
    )
    op.drop_column("webhook_deliveries", "finished_at")
