"""Large published values are compressed with lz4 where the server has it; compressed
bodies are stored out of line as they are.

PostgreSQL compresses every value over 2 KB it stores out of line, by default with pglz:
about 0.7 ms for a 46 KB document, against 0.13 ms with lz4, paid on each publish for
the document body, the revision snapshot and the search entry's passages, in the
statements a publish waits for. Reading them back is faster with lz4 too. Servers built
without lz4 (`default_toast_compression` does not offer it) keep pglz. `body_gzip` and
`body_br` are compressed already: PostgreSQL no longer tries again.

Values already stored keep their compression until they are written again.

Revision ID: 0024
Revises: 0023
Create Date: 2026-12-04 09:30:00

"""

from alembic import op

revision = "0024"
down_revision = "0023"
branch_labels = None
depends_on = None

_LZ4_COLUMNS = {
    "published_documents": ("body", "summary"),
    "revisions": ("snapshot",),
    "search_entries": ("passages",),
    "answer_passages": ("html", "text", "search_text"),
}


def _set_compression(method: str) -> str:
    alterations = "\n".join(
        f"ALTER TABLE {table} "
        + ", ".join(f"ALTER COLUMN {column} SET COMPRESSION {method}" for column in columns)
        + ";"
        for table, columns in _LZ4_COLUMNS.items()
    )
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
    op.execute(
        "ALTER TABLE published_documents "
        "ALTER COLUMN body_gzip SET STORAGE EXTERNAL, ALTER COLUMN body_br SET STORAGE EXTERNAL"
    )


def downgrade():
    op.execute(
        "ALTER TABLE published_documents "
        "ALTER COLUMN body_gzip SET STORAGE EXTENDED, ALTER COLUMN body_br SET STORAGE EXTENDED"
    )
    op.execute(_set_compression("pglz"))
