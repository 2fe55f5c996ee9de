"""Answer passages get sentence embeddings (pgvector where available) and a heading trigram index.

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-17 08:00:00

Existing passages are embedded by `cms-api render --if-outdated` (which `cms-api serve`
and the deploy steps run), not here: a migration does not load the embedding model.
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.exc import DBAPIError

revision = "0017"
down_revision = "0016"
branch_labels = None
depends_on = None

DIMENSIONS = 256  # cms_api.services.embedding.DIMENSIONS when this was written


def upgrade():
    # The trigram list matches questions to headings (an FAQ's is its question), no longer
    # to whole texts, whose index cost every publish more than it found.
    op.drop_index("ix_answer_passages_search_text_trgm", table_name="answer_passages")
    op.create_index(
        "ix_answer_passages_heading_trgm",
        "answer_passages",
        ["heading"],
        postgresql_using="gin",
        postgresql_ops={"heading": "gin_trgm_ops"},
    )
    # float32, little-endian: read straight into numpy where the server has no pgvector.
    op.add_column("answer_passages", sa.Column("embedding", sa.LargeBinary(), nullable=True))
    bind = op.get_bind()
    available = bind.exec_driver_sql(
        "SELECT 1 FROM pg_available_extensions WHERE name = 'vector'"
    ).first()
    if available is None:
        return
    try:
        # pgvector is not a trusted extension: without the right to create it, or with
        # it created by an administrator beforehand, this is the place it fails or is a no-op.
        with bind.begin_nested():
            bind.exec_driver_sql("CREATE EXTENSION IF NOT EXISTS vector")
    except DBAPIError:
        return
    op.execute(f"ALTER TABLE answer_passages ADD COLUMN embedding_vector vector({DIMENSIONS})")
    # Inner product on unit vectors is the cosine, and the cheapest of pgvector's distances.
    op.execute(
        "CREATE INDEX ix_answer_passages_embedding_vector ON answer_passages "
        "USING hnsw (embedding_vector vector_ip_ops)"
    )


def downgrade():
    op.execute("DROP INDEX IF EXISTS ix_answer_passages_embedding_vector")
    op.execute("ALTER TABLE answer_passages DROP COLUMN IF EXISTS embedding_vector")
    op.drop_column("answer_passages", "embedding")
    op.drop_index("ix_answer_passages_heading_trgm", table_name="answer_passages")
    op.create_index(
        "ix_answer_passages_search_text_trgm",
        "answer_passages",
        ["search_text"],
        postgresql_using="gin",
        postgresql_ops={"search_text": "gin_trgm_ops"},
    )
