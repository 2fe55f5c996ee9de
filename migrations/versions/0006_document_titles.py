"""Published documents keep their display title, and articles their own topics, as columns.

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-29 14:00:00

"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade():
    op.add_column("published_documents", sa.Column("title", sa.Text(), nullable=True))
    op.add_column(
        "published_documents",
        sa.Column(
            "topic_slugs",
            postgresql.ARRAY(sa.Text()),
            server_default=sa.text("'{}'::text[]"),
            nullable=False,
        ),
    )
    # The title as each kind's summary shows it; an article's own topics in the order its
    # summary lists them.
    op.execute(
        """
        UPDATE published_documents d SET
            title = coalesce(s.doc ->> CASE d.kind WHEN 'article' THEN 'title'
                                                   WHEN 'faq' THEN 'question'
                                                   ELSE 'name' END, ''),
            topic_slugs = CASE WHEN d.kind = 'article' THEN ARRAY(
                SELECT t ->> 'slug'
                FROM jsonb_array_elements(s.doc -> 'topics') WITH ORDINALITY AS x(t, n)
                ORDER BY n
            ) ELSE '{}' END
        FROM (SELECT kind, entity_id, summary::jsonb AS doc FROM published_documents) s
        WHERE s.kind = d.kind AND s.entity_id = d.entity_id
        """
    )
    op.alter_column("published_documents", "title", nullable=False)


def downgrade():
    op.drop_column("published_documents", "topic_slugs")
    op.drop_column("published_documents", "title")
