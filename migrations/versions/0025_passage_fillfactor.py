"""Answer passages leave room on each page for the update that adds their embedding.

A passage is inserted by the search index's statement and updated moments later with its
embedding. With full pages that update writes the row elsewhere and adds it again to every
index of the table, two GIN indexes among them (its text's vector, its heading's trigrams).
With room left on the page, PostgreSQL keeps the new version there and touches no index
(a heap-only tuple), as long as the new version fits there: the old one cannot be pruned
before the transaction that wrote it ends. Where pgvector's HNSW index is on the
embedding, an indexed column changes and every index is touched still; the room costs
little even there, since the update leaves the old version behind on its page anyway.
Existing pages keep their filling until they are rewritten.

Revision ID: 0025
Revises: 0024
Create Date: 2026-12-04 16:40:00

"""

from alembic import op

revision = "0025"
down_revision = "0024"
branch_labels = None
depends_on = None


def upgrade():
    op.execute("ALTER TABLE answer_passages SET (fillfactor = 50)")


def downgrade():
    op.execute("ALTER TABLE answer_passages RESET (fillfactor)")
