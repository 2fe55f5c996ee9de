"""Search: the cms_search text configuration, search entries, the typo lexicon, a backfill.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-29 14:00:00

"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

# English, but accent-insensitive: words pass through unaccent before the stemmer, so
# "cafe" finds "café". ASCII words (asciiword, asciihword...) have no accents to remove.
CONFIGURATION = [
    "CREATE TEXT SEARCH CONFIGURATION cms_search (COPY = english)",
    "ALTER TEXT SEARCH CONFIGURATION cms_search"
    " ALTER MAPPING FOR hword, hword_part, word WITH unaccent, english_stem",
]
# Helpers of the indexing statement. U+E000 and U+E001 are removed from text because
# search snippets use them as markers.
FUNCTIONS = [
    r"""
CREATE FUNCTION cms_search_squash(value text) RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE
AS $$
    SELECT btrim(regexp_replace(translate(value, U&'\E000\E001', ''), '\s+', ' ', 'g'))
$$""",
    """COMMENT ON FUNCTION cms_search_squash(text) IS
    'Search text: snippet markers removed, whitespace collapsed.'""",
    r"""
CREATE FUNCTION cms_search_plain(html text) RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE
AS $$
    SELECT cms_search_squash(
        replace(replace(replace(replace(replace(replace(
            regexp_replace(
                regexp_replace(
                    html,
                    '</?(?:p|br|hr|li|ul|ol|h[1-6]|blockquote|pre|table|thead|tbody|tr|th|td|img)'
                    '\M(?:[^>"'']|"[^"]*"|''[^'']*'')*>',
                    ' ',
                    'gi'
                ),
                '<(?:[^>"'']|"[^"]*"|''[^'']*'')*>',
                '',
                'g'
            ),
            '&lt;', '<'), '&gt;', '>'), '&quot;', '"'), '&#39;', ''''), '&nbsp;', ' '),
            '&amp;', '&')
    )
$$""",
    """COMMENT ON FUNCTION cms_search_plain(text) IS
    'The text of sanitized HTML: block tags become spaces and inline tags vanish (a quoted '
    'attribute may hold ">"), then the entities the sanitizer writes are decoded, &amp; '
    'last so that &amp;lt; stays literal.'""",
    """
CREATE AGGREGATE cms_search_concat(tsvector) (
    SFUNC = tsvector_concat, STYPE = tsvector, INITCOND = ''
)""",
    """COMMENT ON AGGREGATE cms_search_concat(tsvector) IS
    'Vectors joined with ||, in the aggregate''s ORDER BY.'""",
]

# The search service's indexing statements as of this revision, over every published
# article and FAQ: an upgraded database is searchable before anything is republished.
BACKFILL_ENTRIES = """
WITH docs AS (
    SELECT d.kind, d.entity_id, d.etag, d.slug, d.published_at, d.tags, parsed.body
    FROM published_documents AS d
    -- Parsed once per document (an inlined `d.body::jsonb` is parsed at every use).
    CROSS JOIN LATERAL (SELECT d.body::jsonb AS body OFFSET 0) AS parsed
    WHERE d.kind IN ('article', 'faq')
),
parts AS (
    SELECT
        docs.kind, docs.entity_id, docs.etag, docs.slug, docs.published_at,
        head.title,
        head.summary,
        setweight(to_tsvector('cms_search', head.title), 'A') AS title_vector,
        setweight(to_tsvector('cms_search', head.summary), 'B') AS summary_vector,
        coalesce(sections.passages, '{}') AS section_passages,
        coalesce(sections.vectors, '{}') AS section_vectors,
        coalesce(sections.vector, '') AS sections_vector,
        CASE docs.kind
            WHEN 'article' THEN ARRAY(
                SELECT topic->>'slug' FROM jsonb_array_elements(docs.body->'topics') AS topic
            )
            ELSE ARRAY(
                SELECT substr(tag, 7) FROM unnest(docs.tags) AS tag WHERE starts_with(tag, 'topic:')
            )
        END AS topics
    FROM docs
    CROSS JOIN LATERAL (
        SELECT
            cms_search_squash(coalesce(docs.body->>'title', docs.body->>'question', '')) AS title,
            coalesce(
                cms_search_squash(docs.body->>'summary'),
                cms_search_plain(docs.body->>'answer_html'),
                ''
            ) AS summary
        OFFSET 0  -- computed once, however often used
    ) AS head
    LEFT JOIN LATERAL (
        SELECT
            array_agg(
                concat_ws(': ', nullif(section.heading, ''), nullif(section.text, ''))
                ORDER BY found.n
            ) AS passages,
            array_agg(strip(section.vector) ORDER BY found.n) AS vectors,
            cms_search_concat(section.vector ORDER BY found.n) AS vector
        FROM jsonb_path_query(docs.body, 'strict $.sections.** ? (@.type() == "object")')
            WITH ORDINALITY AS found(item, n)
        CROSS JOIN LATERAL (
            SELECT
                text.heading,
                text.text,
                setweight(to_tsvector('cms_search', text.heading), 'C')
                    || setweight(to_tsvector('cms_search', text.text), 'D') AS vector
            FROM (
                SELECT
                    cms_search_squash(found.item->>'heading') AS heading,
                    cms_search_plain(found.item->>'body_html') AS text
                OFFSET 0
            ) AS text
            OFFSET 0
        ) AS section
        WHERE docs.kind = 'article'
    ) AS sections ON true
)
INSERT INTO search_entries AS entry (
    kind, entity_id, etag, slug, title, passages, passage_vectors, topics, published_at,
    vector, title_vector
)
SELECT
    kind, entity_id, etag, slug, title,
    ARRAY[summary] || section_passages,
    ARRAY[strip(summary_vector)] || section_vectors,
    topics, published_at,
    title_vector || summary_vector || sections_vector,
    title_vector
FROM parts
"""
BACKFILL_WORDS = """
WITH found AS MATERIALIZED (
    SELECT DISTINCT word
    FROM search_entries AS entry
    CROSS JOIN LATERAL unnest(
        tsvector_to_array(
            to_tsvector('simple', entry.title || ' ' || array_to_string(entry.passages, ' '))
        )
    ) AS word
),
plain AS (
    SELECT DISTINCT unaccent(word) AS word FROM found WHERE unaccent(word) ~ '^[[:alpha:]]{3,40}$'
)
INSERT INTO search_words (word, lexeme)
SELECT plain.word, stem.lexeme
FROM plain
CROSS JOIN LATERAL (
    SELECT array_to_string(tsvector_to_array(to_tsvector('cms_search', plain.word)), ' ')
        AS lexeme
) AS stem
WHERE stem.lexeme <> ''
ON CONFLICT (word) DO NOTHING
"""


def upgrade():
    # Straight to the driver: text() would read the regular expressions' `(?:p` as a
    # bind parameter.
    connection = op.get_bind()
    for statement in [*CONFIGURATION, *FUNCTIONS]:
        connection.exec_driver_sql(statement)
    op.create_table(
        "search_entries",
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("entity_id", sa.Uuid(), nullable=False),
        sa.Column("etag", sa.String(length=40), nullable=False),
        sa.Column("slug", sa.String(length=120), nullable=True),
        sa.Column("title", sa.Text(), nullable=False),
        sa.Column("passages", postgresql.ARRAY(sa.Text()), nullable=False),
        sa.Column("passage_vectors", postgresql.ARRAY(postgresql.TSVECTOR()), nullable=False),
        sa.Column("topics", postgresql.ARRAY(sa.Text()), nullable=False),
        sa.Column("published_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("vector", postgresql.TSVECTOR(), nullable=False),
        sa.Column("title_vector", postgresql.TSVECTOR(), nullable=False),
        sa.CheckConstraint(
            "kind IN ('article', 'faq')", name=op.f("ck_search_entries_kind_searchable")
        ),
        sa.ForeignKeyConstraint(
            ["kind", "entity_id"],
            ["published_documents.kind", "published_documents.entity_id"],
            name=op.f("fk_search_entries_kind_published_documents"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("kind", "entity_id", name=op.f("pk_search_entries")),
    )
    op.create_table(
        "search_words",
        sa.Column("word", sa.Text(), nullable=False),
        sa.Column("lexeme", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("word", name=op.f("pk_search_words")),
    )
    connection.exec_driver_sql(BACKFILL_ENTRIES)
    connection.exec_driver_sql(BACKFILL_WORDS)
    # Indexes after the backfill: building one costs far less than growing it row by row.
    op.create_index(
        "ix_search_entries_vector", "search_entries", ["vector"], postgresql_using="gin"
    )
    op.create_index(
        "ix_search_entries_title_vector",
        "search_entries",
        ["title_vector"],
        postgresql_using="gin",
    )
    op.create_index(
        "ix_search_entries_topics", "search_entries", ["topics"], postgresql_using="gin"
    )
    op.create_index("ix_search_entries_kind_published", "search_entries", ["kind", "published_at"])
    op.create_index(
        "ix_search_words_word_trgm",
        "search_words",
        ["word"],
        postgresql_using="gin",
        postgresql_ops={"word": "gin_trgm_ops"},
    )
    op.create_index("ix_search_words_lexeme", "search_words", ["lexeme"])


def downgrade():
    op.drop_index("ix_search_words_lexeme", table_name="search_words")
    op.drop_index("ix_search_words_word_trgm", table_name="search_words")
    op.drop_table("search_words")
    op.drop_index("ix_search_entries_kind_published", table_name="search_entries")
    op.drop_index("ix_search_entries_topics", table_name="search_entries")
    op.drop_index("ix_search_entries_title_vector", table_name="search_entries")
    op.drop_index("ix_search_entries_vector", table_name="search_entries")
    op.drop_table("search_entries")
    op.execute("DROP AGGREGATE cms_search_concat(tsvector)")
    op.execute("DROP FUNCTION cms_search_plain(text)")
    op.execute("DROP FUNCTION cms_search_squash(text)")
    op.execute("DROP TEXT SEARCH CONFIGURATION cms_search")
