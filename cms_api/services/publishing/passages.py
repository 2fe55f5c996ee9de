"""Answer passages: published articles and topic FAQs cut into the pieces an answer quotes."""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable
from typing import Any

from cms_api.services import embedding

# Each stored document whose passages are missing or were cut from another version of it
# is cut again: every section (and subsection) of an article with its heading and key, each
# FAQ of an article with its question, and a topic's FAQ on its own. An article's FAQs are
# taken from the article's document, so they carry the article's review of record and leave
# with the article. `{wanted}` yields (kind, entity_id) pairs; cms_search_squash and
# cms_search_plain come from migration 0003. The stale passages go first (`drop_stale`);
# then the search index's statement cuts the new ones with `CUT`.
_DROP_STALE = """
DELETE FROM answer_passages AS passage
USING published_documents AS d, ({wanted}) AS wanted
WHERE d.kind = wanted.kind AND d.entity_id = wanted.entity_id
    AND passage.kind = d.kind AND passage.entity_id = d.entity_id
    AND passage.etag <> d.etag
"""
# Common table expressions of the search index's statement (search_index.py), which parses
# each document once into `docs` (with `uncut`: no passage of its stored version yet, and
# its locale's text search `configuration`) and makes each article section's plain text
# and text search vectors once into `sections`, for its search entry and its passage both.
# A passage is in its document's locale, and stemmed in its language. The HTML publishing
# stripped in Python is in each document's `known` texts (the same as cms_search_plain's).
CUT = """
cut AS (
    SELECT
        docs.kind, docs.entity_id, docs.etag, docs.locale, docs.configuration,
        sections.n::int AS position, 'article' AS page_kind, docs.body->>'slug' AS page_slug,
        sections.anchor, docs.body->>'title' AS title,
        coalesce(sections.heading, '') AS heading,
        sections.html, docs.body->'review' AS review,
        true AS of_section, sections.text,
        coalesce(sections.heading_vector, '') AS heading_vector, sections.text_vector,
        docs.known
    FROM sections
    JOIN docs USING (kind, entity_id)
    WHERE docs.uncut AND sections.has_body
    UNION ALL
    SELECT
        docs.kind, docs.entity_id, docs.etag, docs.locale, docs.configuration,
        100000 + faq.n::int, 'article', docs.body->>'slug', NULL, docs.body->>'title',
        coalesce(faq.item->>'question', ''), faq.item->>'answer_html', docs.body->'review',
        false, NULL, NULL, NULL, docs.known
    FROM docs
    CROSS JOIN LATERAL jsonb_array_elements(
        CASE jsonb_typeof(docs.body->'faqs') WHEN 'array' THEN docs.body->'faqs' ELSE '[]' END
    ) WITH ORDINALITY AS faq(item, n)
    WHERE docs.uncut AND docs.kind = 'article'
    UNION ALL
    SELECT
        docs.kind, docs.entity_id, docs.etag, docs.locale, docs.configuration,
        0, 'topic', docs.body->'topic'->>'slug', NULL, docs.body->>'question',
        coalesce(docs.body->>'question', ''), docs.body->>'answer_html',
        jsonb_build_object(
            'reviewers',
            CASE jsonb_typeof(docs.body->'reviewed_by')
                WHEN 'object' THEN jsonb_build_array(docs.body->'reviewed_by')
                ELSE '[]'
            END,
            'reviewed_on', docs.body->'reviewed_on'
        ),
        false, NULL, NULL, NULL, docs.known
    FROM docs
    WHERE docs.uncut AND docs.kind = 'faq' AND jsonb_typeof(docs.body->'topic') = 'object'
),
plain AS (
    SELECT
        cut.*,
        cms_search_squash(cut.title) AS plain_title,
        cms_search_squash(cut.heading) AS plain_heading,
        CASE
            WHEN cut.of_section THEN cut.text
            ELSE coalesce(cut.known->>cut.html, cms_search_plain(cut.html))
        END AS plain_text
    FROM cut
    WHERE cut.html IS NOT NULL AND cut.page_slug IS NOT NULL
    OFFSET 0  -- computed once, however often used
),
-- The embeddings publishing made beforehand of the passages it expects (`given_embeddings`),
-- by the SHA-256 of their embedding text (`embedding.passage_text`): a passage cut with
-- the same text is stored with its embedding, and the others are embedded after.
given_embeddings AS (
    SELECT *
    FROM unnest(
        %(passage_keys)b::bytea[], %(passage_embeddings)b::bytea[], %(passage_vectors)b::text[]
    ) AS given(key, embedding, vector)
),
cut_passages AS (
    INSERT INTO answer_passages (
        kind, entity_id, position, etag, locale, page_kind, page_slug, anchor, title, heading,
        html, text, search_text, vector, reviewers, reviewed_on, review_due, embedding{vector}
    )
    SELECT
        kind, entity_id, position, etag, locale, page_kind, page_slug, anchor, plain_title,
        plain_heading, html, plain_text,
        concat_ws(' ', plain_heading, plain_text),
        -- The heading (or question) says what the passage is about; the title, which every
        -- passage of a page shares, only helps a little.
        setweight(coalesce(heading_vector, to_tsvector(configuration, plain_heading)), 'A')
            || setweight(to_tsvector(configuration, plain_title), 'C')
            || setweight(coalesce(text_vector, to_tsvector(configuration, plain_text)), 'D'),
        coalesce(
            (
                SELECT jsonb_agg(
                    jsonb_build_object(
                        'name', coalesce(reviewer->>'display_name', reviewer->>'name'),
                        'slug', reviewer->>'slug'
                    )
                    ORDER BY n
                )
                FROM jsonb_array_elements(
                    CASE jsonb_typeof(review->'reviewers') WHEN 'array' THEN review->'reviewers'
                    ELSE '[]' END
                ) WITH ORDINALITY AS listed(reviewer, n)
            ),
            '[]'
        ),
        (review->>'reviewed_on')::date,
        (review->>'next_review_due')::date,
        given.embedding{given_vector}
    FROM plain
    LEFT JOIN given_embeddings AS given ON given.key = sha256(convert_to(
        concat_ws(E'\\n', nullif(plain_title, ''), nullif(plain_heading, ''), plain_text), 'UTF8'
    ))
    WHERE plain_text <> ''
    ON CONFLICT (kind, entity_id, position) DO NOTHING
)"""


def cut(*, pgvector: bool) -> str:
    """`CUT`, for a table with the pgvector column (`pgvector`) or without it."""
    return CUT.replace("{vector}", ", embedding_vector" if pgvector else "").replace(
        "{given_vector}", ", given.vector::vector" if pgvector else ""
    )


# Passages of these documents not embedded yet: those just cut without an embedding given
# (text publishing could not tell beforehand), or all of them after the migration that
# brought embeddings in.
_UNEMBEDDED = """
SELECT p.kind, p.entity_id, p.position, p.title, p.heading, p.text, p.etag
FROM answer_passages AS p
JOIN ({wanted}) AS wanted USING (kind, entity_id)
WHERE p.embedding IS NULL
"""
_STORE_EMBEDDINGS = """
UPDATE answer_passages AS p SET embedding = given.embedding{also}
-- In binary: as text, each embedding's bytes would be written out in hex, and parsed back.
FROM unnest(
    %(kinds)b::text[], %(ids)b::uuid[], %(positions)b::int[], %(embeddings)b::bytea[],
    %(vectors)b::text[], %(etags)b::text[]
) AS given(kind, entity_id, position, embedding, vector, etag)
WHERE p.kind = given.kind AND p.entity_id = given.entity_id AND p.position = given.position
    -- Embedded beside indexing, a passage may have been cut again from a newer version
    -- of its document meanwhile: that one waits for its own embedding.
    AND p.etag = given.etag AND p.embedding IS NULL
"""
_ALSO_PGVECTOR = ", embedding_vector = given.vector::vector"
# Embedded this many at a time: a bulk publish of thousands of articles holds one batch
# of texts and vectors in memory, not all of them.
EMBED_BATCH = 2_000


def given_embeddings(texts: Iterable[str], *, pgvector: bool) -> dict[str, Any]:
    """The parameters of `CUT`'s given embeddings: these passage texts
    (`embedding.passage_text`), each once, embedded. None may be given."""
    unique = list(dict.fromkeys(texts))
    if not unique:
        return NO_EMBEDDINGS
    embedded = embedding.embed(unique)
    return {
        "passage_keys": [hashlib.sha256(text.encode()).digest() for text in unique],
        "passage_embeddings": [embedding.to_bytes(vector) for vector in embedded],
        "passage_vectors": [embedding.to_pgvector(v) for v in embedded] if pgvector else None,
    }


# `CUT`'s parameters when no embedding is given: every passage it cuts is embedded after.
NO_EMBEDDINGS: dict[str, Any] = {
    "passage_keys": None,
    "passage_embeddings": None,
    "passage_vectors": None,
}


def drop_stale(connection: Any, wanted: str, params: dict) -> None:
    """Drop the passages cut from another version of these documents (a query of (kind,
    entity_id) pairs); withdrawn documents take theirs along (the foreign key cascades).
    `connection` has SQLAlchemy's `exec_driver_sql`."""
    connection.exec_driver_sql(_DROP_STALE.replace("{wanted}", wanted), params)


def embed_passages(
    connection: Any,
    wanted: str,
    params: dict,
    *,
    pgvector: bool,
    later: Callable[..., None] | None = None,
) -> int:
    """Embed the passages of these documents that have no embedding yet; how many.
    `pgvector` says whether the table has the pgvector column. With `later`, each batch's
    embedding is handed to it (`later(store_embeddings, rows, pgvector)`) instead of done
    here: the search index's thread goes on with PostgreSQL's work meanwhile."""
    result = connection.exec_driver_sql(_UNEMBEDDED.replace("{wanted}", wanted), params)
    count = 0
    while rows := result.fetchmany(EMBED_BATCH):
        if later is not None:
            later(store_embeddings, rows, pgvector)
        else:
            store_embeddings(connection, rows, pgvector)
        count += len(rows)
    return count


def store_embeddings(connection: Any, rows: list[Any], pgvector: bool) -> None:
    """Embed these passages (rows of `_UNEMBEDDED`) and store their embeddings."""
    store = _STORE_EMBEDDINGS.replace("{also}", _ALSO_PGVECTOR if pgvector else "")
    embedded = embedding.embed(
        [embedding.passage_text(row.title, row.heading, row.text) for row in rows]
    )
    connection.exec_driver_sql(
        store,
        {
            "kinds": [row.kind for row in rows],
            "ids": [row.entity_id for row in rows],
            "positions": [row.position for row in rows],
            "embeddings": [embedding.to_bytes(vector) for vector in embedded],
            "vectors": [embedding.to_pgvector(v) for v in embedded] if pgvector else None,
            "etags": [row.etag for row in rows],
        },
    )
