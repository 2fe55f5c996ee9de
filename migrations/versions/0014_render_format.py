"""Which format of the rendering code the stored documents follow, so a deploy can catch up.

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-08 08:00:00

"""

import sqlalchemy as sa
from alembic import op

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "render_format",
        sa.Column("id", sa.SmallInteger(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column(
            "updated_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False
        ),
        sa.CheckConstraint("id = 1", name=op.f("ck_render_format_single_row")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_render_format")),
    )
    # Format 0: documents stored before formats were counted, older than any format the
    # code knows, so the first `cms-api render --if-outdated` renders them all again.
    op.execute("INSERT INTO render_format (id, version) VALUES (1, 0)")


def downgrade():
    op.drop_table("render_format")
