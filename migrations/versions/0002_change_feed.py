"""Change feed of published content; pg_trgm and unaccent for search.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-29 11:05:00

"""

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade():
    # Both are trusted extensions: a database owner may create them without superuser.
    op.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    op.execute("CREATE EXTENSION IF NOT EXISTS unaccent")
    op.create_table(
        "change_events",
        sa.Column("id", sa.BigInteger(), autoincrement=True, nullable=False),
        sa.Column(
            "transaction_id",
            sa.BigInteger(),
            server_default=sa.text("(pg_current_xact_id()::text)::bigint"),
            nullable=False,
        ),
        sa.Column(
            "occurred_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("clock_timestamp()"),
            nullable=False,
        ),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("entity_id", sa.Uuid(), nullable=False),
        sa.Column("slug", sa.String(length=120), nullable=True),
        sa.Column("action", sa.String(length=16), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_change_events")),
    )
    op.create_index(
        "ix_change_events_feed_order", "change_events", ["transaction_id", "id"], unique=False
    )
    # Content published before the feed existed starts it, so a first sync sees everything.
    op.execute(
        "INSERT INTO change_events (kind, entity_id, slug, action, occurred_at) "
        "SELECT kind, entity_id, slug, 'published', published_at FROM published_documents "
        "ORDER BY published_at, kind, entity_id"
    )


def downgrade():
    op.drop_index("ix_change_events_feed_order", table_name="change_events")
    op.drop_table("change_events")
    op.execute("DROP EXTENSION IF EXISTS unaccent")
    op.execute("DROP EXTENSION IF EXISTS pg_trgm")
