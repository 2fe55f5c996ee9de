"""FAQs are reviewed: an article's in its revisions, a topic's on its own; public pages unchanged.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-03 08:00:00

"""

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade():
    # A topic FAQ is submitted (`in_review`) and approved on its own; an article's FAQs are
    # reviewed with the article, so they never wait in review by themselves.
    op.drop_constraint(op.f("ck_faqs_status_known"), "faqs", type_="check")
    op.create_check_constraint(
        op.f("ck_faqs_status_known"), "faqs", "status IN ('draft', 'in_review', 'published')"
    )
    op.create_check_constraint(
        op.f("ck_faqs_reviewed_with_article"), "faqs", "article_id IS NULL OR status <> 'in_review'"
    )
    # A topic FAQ's approved text: what readers see while a newer text awaits review.
    op.add_column("faqs", sa.Column("live_question", sa.String(500), nullable=True))
    op.add_column("faqs", sa.Column("live_answer", sa.Text(), nullable=True))
    op.create_check_constraint(
        op.f("ck_faqs_live_text_whole"), "faqs", "(live_question IS NULL) = (live_answer IS NULL)"
    )
    op.add_column(
        "faqs",
        sa.Column(
            "reviewed_by_id",
            sa.Uuid(),
            sa.ForeignKey(
                "people.id", name=op.f("fk_faqs_reviewed_by_id_people"), ondelete="SET NULL"
            ),
            nullable=True,
        ),
    )
    op.add_column("faqs", sa.Column("reviewed_on", sa.Date(), nullable=True))
    # When the text readers see last changed (set by publishing, never by rendering).
    op.add_column("faqs", sa.Column("live_updated_at", sa.DateTime(timezone=True), nullable=True))
    # The article revision that recorded an article FAQ's latest change.
    op.add_column("faqs", sa.Column("article_revision", sa.Integer(), nullable=True))

    # Published topic FAQs stay as readers see them; FAQ documents keep their dates.
    op.execute(
        """
        UPDATE faqs SET live_question = question, live_answer = answer
        WHERE topic_id IS NOT NULL AND status = 'published' AND deleted_at IS NULL
        """
    )
    op.execute(
        """
        UPDATE faqs SET live_updated_at = updated_at,
            published_at = coalesce(published_at, updated_at)
        WHERE status = 'published' AND deleted_at IS NULL
        """
    )
    # Each article's published FAQs go into its revisions that have none recorded, so the
    # live revision (and any later one) keeps showing what readers see today.
    op.execute(
        """
        UPDATE revisions AS r SET snapshot = r.snapshot || jsonb_build_object(
            'faqs',
            coalesce((
                SELECT jsonb_agg(
                    jsonb_build_object(
                        'id', f.id::text, 'question', f.question, 'answer', f.answer,
                        'position', f.position
                    )
                    ORDER BY f.position, f.id
                )
                FROM faqs AS f
                WHERE f.article_id = r.article_id AND f.status = 'published'
                    AND f.deleted_at IS NULL
            ), '[]'::jsonb)
        )
        WHERE NOT r.snapshot ? 'faqs'
        """
    )
    # Link anchor texts shown today count as reviewed: they go into the same revisions.
    op.execute(
        """
        UPDATE revisions AS r SET snapshot = r.snapshot || jsonb_build_object(
            'links',
            coalesce((
                SELECT jsonb_agg(
                    jsonb_build_object('target_id', l.target_id::text, 'anchor_text', l.anchor_text)
                    ORDER BY l.position, l.id
                )
                FROM related_links AS l
                WHERE l.source_id = r.article_id AND l.deleted_at IS NULL
            ), '[]'::jsonb)
        )
        WHERE NOT r.snapshot ? 'links'
        """
    )


def downgrade():
    op.execute("UPDATE revisions SET snapshot = snapshot - 'faqs' - 'links'")
    # A topic FAQ awaiting review was not public before either.
    op.execute("UPDATE faqs SET status = 'draft' WHERE status = 'in_review'")
    op.drop_column("faqs", "article_revision")
    op.drop_column("faqs", "live_updated_at")
    op.drop_column("faqs", "reviewed_on")
    op.drop_column("faqs", "reviewed_by_id")
    op.drop_constraint(op.f("ck_faqs_live_text_whole"), "faqs", type_="check")
    op.drop_column("faqs", "live_answer")
    op.drop_column("faqs", "live_question")
    op.drop_constraint(op.f("ck_faqs_reviewed_with_article"), "faqs", type_="check")
    op.drop_constraint(op.f("ck_faqs_status_known"), "faqs", type_="check")
    op.create_check_constraint(
        op.f("ck_faqs_status_known"), "faqs", "status IN ('draft', 'published')"
    )
