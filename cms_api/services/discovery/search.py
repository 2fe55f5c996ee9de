"""Full-text search over published articles and FAQs: indexing, typo correction, ranking."""

from __future__ import annotations

import html
import re
import uuid
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection

from cms_api.database import db
from cms_api.domain.paging import Keyset, aware_datetime, real_number, uuid_value
from cms_api.services.delivery.documents import reading
from cms_api.services.publishing.render import article_path, dumps, iso_datetime

# Ranking reads each candidate's whole vector, so a word found in most documents must not
# make every one of them a candidate. Candidates are the first CANDIDATE_LIMIT documents
# whose title matches plus the first CANDIDATE_LIMIT whose text matches, in index order;
# only those are ranked and counted (`page.total`), and `query.capped` says so.
CANDIDATE_LIMIT = 500
# ts_headline wraps matches in these private-use characters. Indexing strips them from
# the text, so once a snippet is HTML-escaped they can only mark matches.
_MARK_START, _MARK_END = "\ue000", "\ue001"
_TITLE_OPTIONS = f"HighlightAll=true, StartSel={_MARK_START}, StopSel={_MARK_END}"
_SNIPPET_OPTIONS = (
    f"StartSel={_MARK_START}, StopSel={_MARK_END}, MaxFragments=2, MaxWords=30, "
    'MinWords=12, ShortWord=3, FragmentDelimiter=" … "'
)
# A word of a query that may be a typo: letters only (numbers and codes are left alone).
_WORD = re.compile(r"[^\W\d_]+")
_MIN_CORRECTABLE = 3  # trigram similarity says little about shorter words
# (rank, published_at, id), best first.
RELEVANCE = Keyset("relevance", (real_number, aware_datetime, uuid_value))


# -- indexing ------------------------------------------------------------------------------


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
)
INSERT INTO search_words (word, lexeme)
SELECT plain.word, stem.lexeme
FROM plain
CROSS JOIN LATERAL (
    SELECT array_to_string(tsvector_to_array(to_tsvector('cms_search', plain.word)), ' ')
        AS lexeme
) AS stem
WHERE stem.lexeme <> ''
-- In one order everywhere: two publishers adding the same new words wait, not deadlock.
ORDER BY plain.word
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


def reindex_all(connection: Connection | None = None) -> None:
    """Index every published article and FAQ (after a bulk load, or to rebuild)."""
    connection = connection or db.session.connection()
    for statement in (_INDEX_ENTRIES, _INDEX_WORDS):
        connection.exec_driver_sql(statement.replace("{wanted}", _ALL), {})


# -- searching -----------------------------------------------------------------------------


@contextmanager
def planned_for_its_words(connection: Connection) -> Iterator[Connection]:
    """The connection, with psycopg's automatic statement preparation off.

    psycopg prepares a statement on its fifth run, and PostgreSQL then settles on a
    generic plan, which cannot know whether a word is in few documents (read the GIN
    index) or in most (scan, and stop at the first matches): planned per query, a common
    word costs what a rare one does.
    """
    driver = connection.connection.driver_connection
    saved = driver.prepare_threshold
    driver.prepare_threshold = None
    try:
        yield connection
    finally:
        driver.prepare_threshold = saved


@dataclass(frozen=True)
class SearchPage:
    items: list[str]  # each hit, already JSON
    limit: int
    next_cursor: str | None
    total: int
    capped: bool
    corrected: str | None  # the query actually searched, when words were corrected


def _search_sql(*, kind: bool, topics: bool, after: bool) -> str:
    """The search statement: filtered candidates, ranked, one page with snippets."""
    # The cheap filters are written before the text match, which may first have to fetch
    # a large vector.
    filters = ""
    if kind:
        filters += "kind = %(kind)s AND "
    if topics:
        filters += "topics && %(topics)s::text[] AND "
    keyset = (
        "WHERE (rank, published_at, entity_id) < (%(rank)s::real, %(at)s, %(id)s)" if after else ""
    )
    query = "websearch_to_tsquery('cms_search', %(q)s)"
    # A query with nothing to look up (stop words only) or only exclusions cannot use
    # the index and would read every row: it matches nothing instead.
    searchable = f"querytree({query}) NOT IN ('', 'T')"
    return f"""
WITH title_hits AS (
    SELECT kind, entity_id, published_at, ts_rank(vector, {query}) AS rank
    FROM search_entries
    -- The whole vector too: an excluded word (`-word`) may be outside the title.
    WHERE {filters}title_vector @@ {query} AND vector @@ {query} AND {searchable}
    LIMIT %(cap)s
),
text_hits AS (
    SELECT *, row_number() OVER () AS n FROM (
        SELECT kind, entity_id, published_at, ts_rank(vector, {query}) AS rank
        FROM search_entries
        WHERE {filters}vector @@ {query} AND {searchable}
        LIMIT %(cap)s + 1
    ) AS first_hits
),
candidates AS (
    SELECT kind, entity_id, published_at, rank FROM title_hits
    UNION
    SELECT kind, entity_id, published_at, rank FROM text_hits WHERE n <= %(cap)s
),
stats AS (
    SELECT
        (SELECT count(*) FROM candidates) AS total,
        (SELECT count(*) FROM text_hits) > %(cap)s
            OR (SELECT count(*) FROM title_hits) >= %(cap)s AS capped
)
SELECT stats.total, stats.capped, hit.*
FROM stats
LEFT JOIN LATERAL (
    SELECT
        page.kind,
        page.entity_id,
        page.rank,
        page.published_at,
        entry.slug,
        entry.title,
        ts_headline('cms_search', entry.title, {query}, %(title_options)s) AS title_html,
        ts_headline(
            'cms_search', entry.passages[chosen.passage], {query}, %(snippet_options)s
        ) AS snippet_html
    FROM (
        SELECT * FROM candidates {keyset}
        ORDER BY rank DESC, published_at DESC, entity_id DESC
        LIMIT %(limit)s + 1
    ) AS page
    JOIN search_entries AS entry USING (kind, entity_id)
    -- The first passage with a word of the query (the first passage when only the title
    -- has one): a snippet reads one passage, not the whole text.
    CROSS JOIN LATERAL (
        SELECT coalesce(min(passage.n), 1) AS passage
        FROM unnest(entry.passage_vectors) WITH ORDINALITY AS passage(vector, n)
        WHERE tsvector_to_array(passage.vector)
            && tsvector_to_array(to_tsvector('cms_search', %(q)s))
    ) AS chosen
    ORDER BY page.rank DESC, page.published_at DESC, page.entity_id DESC
) AS hit ON true
"""


# Each query word whose stem occurs nowhere in the index, with the indexed words most
# similar to it by trigrams (pg_trgm's GIN index answers `%`).
_UNKNOWN_WORDS = """
SELECT typed.word, ARRAY(
    SELECT known.word FROM search_words AS known
    WHERE known.word %% typed.norm
    ORDER BY similarity(known.word, typed.norm) DESC, known.word
    LIMIT %(suggestions)s
)
FROM (
    SELECT word, lower(unaccent(word)) AS norm,
        tsvector_to_array(to_tsvector('cms_search', word)) AS lexemes
    FROM unnest(%(words)s::text[]) AS word
) AS typed
WHERE cardinality(typed.lexemes) > 0
    AND NOT EXISTS (SELECT 1 FROM search_words WHERE lexeme = ANY(typed.lexemes))
"""
# Trigram similarity finds the candidates; edit distance picks among them, since
# trigrams favour a short word inside the typo ("headake" shares more with "head" than
# with "headache").
_SUGGESTIONS = 8


def search(
    q: str,
    *,
    kind: str | None = None,
    topic: str | None = None,
    limit: int = 20,
    cursor: str | None = None,
) -> SearchPage:
    """Published articles and FAQs matching `q` (web search syntax), best first.

    When nothing matches, each word that occurs nowhere in the index is replaced by the
    most similar indexed word (trigram similarity), and the corrected query is searched.
    """
    after = RELEVANCE.decode(cursor)
    with reading() as shared, planned_for_its_words(shared) as connection:
        topics = topic_subtree(connection, topic) if topic is not None else None
        if topics == []:  # no such topic: nothing is filed under it
            return SearchPage([], limit, None, total=0, capped=False, corrected=None)
        rows = _run(connection, q, kind=kind, topics=topics, limit=limit, after=after)
        corrected = correct(connection, q) if rows[0][0] == 0 else None
        if corrected is not None:
            retried = _run(
                connection, corrected, kind=kind, topics=topics, limit=limit, after=after
            )
            if retried[0][0]:
                rows = retried
            else:
                corrected = None  # no better: answer what was asked
    total, capped = rows[0][0], rows[0][1]
    hits = [row for row in rows if row[2] is not None]
    page = RELEVANCE.page(
        hits, limit=limit, total=total, key=lambda row: [row[4], row[5].isoformat(), str(row[3])]
    )
    return SearchPage(
        items=[_hit(row) for row in page.items],
        limit=limit,
        next_cursor=page.next_cursor,
        total=total,
        capped=capped,
        corrected=corrected,
    )


def _run(
    connection: Connection,
    q: str,
    *,
    kind: str | None,
    topics: list[str] | None,
    limit: int,
    after: tuple[float, datetime, uuid.UUID] | None,
) -> list[Any]:
    sql = _search_sql(kind=kind is not None, topics=topics is not None, after=after is not None)
    params: dict[str, Any] = {
        "q": q,
        "kind": kind,
        "topics": topics,
        "cap": CANDIDATE_LIMIT,
        "limit": limit,
        "title_options": _TITLE_OPTIONS,
        "snippet_options": _SNIPPET_OPTIONS,
    }
    if after is not None:
        params.update(rank=after[0], at=after[1], id=after[2])
    return list(connection.exec_driver_sql(sql, params).all())


# A published topic and its published descendants.
_SUBTREE = """
WITH RECURSIVE subtree AS (
    SELECT topic.id, topic.slug::text AS slug, ARRAY[topic.id] AS path
    FROM topics AS topic
    JOIN published_documents AS document
        ON document.kind = 'topic' AND document.entity_id = topic.id
    WHERE topic.slug = %(slug)s AND topic.deleted_at IS NULL
    UNION ALL
    SELECT child.id, child.slug::text, subtree.path || child.id
    FROM subtree
    JOIN topics AS child ON child.parent_id = subtree.id
    JOIN published_documents AS document
        ON document.kind = 'topic' AND document.entity_id = child.id
    WHERE child.deleted_at IS NULL AND child.id <> ALL(subtree.path)
)
SELECT slug FROM subtree
"""


def topic_subtree(connection: Connection, slug: str) -> list[str]:
    """The slugs of a published topic and of its published subtopics (none if unknown).

    Looked up first, so that the search is planned knowing how much they cover."""
    return list(connection.exec_driver_sql(_SUBTREE, {"slug": slug}).scalars())


def correct(connection: Connection, q: str) -> str | None:
    """`q` with each word that matches nothing replaced by the nearest indexed word, or
    None when there is nothing to correct."""
    words = {
        match.group().casefold()
        for match in _WORD.finditer(q)
        if len(match.group()) >= _MIN_CORRECTABLE
        and match.group().casefold() != "or"  # an operator in web search syntax
        and not q[: match.start()].endswith("-")  # an exclusion: leave it be
    }
    if not words:
        return None
    rows = connection.exec_driver_sql(
        _UNKNOWN_WORDS, {"words": sorted(words), "suggestions": _SUGGESTIONS}
    ).all()
    replacements = {
        # Ties keep the trigram order: `min` returns the first of equals.
        word: min(candidates, key=lambda known, word=word: edit_distance(word, known))
        for word, candidates in rows
        if candidates
    }
    if not replacements:
        return None
    return _WORD.sub(lambda match: replacements.get(match.group().casefold(), match.group()), q)


def edit_distance(a: str, b: str) -> int:
    """Levenshtein distance where swapping two adjacent letters is one edit ("botxo")."""
    previous2: list[int] = []
    previous = list(range(len(b) + 1))
    for i, char in enumerate(a, 1):
        current = [i]
        for j, other in enumerate(b, 1):
            cost = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (char != other))
            if i > 1 and j > 1 and char == b[j - 2] and a[i - 2] == other:
                cost = min(cost, previous2[j - 2] + 1)
            current.append(cost)
        previous2, previous = previous, current
    return previous[-1]


def _hit(row: Any) -> str:
    _total, _capped, kind, entity_id, rank, published_at, slug, title, title_html, snippet = row
    return dumps(
        {
            "type": kind,
            "id": str(entity_id),
            "slug": slug,
            "url": article_path(slug) if kind == "article" else f"/v1/faqs/{entity_id}",
            "title": title,
            "title_html": marked(title_html),
            "snippet_html": marked(snippet),
            "published_at": iso_datetime(published_at),
            "score": round(float(rank), 6),
        }
    )


def marked(headline: str) -> str:
    """A ts_headline result as safe HTML: everything escaped, matches in `<mark>`."""
    return (
        html.escape(headline, quote=True)
        .replace(_MARK_START, "<mark>")
        .replace(_MARK_END, "</mark>")
    )
