"""Full-text search over published articles and FAQs, ranked, with highlighted snippets."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection

from cms_api.domain import locales
from cms_api.domain.formats import dumps, iso_datetime
from cms_api.domain.paging import Keyset, aware_datetime, real_number, uuid_value
from cms_api.domain.search import CANDIDATE_LIMIT
from cms_api.services import runtime
from cms_api.services.delivery.documents import reading
from cms_api.services.discovery import highlight
from cms_api.services.discovery.highlight import FRAGMENT_BREAK, MARK_END, MARK_START
from cms_api.services.discovery.spelling import correct
from cms_api.services.publishing.render import article_path

_TITLE_OPTIONS = f"HighlightAll=true, StartSel={MARK_START}, StopSel={MARK_END}"
_SNIPPET_OPTIONS = (
    f"StartSel={MARK_START}, StopSel={MARK_END}, MaxFragments=2, MaxWords=30, "
    f'MinWords=12, ShortWord=3, FragmentDelimiter="{FRAGMENT_BREAK}"'
)
# (rank, published_at, id), best first.
RELEVANCE = Keyset("relevance", (real_number, aware_datetime, uuid_value))


def site_locale(locale: str | None) -> str:
    """`locale`, or the site's default locale when none is given."""
    return locale or runtime.settings().default_locale


def configuration(locale: str) -> str:
    """The text search configuration of `locale` as a SQL literal ('cms_search_spanish'):
    a query is parsed and stemmed as the documents of its locale were indexed. Written
    into the statement, not bound, so that it is a constant the planner folds; the names
    come from `locales.SEARCH_CONFIGURATIONS`, never from the request."""
    return f"'{locales.search_configuration(locale)}'"


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


def _search_sql(*, kind: bool, topics: bool, after: bool, locale: str) -> str:
    """The search statement over the documents of `locale`: filtered candidates, ranked,
    one page with snippets, the query parsed, stemmed and highlighted in its language."""
    # The cheap filters are written before the text match, which may first have to fetch
    # a large vector.
    filters = "locale = %(locale)s AND "
    if kind:
        filters += "kind = %(kind)s AND "
    if topics:
        filters += "topics && %(topics)s::text[] AND "
    keyset = (
        "WHERE (rank, published_at, entity_id) < (%(rank)s::real, %(at)s, %(id)s)" if after else ""
    )
    language = configuration(locale)
    query = f"websearch_to_tsquery({language}, %(q)s)"
    # What the query looks for, its exclusions (`-word`) left out. Exclusions filter; they
    # cannot rank or highlight, and ts_rank scores a document that matches `a & !b` near 0.
    wanted = f"querytree({query})::tsquery"
    # A query with nothing to look up (stop words only) or only exclusions cannot use
    # the index and would read every row: it matches nothing instead.
    searchable = f"querytree({query}) NOT IN ('', 'T')"
    phrased = f"querytree({query}) ~ '<(-|[0-9]+)>'"
    return f"""
WITH title_hits AS (
    SELECT kind, entity_id, published_at, ts_rank(vector, {wanted}) AS rank
    FROM search_entries
    -- The whole vector too: an excluded word (`-word`) may be outside the title.
    WHERE {filters}title_vector @@ {query} AND vector @@ {query} AND {searchable}
    LIMIT %(cap)s
),
text_hits AS (
    SELECT *, row_number() OVER () AS n FROM (
        SELECT kind, entity_id, published_at, ts_rank(vector, {wanted}) AS rank
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
            OR (SELECT count(*) FROM title_hits) >= %(cap)s AS capped,
        CASE WHEN {searchable} THEN querytree({query}) END AS tree
)
SELECT stats.total, stats.capped, stats.tree, hit.*
FROM stats
LEFT JOIN LATERAL (
    SELECT
        page.kind,
        page.entity_id,
        page.rank,
        page.published_at,
        entry.slug,
        entry.title,
        -- A FAQ's document names its article (null for a topic's FAQ).
        document.body::json -> 'article' AS article,
        entry.passages[chosen.passage] AS passage,
        headline.title_html,
        headline.snippet_html,
        -- The lexemes of each word ts_headline marked: which tell a phrase standing as
        -- written from its words standing apart (it marks both).
        (
            SELECT json_object_agg(marked.word, tsvector_to_array(
                to_tsvector({language}, marked.word)
            ))
            FROM (
                SELECT DISTINCT found[1] AS word
                FROM regexp_matches(
                    concat_ws(' ', headline.title_html, headline.snippet_html), %(marked)s, 'g'
                ) AS found
            ) AS marked
        ) AS lexemes
    FROM (
        SELECT * FROM candidates {keyset}
        ORDER BY rank DESC, published_at DESC, entity_id DESC
        LIMIT %(limit)s + 1
    ) AS page
    JOIN search_entries AS entry USING (kind, entity_id)
    LEFT JOIN published_documents AS document
        ON page.kind = 'faq' AND document.kind = 'faq' AND document.entity_id = page.entity_id
    -- A snippet reads one passage, not the whole text: the first that matches the query
    -- by itself, else the one with most of its words, else (only the title matches) the
    -- first. Passage vectors hold no word positions, so a phrase is checked on the text.
    CROSS JOIN LATERAL (
        SELECT coalesce((
            SELECT passage.n
            FROM unnest(entry.passage_vectors) WITH ORDINALITY AS passage(vector, n)
            CROSS JOIN LATERAL (
                SELECT count(*) AS words
                FROM unnest(tsvector_to_array(passage.vector)) AS word
                WHERE word = ANY(tsvector_to_array(to_tsvector({language}, %(q)s)))
            ) AS shared
            WHERE shared.words > 0
            ORDER BY
                CASE WHEN {phrased}
                    THEN to_tsvector({language}, entry.passages[passage.n]) @@ {wanted}
                    ELSE passage.vector @@ {wanted}
                END DESC,
                shared.words DESC,
                passage.n
            LIMIT 1
        ), 1) AS passage
    ) AS chosen
    CROSS JOIN LATERAL (
        SELECT
            ts_headline({language}, entry.title, {wanted}, %(title_options)s) AS title_html,
            ts_headline(
                {language}, entry.passages[chosen.passage], {wanted}, %(snippet_options)s
            ) AS snippet_html
        OFFSET 0  -- computed once, however often used
    ) AS headline
    ORDER BY page.rank DESC, page.published_at DESC, page.entity_id DESC
) AS hit ON true
"""


def search(
    q: str,
    *,
    kind: str | None = None,
    topic: str | None = None,
    limit: int = 20,
    cursor: str | None = None,
    locale: str | None = None,
) -> SearchPage:
    """Published articles and FAQs in `locale` (default: the site's) matching `q` (web
    search syntax), best first.

    When nothing matches, each word that occurs nowhere in the locale's index is replaced
    by the most similar word of that locale's lexicon (trigram similarity), and the
    corrected query is searched.
    """
    locale = site_locale(locale)
    after = RELEVANCE.decode(cursor)
    with reading() as shared, planned_for_its_words(shared) as connection:
        topics = topic_subtree(connection, topic) if topic is not None else None
        if topics == []:  # no such topic: nothing is filed under it
            return SearchPage([], limit, None, total=0, capped=False, corrected=None)
        searched = {"kind": kind, "topics": topics, "limit": limit, "after": after}
        rows = _run(connection, q, locale=locale, **searched)
        corrected = correct(connection, q, locale=locale) if rows[0].total == 0 else None
        if corrected is not None:
            retried = _run(connection, corrected, locale=locale, **searched)
            if retried[0].total:
                rows = retried
            else:
                corrected = None  # no better: answer what was asked
    total, capped = rows[0].total, rows[0].capped
    hits = [row for row in rows if row.kind is not None]
    page = RELEVANCE.page(
        hits,
        limit=limit,
        total=total,
        key=lambda row: [row.rank, row.published_at.isoformat(), str(row.entity_id)],
    )
    found = highlight.terms(rows[0].tree)
    return SearchPage(
        items=[_hit(row, found, locale) for row in page.items],
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
    locale: str,
    kind: str | None,
    topics: list[str] | None,
    limit: int,
    after: tuple[float, datetime, uuid.UUID] | None,
) -> list[Any]:
    sql = _search_sql(
        kind=kind is not None, topics=topics is not None, after=after is not None, locale=locale
    )
    params: dict[str, Any] = {
        "q": q,
        "locale": locale,
        "kind": kind,
        "topics": topics,
        "cap": CANDIDATE_LIMIT,
        "limit": limit,
        "title_options": _TITLE_OPTIONS,
        "snippet_options": _SNIPPET_OPTIONS,
        "marked": highlight.MARKED.pattern,
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


def _hit(row: Any, found: highlight.Terms | None, locale: str) -> str:
    lexemes = row.lexemes or {}
    return dumps(
        {
            "type": row.kind,
            "id": str(row.entity_id),
            "slug": row.slug,
            "url": article_path(row.slug, locale)
            if row.kind == "article"
            else faq_path(row.entity_id, locale),
            "title": row.title,
            "title_html": highlight.title_html(row.title_html, found, lexemes),
            "snippet_html": highlight.snippet_html(
                row.snippet_html or "", row.passage or "", found, lexemes
            ),
            "article": row.article,
            "published_at": iso_datetime(row.published_at),
            "score": round(float(row.rank), 6),
        }
    )


def faq_path(faq_id: uuid.UUID, locale: str) -> str:
    """A FAQ's address on this API; outside the default locale, with its `locale` (as
    `article_path` writes an article's)."""
    path = f"/v1/faqs/{faq_id}"
    return path if locale == runtime.settings().default_locale else f"{path}?locale={locale}"
