"""Locales: content per language, each translation its own reviewed text; search per language.

Everything that existed before is in the default locale (CMS_DEFAULT_LOCALE when the
migration runs, else "en"), so nothing public changes:

- articles carry a `locale`, and a translation names the article it translates
  (`source_id`) and the source revision it was made from (`source_revision`); a slug is
  unique per locale, and so are former slugs;
- FAQs carry a `locale` (an article's FAQs are in its locale);
- topics and people keep their default-locale text in place, and their other languages in
  `topic_translations` and `person_translations` (codes and credentials stay shared);
- a person may be limited to reviewing in some locales (`review_locales`);
- published documents, search entries, answer passages, the typo lexicon, unanswered
  questions and change events carry the locale they are in; document slugs are unique per
  kind and locale, and the list indexes lead with (kind, locale);
- one text search configuration per language PostgreSQL stems (`cms_search_spanish`, ...)
  with unaccent, as `cms_search` is for English, plus `cms_search_simple` for the rest.

Revision ID: 0019
Revises: 0018
Create Date: 2026-12-19 08:00:00

"""

import os

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0019"
down_revision = "0018"
branch_labels = None
depends_on = None

DEFAULT = os.environ.get("CMS_DEFAULT_LOCALE", "en").strip() or "en"

# Languages whose Snowball stemmer every supported PostgreSQL (15+) ships.
STEMMED = (
    "danish",
    "dutch",
    "finnish",
    "french",
    "german",
    "hungarian",
    "italian",
    "norwegian",
    "portuguese",
    "romanian",
    "russian",
    "spanish",
    "swedish",
    "turkish",
)
LOCALIZED_TABLES = (
    "articles",
    "faqs",
    "published_documents",
    "search_entries",
    "answer_passages",
    "search_words",
    "unanswered_questions",
    "change_events",
    "article_slugs",
)
LIST_INDEXES = {
    "ix_published_documents_kind_published": "published_at",
    "ix_published_documents_kind_updated": "updated_at",
    "ix_published_documents_kind_title": "sort_title",
    "ix_published_documents_kind_reviewed": "reviewed_on",
}


def _locale_column() -> sa.Column:
    return sa.Column("locale", sa.String(35), nullable=False, server_default=DEFAULT)


def upgrade():
    for language in STEMMED:
        op.execute(f"CREATE TEXT SEARCH CONFIGURATION cms_search_{language} (COPY = {language})")
        op.execute(
            f"ALTER TEXT SEARCH CONFIGURATION cms_search_{language}"
            f" ALTER MAPPING FOR hword, hword_part, word WITH unaccent, {language}_stem"
        )
    op.execute("CREATE TEXT SEARCH CONFIGURATION cms_search_simple (COPY = simple)")
    op.execute(
        "ALTER TEXT SEARCH CONFIGURATION cms_search_simple"
        " ALTER MAPPING FOR hword, hword_part, word WITH unaccent, simple"
    )

    for table in LOCALIZED_TABLES:
        op.add_column(table, _locale_column())

    op.add_column(
        "articles",
        sa.Column(
            "source_id",
            sa.Uuid(),
            sa.ForeignKey(
                "articles.id", name="fk_articles_source_id_articles", ondelete="SET NULL"
            ),
            nullable=True,
        ),
    )
    op.add_column("articles", sa.Column("source_revision", sa.Integer(), nullable=True))
    op.drop_constraint("uq_articles_slug", "articles", type_="unique")
    op.create_unique_constraint("uq_articles_locale_slug", "articles", ["locale", "slug"])
    op.create_index(
        "uq_articles_source_locale",
        "articles",
        ["source_id", "locale"],
        unique=True,
        postgresql_where=sa.text("source_id IS NOT NULL"),
    )
    op.drop_constraint("pk_article_slugs", "article_slugs", type_="primary")
    op.create_primary_key("pk_article_slugs", "article_slugs", ["locale", "slug"])

    op.add_column(
        "people",
        sa.Column(
            "review_locales",
            postgresql.ARRAY(sa.String(35)),
            nullable=False,
            server_default=sa.text("'{}'::varchar[]"),
        ),
    )
    op.create_table(
        "topic_translations",
        sa.Column("id", sa.Uuid(), primary_key=True),
        sa.Column(
            "topic_id",
            sa.Uuid(),
            sa.ForeignKey(
                "topics.id", name="fk_topic_translations_topic_id_topics", ondelete="CASCADE"
            ),
            nullable=False,
        ),
        sa.Column("locale", sa.String(35), nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column(
            "synonyms",
            postgresql.ARRAY(sa.Text()),
            nullable=False,
            server_default=sa.text("'{}'::text[]"),
        ),
        sa.Column(
            "created_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False
        ),
        sa.Column(
            "updated_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False
        ),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_topic_translations"),
        sa.UniqueConstraint("topic_id", "locale", name="uq_topic_translations_topic_id_locale"),
    )
    op.create_table(
        "person_translations",
        sa.Column("id", sa.Uuid(), primary_key=True),
        sa.Column(
            "person_id",
            sa.Uuid(),
            sa.ForeignKey(
                "people.id", name="fk_person_translations_person_id_people", ondelete="CASCADE"
            ),
            nullable=False,
        ),
        sa.Column("locale", sa.String(35), nullable=False),
        sa.Column("job_title", sa.String(200), nullable=True),
        sa.Column("bio", sa.Text(), nullable=True),
        sa.Column(
            "created_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False
        ),
        sa.Column(
            "updated_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False
        ),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_person_translations"),
        sa.UniqueConstraint("person_id", "locale", name="uq_person_translations_person_id_locale"),
    )

    op.drop_index("uq_published_documents_kind_slug", table_name="published_documents")
    op.create_index(
        "uq_published_documents_kind_locale_slug",
        "published_documents",
        ["kind", "locale", "slug"],
        unique=True,
        postgresql_where=sa.text("slug IS NOT NULL"),
    )
    for name, column in LIST_INDEXES.items():
        op.drop_index(name, table_name="published_documents")
        op.create_index(name, "published_documents", ["kind", "locale", column, "entity_id"])

    op.drop_constraint("pk_search_words", "search_words", type_="primary")
    op.create_primary_key("pk_search_words", "search_words", ["locale", "word"])
    op.drop_constraint("uq_unanswered_questions_normalized", "unanswered_questions", type_="unique")
    op.create_unique_constraint(
        "uq_unanswered_questions_locale_normalized",
        "unanswered_questions",
        ["locale", "normalized"],
    )


def downgrade():
    op.drop_constraint(
        "uq_unanswered_questions_locale_normalized", "unanswered_questions", type_="unique"
    )
    op.execute(f"DELETE FROM unanswered_questions WHERE locale <> '{DEFAULT}'")
    op.create_unique_constraint(
        "uq_unanswered_questions_normalized", "unanswered_questions", ["normalized"]
    )
    op.execute(f"DELETE FROM search_words WHERE locale <> '{DEFAULT}'")
    op.drop_constraint("pk_search_words", "search_words", type_="primary")
    op.create_primary_key("pk_search_words", "search_words", ["word"])
    # Only the default locale existed before: its documents are all that can go back.
    op.execute(f"DELETE FROM published_documents WHERE locale <> '{DEFAULT}'")
    for name, column in LIST_INDEXES.items():
        op.drop_index(name, table_name="published_documents")
        op.create_index(name, "published_documents", ["kind", column, "entity_id"])
    op.drop_index("uq_published_documents_kind_locale_slug", table_name="published_documents")
    op.create_index(
        "uq_published_documents_kind_slug",
        "published_documents",
        ["kind", "slug"],
        unique=True,
        postgresql_where=sa.text("slug IS NOT NULL"),
    )
    op.drop_table("person_translations")
    op.drop_table("topic_translations")
    op.drop_column("people", "review_locales")
    op.execute(f"DELETE FROM article_slugs WHERE locale <> '{DEFAULT}'")
    op.drop_constraint("pk_article_slugs", "article_slugs", type_="primary")
    op.create_primary_key("pk_article_slugs", "article_slugs", ["slug"])
    op.execute(f"DELETE FROM faqs WHERE locale <> '{DEFAULT}'")
    op.execute(f"DELETE FROM articles WHERE locale <> '{DEFAULT}'")
    op.drop_index("uq_articles_source_locale", table_name="articles")
    op.drop_constraint("uq_articles_locale_slug", "articles", type_="unique")
    op.create_unique_constraint("uq_articles_slug", "articles", ["slug"])
    op.drop_column("articles", "source_revision")
    op.drop_column("articles", "source_id")
    for table in LOCALIZED_TABLES:
        op.drop_column(table, "locale")
    op.execute("DROP TEXT SEARCH CONFIGURATION cms_search_simple")
    for language in STEMMED:
        op.execute(f"DROP TEXT SEARCH CONFIGURATION cms_search_{language}")
