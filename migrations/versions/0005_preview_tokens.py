"""Preview tokens: short-lived secrets that show an article's draft on delivery.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-30 10:00:00

"""

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "preview_tokens",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("article_id", sa.Uuid(), nullable=False),
        sa.Column("created_by", sa.Uuid(), nullable=True),
        sa.Column("prefix", sa.String(length=24), nullable=False),
        sa.Column("digest", sa.String(length=64), nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["article_id"],
            ["articles.id"],
            name=op.f("fk_preview_tokens_article_id_articles"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["created_by"],
            ["users.id"],
            name=op.f("fk_preview_tokens_created_by_users"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_preview_tokens")),
        sa.UniqueConstraint("digest", name=op.f("uq_preview_tokens_digest")),
    )
    op.create_index(
        op.f("ix_preview_tokens_article_id"), "preview_tokens", ["article_id"], unique=False
    )
    op.create_index(
        op.f("ix_preview_tokens_created_by"), "preview_tokens", ["created_by"], unique=False
    )


def downgrade():
    op.drop_index(op.f("ix_preview_tokens_created_by"), table_name="preview_tokens")
    op.drop_index(op.f("ix_preview_tokens_article_id"), table_name="preview_tokens")
    op.drop_table("preview_tokens")
