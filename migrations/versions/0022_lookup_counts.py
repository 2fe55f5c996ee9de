"""The lookup counts a topic's content from narrow rows, and finds codes by their key.

- `search_entry_topics`: each topic a search entry is filed under, one row per slug with
  the entry's published_at, kept by statement-level triggers on `search_entries` (one
  INSERT ... SELECT per statement, however many entries a bulk publish writes) and gone
  with its entry (the foreign key cascades). Counting a topic's articles and FAQs
  becomes an index-only scan of its primary key, and its newest ones a backward scan of
  the same index, instead of visits to wide entries.
- `search_topic_counts`: how many entries of each kind and locale are filed under each
  topic, kept by statement-level triggers on `search_entry_topics` (its inserts, and its
  deletes, cascaded ones included): the lookup reads a topic's counts as one row, however
  much content the topic has.
- `ix_medical_codes_lookup_category`: codes by system and the first 3 characters of their
  lookup key (upper case, no dot), so the codes related to an ICD-10-CM code are read by
  its category instead of topic by topic.

Revision ID: 0022
Revises: 0021
Create Date: 2026-12-04 05:00:00

"""

import sqlalchemy as sa
from alembic import op

revision = "0022"
down_revision = "0021"
branch_labels = None
depends_on = None

_SYNC = """
CREATE FUNCTION cms_search_entry_topics_sync() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'UPDATE' THEN
        DELETE FROM search_entry_topics AS filed
        USING old_entries AS gone  -- not "old": OLD and NEW name the trigger's row variables
        WHERE filed.kind = gone.kind AND filed.entity_id = gone.entity_id;
    END IF;
    INSERT INTO search_entry_topics (topic, locale, kind, published_at, entity_id)
    SELECT DISTINCT topic, entry.locale, entry.kind, entry.published_at, entry.entity_id
    FROM new_entries AS entry CROSS JOIN LATERAL unnest(entry.topics) AS topic
    WHERE topic IS NOT NULL;
    RETURN NULL;
END
$$
"""

_COUNT = """
CREATE FUNCTION cms_search_topic_counts_sync() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        INSERT INTO search_topic_counts AS counted (topic, locale, kind, entries)
        SELECT topic, locale, kind, count(*) FROM added
        GROUP BY topic, locale, kind
        ORDER BY topic, locale, kind  -- rows locked in one order by every writer
        ON CONFLICT (topic, locale, kind)
            DO UPDATE SET entries = counted.entries + excluded.entries;
    ELSE
        UPDATE search_topic_counts AS counted
        SET entries = counted.entries - gone.entries
        FROM (
            SELECT topic, locale, kind, count(*) AS entries FROM removed
            GROUP BY topic, locale, kind
        ) AS gone
        WHERE counted.topic = gone.topic AND counted.locale = gone.locale
            AND counted.kind = gone.kind;
    END IF;
    RETURN NULL;
END
$$
"""


def upgrade():
    op.create_table(
        "search_entry_topics",
        sa.Column("topic", sa.Text(), nullable=False),
        sa.Column("locale", sa.String(35), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("published_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("entity_id", sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(
            ["kind", "entity_id"],
            ["search_entries.kind", "search_entries.entity_id"],
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("topic", "locale", "kind", "published_at", "entity_id"),
    )
    # An entry's rows, for the cascade and the trigger that replaces them.
    op.create_index("ix_search_entry_topics_entry", "search_entry_topics", ["kind", "entity_id"])
    op.execute(_SYNC)
    op.execute(
        "CREATE TRIGGER search_entry_topics_inserted AFTER INSERT ON search_entries "
        "REFERENCING NEW TABLE AS new_entries "
        "FOR EACH STATEMENT EXECUTE FUNCTION cms_search_entry_topics_sync()"
    )
    op.execute(
        "CREATE TRIGGER search_entry_topics_updated AFTER UPDATE ON search_entries "
        "REFERENCING OLD TABLE AS old_entries NEW TABLE AS new_entries "
        "FOR EACH STATEMENT EXECUTE FUNCTION cms_search_entry_topics_sync()"
    )
    op.execute(
        "INSERT INTO search_entry_topics (topic, locale, kind, published_at, entity_id) "
        "SELECT DISTINCT topic, entry.locale, entry.kind, entry.published_at, entry.entity_id "
        "FROM search_entries AS entry CROSS JOIN LATERAL unnest(entry.topics) AS topic "
        "WHERE topic IS NOT NULL"
    )
    op.create_table(
        "search_topic_counts",
        sa.Column("topic", sa.Text(), nullable=False),
        sa.Column("locale", sa.String(35), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("entries", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("topic", "locale", "kind"),
    )
    op.execute(_COUNT)
    op.execute(
        "CREATE TRIGGER search_topic_counts_added AFTER INSERT ON search_entry_topics "
        "REFERENCING NEW TABLE AS added "
        "FOR EACH STATEMENT EXECUTE FUNCTION cms_search_topic_counts_sync()"
    )
    op.execute(
        "CREATE TRIGGER search_topic_counts_removed AFTER DELETE ON search_entry_topics "
        "REFERENCING OLD TABLE AS removed "
        "FOR EACH STATEMENT EXECUTE FUNCTION cms_search_topic_counts_sync()"
    )
    op.execute(
        "INSERT INTO search_topic_counts (topic, locale, kind, entries) "
        "SELECT topic, locale, kind, count(*) FROM search_entry_topics "
        "GROUP BY topic, locale, kind"
    )
    op.execute(
        "CREATE INDEX ix_medical_codes_lookup_category ON medical_codes "
        "(system, left(replace(upper(code), '.', ''), 3))"
    )


def downgrade():
    op.drop_index("ix_medical_codes_lookup_category", table_name="medical_codes")
    op.execute("DROP TRIGGER search_topic_counts_removed ON search_entry_topics")
    op.execute("DROP TRIGGER search_topic_counts_added ON search_entry_topics")
    op.execute("DROP FUNCTION cms_search_topic_counts_sync()")
    op.drop_table("search_topic_counts")
    op.execute("DROP TRIGGER search_entry_topics_updated ON search_entries")
    op.execute("DROP TRIGGER search_entry_topics_inserted ON search_entries")
    op.execute("DROP FUNCTION cms_search_entry_topics_sync()")
    op.drop_table("search_entry_topics")
