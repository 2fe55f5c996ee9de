"""The search index: published articles and FAQs into search entries and the lexicon."""

from __future__ import annotations

import uuid
from collections.abc import Iterable

from sqlalchemy import Connection

from cms_api.database import db
from cms_api.services.publishing import passages

# Documents → search entries, in two statements whatever their number: the entries, then
# the words of their text into the lexicon. `{wanted}` yields (kind, entity_id) pairs.
# cms_search_squash, cms_search_plain (text, and the text of sanitized HTML) and
# cms_search_concat (|| as an aggregate) come from migration 0003, whose backfill runs
# these statements over everything.
_INDEX_ENTRIES = """
WITH docs AS (
    SELECT d.kind, d.entity_id, d.etag, d.slug, d.published_at, d.tags, parsed.body
    FROM published_documents AS d
    JOIN ({wanted}) AS wanted USING (kind, entity_id)
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
ON CONFLICT (kind, entity_id) DO UPDATE SET
    etag = excluded.etag,
    slug = excluded.slug,
    title = excluded.title,
    passages = excluded.passages,
    passage_vectors = excluded.passage_vectors,
    topics = excluded.topics,
    published_at = excluded.published_at,
    vector = excluded.vector,
    title_vector = excluded.title_vector
-- Re-publishing an unchanged document rewrites nothing.
WHERE (entry.etag, entry.slug, entry.topics, entry.published_at)
    IS DISTINCT FROM (excluded.etag, excluded.slug, excluded.topics, excluded.published_at)
"""
# Words as typed (unaccented, lower case), each with its stem; stop words are left out.
_INDEX_WORDS = """
WITH found AS MATERIALIZED (  -- each distinct word once: unaccenting and stemming are per word
    SELECT DISTINCT word
    FROM search_entries AS entry
    JOIN ({wanted}) AS wanted USING (kind, entity_id)
    CROSS JOIN LATERAL unnest(
        tsvector_to_array(
            to_tsvector('simple', entry.title || ' ' || array_to_string(entry.passages, ' '))
        )
    ) AS word
),
plain AS (
    SELECT DISTINCT unaccent(word) AS word FROM found WHERE unaccent(word) ~ '^[[:alpha:]]{3,40}$'
),
new AS (  -- stemmed only when not in the lexicon yet: most words of a bulk publish are
    SELECT plain.word FROM plain
    WHERE NOT EXISTS (SELECT FROM search_words AS known WHERE known.word = plain.word)
)
INSERT INTO search_words (word, lexeme)
SELECT new.word, stem.lexeme
FROM new
CROSS JOIN LATERAL (
    SELECT array_to_string(tsvector_to_array(to_tsvector('cms_search', new.word)), ' ')
        AS lexeme
) AS stem
WHERE stem.lexeme <> ''
-- In one order everywhere: two publishers adding the same new words wait, not deadlock.
ORDER BY new.word
ON CONFLICT (word) DO NOTHING
"""
_GIVEN = (
    "SELECT DISTINCT kind, entity_id "
    "FROM unnest(%(kinds)s::text[], %(ids)s::uuid[]) AS given(kind, entity_id)"
)
_ALL = "SELECT kind, entity_id FROM published_documents WHERE kind IN ('article', 'faq')"


def index_documents(keys: Iterable[tuple[str, uuid.UUID]]) -> None:
    """(Re)index these published documents; kinds other than article and FAQ are ignored.

    Called by publishing after it writes documents, in the same transaction. Documents
    that are withdrawn leave the index by themselves (the foreign key cascades).
    """
    pairs = [(kind, entity_id) for kind, entity_id in keys if kind in ("article", "faq")]
    if not pairs:
        return
    params = {"kinds": [kind for kind, _ in pairs], "ids": [entity_id for _, entity_id in pairs]}
    connection = db.session.connection()
    for statement in (_INDEX_ENTRIES, _INDEX_WORDS):
        connection.exec_driver_sql(statement.replace("{wanted}", _GIVEN), params)
    # Instant answers quote the same documents, cut into passages.
    passages.cut_passages(connection, _GIVEN, params)


def reindex_all(connection: Connection | None = None) -> None:
    """Index every published article and FAQ (after a bulk load, or to rebuild)."""
    connection = connection or db.session.connection()
    for statement in (_INDEX_ENTRIES, _INDEX_WORDS):
        connection.exec_driver_sql(statement.replace("{wanted}", _ALL), {})
    passages.cut_passages(connection, _ALL, {})


def embed_missing(connection: Connection | None = None) -> int:
    """Embed every answer passage that has no embedding yet (the passages stored before
    embeddings came in: `cms-api render` does it once); how many."""
    return passages.embed_passages(connection or db.session.connection(), _ALL, {})
