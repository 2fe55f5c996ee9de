"""Text search vectors too large to store inline are compressed with lz4 where the server has it.

0024 moved the large text values a publish writes to lz4. The text search vectors of an
article's search entry (`vector`, and `passage_vectors`, one for each of its passages)
and of its answer passages are written in the same statements, and are large enough to
be compressed too: with pglz, about 3 % of PostgreSQL's time in a bulk publish
(bench/README.md). Servers built without lz4 keep pglz.

Values already stored keep their compression until they are written again.

Revision ID: 0028
Revises: 0027
Create Date: 2026-12-05 18:00:00

"""

from alembic import op

revision = "0028"
down_revision = "0027"
branch_labels = None
depends_on = None

_VECTOR_COLUMNS = {
    "search_entries": ("vector", "passage_vectors"),
    "answer_passages": ("vector",),
}


def _set_compression(method: str) -> str:
    alterations = "\n".join(
        f"ALTER TABLE {table} "
        + ", ".join(f"ALTER COLUMN {column} SET COMPRESSION {method}" for column in columns)
        + ";"
        for table, columns in _VECTOR_COLUMNS.items()
    )
    # lz4 only where the server was built with it; pglz is always there.
    if method == "pglz":
        return alterations
    return f"""
DO $$
BEGIN
    IF EXISTS (
        SELECT FROM pg_settings
        WHERE name = 'default_toast_compression' AND 'lz4' = ANY(enumvals)
    ) THEN
        {alterations}
    END IF;
END
$$
"""


def upgrade():
    op.execute(_set_compression("lz4"))


def downgrade():
    op.execute(_set_compression("pglz"))
