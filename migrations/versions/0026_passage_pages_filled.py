"""Answer passages fill their pages again: they are inserted with their embeddings.

Migration 0025 left half of each page free for the update that added a passage's
embedding moments after its insert. Publishing now gives the index statement the
embedding of every passage whose text it could make beforehand, and the passage is
inserted with it; only the others (text whose squashing could depend on the server's
locale) and a full reindex still update passages after their cut. Half-empty pages
doubled the table (and what scans of it, and the cache, hold) for those few. Existing
pages keep their filling until they are rewritten.

Revision ID: 0026
Revises: 0025
Create Date: 2026-12-05 09:30:00

"""

from alembic import op

revision = "0026"
down_revision = "0025"
branch_labels = None
depends_on = None


def upgrade():
    op.execute("ALTER TABLE answer_passages RESET (fillfactor)")


def downgrade():
    op.execute("ALTER TABLE answer_passages SET (fillfactor = 50)")
