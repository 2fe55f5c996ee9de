"""Red flags: reviewed urgent guidance shown instead of content when a reader types an emergency.

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-10 08:00:00

"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0016"
down_revision = "0015"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "red_flags",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("slug", sa.String(120), nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        # One locale today; per-locale guidance later needs no rewrite of existing rows.
        sa.Column("locale", sa.String(16), server_default="en", nullable=False),
        sa.Column("priority", sa.Integer(), nullable=False),
        sa.Column("triggers", postgresql.JSONB(), nullable=False),
        sa.Column("title", sa.String(200), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("action_label", sa.String(200), nullable=False),
        sa.Column("action_url", sa.String(200), nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column(
            "reviewed_by_id",
            sa.Uuid(),
            sa.ForeignKey(
                "people.id", name=op.f("fk_red_flags_reviewed_by_id_people"), ondelete="SET NULL"
            ),
            nullable=True,
        ),
        sa.Column("reviewed_on", sa.Date(), nullable=True),
        sa.Column("published_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column(
            "created_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False
        ),
        sa.Column(
            "updated_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False
        ),
        sa.Column("deleted_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.CheckConstraint(
            "status IN ('draft', 'in_review', 'approved', 'published')",
            name=op.f("ck_red_flags_status_known"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_red_flags")),
        sa.UniqueConstraint("slug", name=op.f("uq_red_flags_slug")),
    )


def downgrade():
    op.execute("DELETE FROM published_documents WHERE kind = 'red_flag'")
    op.drop_table("red_flags")
