"""Search entries are indexed newest first with a total order (kind, published_at, entity_id).

Content published together (a bulk publish, an import) shares its published_at; a lookup
that reads the newest few filed under some topics read every tie before it could stop.

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-18 08:00:00

"""

from alembic import op

revision = "0018"
down_revision = "0017"
branch_labels = None
depends_on = None


def upgrade():
    op.drop_index("ix_search_entries_kind_published", table_name="search_entries")
    op.create_index(
        "ix_search_entries_kind_published",
        "search_entries",
        ["kind", "published_at", "entity_id"],
    )


def downgrade():
    op.drop_index("ix_search_entries_kind_published", table_name="search_entries")
    op.create_index("ix_search_entries_kind_published", "search_entries", ["kind", "published_at"])
