"""Review comments anchored to sections, and who has an article open (presence).

- `review_comments`: a comment on an article by a user, anchored to a section key (or to
  the whole article), written against a revision; replies one level deep (`parent_id`);
  a thread is resolved on its top-level comment.
- `article_presence`: one row per user with an article open, refreshed by heartbeats and
  ignored a minute after the last one. UNLOGGED: it is worth nothing after a crash.

Revision ID: 0021
Revises: 0020
Create Date: 2026-12-22 10:00:00

"""

import sqlalchemy as sa
from alembic import op

revision = "0021"
down_revision = "0020"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "review_comments",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("article_id", sa.Uuid(), nullable=False),
        sa.Column("parent_id", sa.Uuid(), nullable=True),
        sa.Column("author_id", sa.Uuid(), nullable=True),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("section_key", sa.String(80), nullable=True),
        sa.Column("revision_number", sa.Integer(), nullable=False),
        sa.Column(
            "created_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False
        ),
        sa.Column("edited_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("resolved_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("resolved_by_id", sa.Uuid(), nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.CheckConstraint(
            "char_length(body) BETWEEN 1 AND 5000", name=op.f("ck_review_comments_body_length")
        ),
        sa.CheckConstraint(
            "parent_id IS NULL OR resolved_at IS NULL",
            name=op.f("ck_review_comments_reply_not_resolved"),
        ),
        sa.ForeignKeyConstraint(
            ["article_id"],
            ["articles.id"],
            name=op.f("fk_review_comments_article_id_articles"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["parent_id"],
            ["review_comments.id"],
            name=op.f("fk_review_comments_parent_id_review_comments"),
        ),
        sa.ForeignKeyConstraint(
            ["author_id"],
            ["users.id"],
            name=op.f("fk_review_comments_author_id_users"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["resolved_by_id"],
            ["users.id"],
            name=op.f("fk_review_comments_resolved_by_id_users"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_review_comments")),
    )
    op.create_index(
        "ix_review_comments_threads",
        "review_comments",
        ["article_id", "created_at", "id"],
        postgresql_where=sa.text("parent_id IS NULL"),
    )
    op.create_index(
        op.f("ix_review_comments_parent_id"), "review_comments", ["parent_id"], unique=False
    )
    op.create_index(
        op.f("ix_review_comments_author_id"), "review_comments", ["author_id"], unique=False
    )

    op.create_table(
        "article_presence",
        sa.Column("article_id", sa.Uuid(), nullable=False),
        sa.Column("user_id", sa.Uuid(), nullable=False),
        sa.Column("since", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_seen", sa.DateTime(timezone=True), nullable=False),
        sa.Column("editing", sa.Boolean(), server_default=sa.false(), nullable=False),
        sa.ForeignKeyConstraint(
            ["article_id"],
            ["articles.id"],
            name=op.f("fk_article_presence_article_id_articles"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_article_presence_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("article_id", "user_id", name=op.f("pk_article_presence")),
        prefixes=["UNLOGGED"],
    )
    op.create_index(
        op.f("ix_article_presence_user_id"), "article_presence", ["user_id"], unique=False
    )
    op.create_index(
        op.f("ix_article_presence_last_seen"), "article_presence", ["last_seen"], unique=False
    )


def downgrade():
    op.drop_table("article_presence")
    op.drop_table("review_comments")
