"""Topic synonyms and lay terms, which the symptom lookup and Infobutton text requests match.

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-07 08:00:00

"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade():
    op.add_column(
        "topics",
        sa.Column(
            "synonyms",
            postgresql.ARRAY(sa.Text()),
            server_default=sa.text("'{}'::text[]"),
            nullable=False,
        ),
    )


def downgrade():
    op.drop_column("topics", "synonyms")
