"""Topic and hub counts follow a TRUNCATE of the rows they count.

`listed_article_counts` (0023) and `search_topic_counts` (0022) are kept by triggers on
the inserts and deletes of `listed_articles` and `search_entry_topics`. A TRUNCATE fires
neither, and those tables are truncated by any `TRUNCATE published_documents CASCADE`
(or of `search_entries`), say when an operator empties delivery to render it again:
the counts then kept the old totals, and the next render added the new ones to them.
Each counting table is now emptied with the table it counts, in the same transaction.

Revision ID: 0027
Revises: 0026
Create Date: 2026-12-05 13:00:00

"""

from alembic import op

revision = "0027"
down_revision = "0026"
branch_labels = None
depends_on = None

# (the counted table, its counts)
_COUNTED = (
    ("listed_articles", "listed_article_counts"),
    ("search_entry_topics", "search_topic_counts"),
)

_EMPTY = """
CREATE FUNCTION cms_counts_emptied() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    -- The counts table is named by the trigger: both are fixed when it is created.
    EXECUTE format('DELETE FROM %I', TG_ARGV[0]);
    RETURN NULL;
END
$$
"""


def upgrade():
    op.execute(_EMPTY)
    for counted, counts in _COUNTED:
        op.execute(
            f"CREATE TRIGGER {counts}_emptied AFTER TRUNCATE ON {counted} "
            f"FOR EACH STATEMENT EXECUTE FUNCTION cms_counts_emptied('{counts}')"
        )


def downgrade():
    for counted, counts in _COUNTED:
        op.execute(f"DROP TRIGGER {counts}_emptied ON {counted}")
    op.execute("DROP FUNCTION cms_counts_emptied()")
