"""Instant answers: published content split into passages, and the questions they left unanswered.

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-09 08:00:00

"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None

# The passage-cutting statement of services.publishing.passages as of this revision, over
# every published article and FAQ: an upgraded database answers before anything is
# republished.
BACKFILL_PASSAGES = """
WITH docs AS (
    SELECT d.kind, d.entity_id, d.etag, parsed.body
    FROM published_documents AS d
    CROSS JOIN LATERAL (SELECT d.body::jsonb AS body OFFSET 0) AS parsed
    WHERE d.kind IN ('article', 'faq')
),
cut AS (
    SELECT
        docs.kind, docs.entity_id, docs.etag, found.n::int AS position,
        'article' AS page_kind, docs.body->>'slug' AS page_slug,
        found.item->>'key' AS anchor,
        docs.body->>'title' AS title,
        coalesce(found.item->>'heading', '') AS heading,
        found.item->>'body_html' AS html,
        docs.body->'review' AS review
    FROM docs
    CROSS JOIN LATERAL jsonb_path_query(docs.body, 'strict $.sections.** ? (@.type() == "object")')
        WITH ORDINALITY AS found(item, n)
    WHERE docs.kind = 'article' AND found.item ? 'body_html'
    UNION ALL
    SELECT
        docs.kind, docs.entity_id, docs.etag, 100000 + faq.n::int,
        'article', docs.body->>'slug', NULL, docs.body->>'title',
        coalesce(faq.item->>'question', ''), faq.item->>'answer_html', docs.body->'review'
    FROM docs
    CROSS JOIN LATERAL jsonb_array_elements(
        CASE jsonb_typeof(docs.body->'faqs') WHEN 'array' THEN docs.body->'faqs' ELSE '[]' END
    ) WITH ORDINALITY AS faq(item, n)
    WHERE docs.kind = 'article'
    UNION ALL
    SELECT
        docs.kind, docs.entity_id, docs.etag, 0,
        'topic', docs.body->'topic'->>'slug', NULL, docs.body->>'question',
        coalesce(docs.body->>'question', ''), docs.body->>'answer_html',
        jsonb_build_object(
            'reviewers',
            CASE jsonb_typeof(docs.body->'reviewed_by')
                WHEN 'object' THEN jsonb_build_array(docs.body->'reviewed_by')
                ELSE '[]'
            END,
            'reviewed_on', docs.body->'reviewed_on'
        )
    FROM docs
    WHERE docs.kind = 'faq' AND jsonb_typeof(docs.body->'topic') = 'object'
),
plain AS (
    SELECT
        cut.*,
        cms_search_squash(cut.title) AS plain_title,
        cms_search_squash(cut.heading) AS plain_heading,
        cms_search_plain(cut.html) AS plain_text
    FROM cut
    WHERE cut.html IS NOT NULL AND cut.page_slug IS NOT NULL
    OFFSET 0  -- computed once, however often used
)
INSERT INTO answer_passages (
    kind, entity_id, position, etag, page_kind, page_slug, anchor, title, heading, html, text,
    search_text, vector, reviewers, reviewed_on, review_due
)
SELECT
    kind, entity_id, position, etag, page_kind, page_slug, anchor, plain_title, plain_heading,
    html, plain_text,
    concat_ws(' ', plain_heading, plain_text),
    -- The heading (or question) says what the passage is about; the title, which every
    -- passage of a page shares, only helps a little.
    setweight(to_tsvector('cms_search', plain_heading), 'A')
        || setweight(to_tsvector('cms_search', plain_title), 'C')
        || setweight(to_tsvector('cms_search', plain_text), 'D'),
    coalesce(
        (
            SELECT jsonb_agg(
                jsonb_build_object(
                    'name', coalesce(reviewer->>'display_name', reviewer->>'name'),
                    'slug', reviewer->>'slug'
                )
                ORDER BY n
            )
            FROM jsonb_array_elements(
                CASE jsonb_typeof(review->'reviewers') WHEN 'array' THEN review->'reviewers'
                ELSE '[]' END
            ) WITH ORDINALITY AS listed(reviewer, n)
        ),
        '[]'
    ),
    (review->>'reviewed_on')::date,
    (review->>'next_review_due')::date
FROM plain
WHERE plain_text <> ''
ON CONFLICT (kind, entity_id, position) DO NOTHING
"""


def upgrade():
    op.create_table(
        "answer_passages",
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("entity_id", sa.Uuid(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("etag", sa.String(length=40), nullable=False),
        sa.Column("page_kind", sa.String(length=16), nullable=False),
        sa.Column("page_slug", sa.String(length=120), nullable=False),
        sa.Column("anchor", sa.Text(), nullable=True),
        sa.Column("title", sa.Text(), nullable=False),
        sa.Column("heading", sa.Text(), nullable=False),
        sa.Column("html", sa.Text(), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("search_text", sa.Text(), nullable=False),
        sa.Column("vector", postgresql.TSVECTOR(), nullable=False),
        sa.Column("reviewers", postgresql.JSONB(), nullable=False),
        sa.Column("reviewed_on", sa.Date(), nullable=True),
        sa.Column("review_due", sa.Date(), nullable=True),
        sa.CheckConstraint(
            "kind IN ('article', 'faq')", name=op.f("ck_answer_passages_kind_answerable")
        ),
        sa.ForeignKeyConstraint(
            ["kind", "entity_id"],
            ["published_documents.kind", "published_documents.entity_id"],
            name=op.f("fk_answer_passages_kind_published_documents"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("kind", "entity_id", "position", name=op.f("pk_answer_passages")),
    )
    op.create_table(
        "unanswered_questions",
        sa.Column("id", sa.Uuid(), server_default=sa.text("gen_random_uuid()"), nullable=False),
        sa.Column("normalized", sa.Text(), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("asked_count", sa.Integer(), nullable=False),
        sa.Column("first_asked_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_asked_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("dismissed_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_unanswered_questions")),
        sa.UniqueConstraint("normalized", name=op.f("uq_unanswered_questions_normalized")),
    )
    op.get_bind().exec_driver_sql(BACKFILL_PASSAGES)
    # Indexes after the backfill: building one costs far less than growing it row by row.
    op.create_index(
        "ix_answer_passages_vector", "answer_passages", ["vector"], postgresql_using="gin"
    )
    op.create_index(
        "ix_answer_passages_search_text_trgm",
        "answer_passages",
        ["search_text"],
        postgresql_using="gin",
        postgresql_ops={"search_text": "gin_trgm_ops"},
    )
    op.create_index(
        "ix_unanswered_questions_open",
        "unanswered_questions",
        ["asked_count", "id"],
        postgresql_where=sa.text("dismissed_at IS NULL"),
    )


def downgrade():
    op.drop_index("ix_unanswered_questions_open", table_name="unanswered_questions")
    op.drop_table("unanswered_questions")
    op.drop_index("ix_answer_passages_search_text_trgm", table_name="answer_passages")
    op.drop_index("ix_answer_passages_vector", table_name="answer_passages")
    op.drop_table("answer_passages")
