"""Profiles and topic pages read their newest articles and counts from narrow rows.

- `listed_articles`: one row for each hub tag (`topic:`, `author:`, `reviewer:`) of each
  published article document, with the document's locale and published_at, kept by
  statement-level triggers on `published_documents` (one statement per statement, however
  many documents a bulk publish writes) and gone with its document (the foreign key
  cascades). A hub page's newest articles are a backward scan of its primary key.
- `listed_article_counts`: how many article documents of each locale carry each hub tag,
  kept by statement-level triggers on `listed_articles`, so a page's total is one row.

Before, one statement ranked every article document's tags against every wanted tag, so
rendering the profiles and topic pages after a bulk publish cost time in proportion to
the whole corpus (5 s at 10,000 articles, 50 s at 100,000, twice per publish).

Revision ID: 0023
Revises: 0022
Create Date: 2026-12-04 09:00:00

"""

import sqlalchemy as sa
from alembic import op

revision = "0023"
down_revision = "0022"
branch_labels = None
depends_on = None

# The hub tags of article documents; `store._HUB_OF_TAG` names the same prefixes.
_HUB_TAGS = "split_part(tag, ':', 1) IN ('topic', 'author', 'reviewer')"

_SYNC = f"""
CREATE FUNCTION cms_listed_articles_sync() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'UPDATE' THEN
        -- Only documents whose listing changed: a re-render keeps its tags and date.
        DELETE FROM listed_articles AS listed
        USING old_documents AS before
        JOIN new_documents AS after USING (kind, entity_id)
        WHERE before.kind = 'article'
            AND (before.tags, before.locale, before.published_at)
                IS DISTINCT FROM (after.tags, after.locale, after.published_at)
            AND listed.kind = before.kind AND listed.entity_id = before.entity_id;
        INSERT INTO listed_articles (tag, locale, kind, published_at, entity_id)
        SELECT DISTINCT tag, after.locale, after.kind, after.published_at, after.entity_id
        FROM new_documents AS after
        JOIN old_documents AS before USING (kind, entity_id)
        CROSS JOIN LATERAL unnest(after.tags) AS tag
        WHERE after.kind = 'article' AND {_HUB_TAGS}
            AND (before.tags, before.locale, before.published_at)
                IS DISTINCT FROM (after.tags, after.locale, after.published_at);
    ELSE
        INSERT INTO listed_articles (tag, locale, kind, published_at, entity_id)
        SELECT DISTINCT tag, document.locale, document.kind, document.published_at,
            document.entity_id
        FROM new_documents AS document CROSS JOIN LATERAL unnest(document.tags) AS tag
        WHERE document.kind = 'article' AND {_HUB_TAGS};
    END IF;
    RETURN NULL;
END
$$
"""

_COUNT = """
CREATE FUNCTION cms_listed_article_counts_sync() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
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
    RETURN NULL;
END
$$
"""


def upgrade():
    op.create_table(
        "listed_articles",
        sa.Column("tag", sa.Text(), nullable=False),
        sa.Column("locale", sa.String(35), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("published_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("entity_id", sa.Uuid(), nullable=False),
        sa.CheckConstraint("kind = 'article'", name=op.f("ck_listed_articles_article")),
        sa.ForeignKeyConstraint(
            ["kind", "entity_id"],
            ["published_documents.kind", "published_documents.entity_id"],
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("tag", "locale", "published_at", "entity_id"),
    )
    # A document's rows, for the cascade and the trigger that replaces them.
    op.create_index("ix_listed_articles_document", "listed_articles", ["kind", "entity_id"])
    op.execute(_SYNC)
    op.execute(
        "CREATE TRIGGER listed_articles_inserted AFTER INSERT ON published_documents "
        "REFERENCING NEW TABLE AS new_documents "
        "FOR EACH STATEMENT EXECUTE FUNCTION cms_listed_articles_sync()"
    )
    op.execute(
        "CREATE TRIGGER listed_articles_updated AFTER UPDATE ON published_documents "
        "REFERENCING OLD TABLE AS old_documents NEW TABLE AS new_documents "
        "FOR EACH STATEMENT EXECUTE FUNCTION cms_listed_articles_sync()"
    )
    op.execute(
        "INSERT INTO listed_articles (tag, locale, kind, published_at, entity_id) "
        "SELECT DISTINCT tag, document.locale, document.kind, document.published_at, "
        "document.entity_id "
        "FROM published_documents AS document CROSS JOIN LATERAL unnest(document.tags) AS tag "
        f"WHERE document.kind = 'article' AND {_HUB_TAGS}"
    )
    op.create_table(
        "listed_article_counts",
        sa.Column("tag", sa.Text(), nullable=False),
        sa.Column("locale", sa.String(35), nullable=False),
        sa.Column("documents", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("tag", "locale"),
    )
    op.execute(_COUNT)
    op.execute(
        "CREATE TRIGGER listed_article_counts_added AFTER INSERT ON listed_articles "
        "REFERENCING NEW TABLE AS added "
        "FOR EACH STATEMENT EXECUTE FUNCTION cms_listed_article_counts_sync()"
    )
    op.execute(
        "CREATE TRIGGER listed_article_counts_removed AFTER DELETE ON listed_articles "
        "REFERENCING OLD TABLE AS removed "
        "FOR EACH STATEMENT EXECUTE FUNCTION cms_listed_article_counts_sync()"
    )
    op.execute(
        "INSERT INTO listed_article_counts (tag, locale, documents) "
        "SELECT tag, locale, count(*) FROM listed_articles GROUP BY tag, locale"
    )


def downgrade():
    op.execute("DROP TRIGGER listed_article_counts_removed ON listed_articles")
    op.execute("DROP TRIGGER listed_article_counts_added ON listed_articles")
    op.execute("DROP FUNCTION cms_listed_article_counts_sync()")
    op.drop_table("listed_article_counts")
    op.execute("DROP TRIGGER listed_articles_updated ON published_documents")
    op.execute("DROP TRIGGER listed_articles_inserted ON published_documents")
    op.execute("DROP FUNCTION cms_listed_articles_sync()")
    op.drop_table("listed_articles")
