"""A bulk publish adds its topic and hub counts up once, at its end.

`search_topic_counts` (0022) and `listed_article_counts` (0023) are kept by
statement-level triggers, each statement adding to the rows of the topics and tags it
touched. A bulk publish or an import runs thousands of such statements in one
transaction, and each update of a counts row leaves a version that none of the
transaction's later statements can prune before it commits: every later update of that
row steps over all of them first, so the cost of each statement grew with the number
before it (10,000 statements of 33 rows in one transaction: 0.28 ms each at first, 4.3
ms each at the end). While the setting `cms.deferred_counts` is on (for the rest of a
transaction, by `services/publishing/counts.py`), the triggers now write what they would
add to a temporary table of that transaction instead, and the publish adds it all up
once; without the setting they keep the counts as before.

Revision ID: 0029
Revises: 0028
Create Date: 2026-12-05 20:00:00

"""

from alembic import op

revision = "0029"
down_revision = "0028"
branch_labels = None
depends_on = None

# The temporary tables exist only while a publish defers: a trigger that finds the
# setting on without them fails its statement rather than lose a count.
_DEFERRED = "current_setting('cms.deferred_counts', true) = 'on'"

# As 0022 and 0023 keep the counts: statement by statement.
_TOPIC_COUNTS_KEPT = """
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
"""
_LISTED_COUNTS_KEPT = """
    IF TG_OP = 'INSERT' THEN
        INSERT INTO listed_article_counts AS counted (tag, locale, documents)
        SELECT tag, locale, count(*) FROM added
        GROUP BY tag, locale
        ORDER BY tag, locale  -- rows locked in one order by every writer
        ON CONFLICT (tag, locale)
            DO UPDATE SET documents = counted.documents + excluded.documents;
    ELSE
        UPDATE listed_article_counts AS counted
        SET documents = counted.documents - gone.documents
        FROM (
            SELECT tag, locale, count(*) AS documents FROM removed
            GROUP BY tag, locale
        ) AS gone
        WHERE counted.tag = gone.tag AND counted.locale = gone.locale;
    END IF;
"""


def _deferring(table: str, key: str, value: str, kept: str) -> str:
    """`kept`, unless the counts are deferred: then the same additions and subtractions
    go to the transaction's temporary `table`."""
    return f"""
    IF {_DEFERRED} THEN
        IF TG_OP = 'INSERT' THEN
            INSERT INTO pg_temp.{table} ({key}, {value})
            SELECT {key}, count(*) FROM added GROUP BY {key};
        ELSE
            INSERT INTO pg_temp.{table} ({key}, {value})
            SELECT {key}, -count(*) FROM removed GROUP BY {key};
        END IF;
    ELSE
        {kept}
    END IF;
"""


def _trigger_function(name: str, body: str) -> str:
    return f"""
CREATE OR REPLACE FUNCTION {name}() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    {body}
    RETURN NULL;
END
$$
"""


_FUNCTIONS = {
    "cms_search_topic_counts_sync": (
        _TOPIC_COUNTS_KEPT,
        _deferring(
            "cms_deferred_topic_counts", "topic, locale, kind", "entries", _TOPIC_COUNTS_KEPT
        ),
    ),
    "cms_listed_article_counts_sync": (
        _LISTED_COUNTS_KEPT,
        _deferring("cms_deferred_listed_counts", "tag, locale", "documents", _LISTED_COUNTS_KEPT),
    ),
}


def upgrade():
    for name, (_, deferring) in _FUNCTIONS.items():
        op.execute(_trigger_function(name, deferring))


def downgrade():
    for name, (kept, _) in _FUNCTIONS.items():
        op.execute(_trigger_function(name, kept))
