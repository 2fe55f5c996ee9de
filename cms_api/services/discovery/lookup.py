"""The symptom-checker lookup: a code or symptom in; published topics, articles, FAQs out."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime
from functools import cache
from typing import Any

from cms_api.services import runtime
from cms_api.services.delivery.documents import reading
from cms_api.services.discovery import search, spelling
from cms_api.services.publishing import site

# Systems whose codes nest by prefix: ICD-10-CM's R51 is the parent of R51.9. SNOMED CT
# and MeSH identifiers carry no hierarchy in their spelling, so they match exactly.
PREFIX_SYSTEMS = {"icd10cm"}
_ICD_CATEGORY = 3  # shorter prefixes are chapters, far too broad to call a match
_SYMPTOM_WORD = re.compile(r"[^\W_]+")


@dataclass(frozen=True)
class TopicDetails:
    """What a topic's lookup item leaves out, for answers in other shapes (Infobutton)."""

    description: str | None
    updated_at: datetime


@dataclass(frozen=True)
class LookupResult:
    topics: list[str]  # each item already JSON
    articles: list[str]
    faqs: list[str]
    corrected: str | None = None
    details: list[TopicDetails] = field(default_factory=list)  # one for each topic


def code_key(system: str, code: str) -> str:
    """How a code compares: upper case, and for ICD-10-CM without its dot."""
    code = code.strip().upper()
    return code.replace(".", "") if system in PREFIX_SYSTEMS else code


# Content is gathered from at most this many matched topics, the best first (a root
# topic's subtree can be hundreds).
CONTENT_TOPICS = 50

# Published topics: a topic is public while it has a published document. In the default
# locale they are named and described as the topics table has them (`{live_topics}` is
# _LIVE_TOPICS); in another one, only the topics translated into it are, in its words
# (_TRANSLATED_TOPICS): a lookup in Spanish names no topic in English.
_LIVE_TOPICS = """
live_topics AS (
    SELECT
        topic.id, topic.slug::text AS slug, topic.name, topic.description, topic.synonyms,
        topic.parent_id, document.updated_at
    FROM topics AS topic
    JOIN published_documents AS document
        ON document.kind = 'topic' AND document.entity_id = topic.id
    WHERE topic.deleted_at IS NULL
)"""
_TRANSLATED_TOPICS = """
live_topics AS (
    SELECT
        topic.id, topic.slug::text AS slug, translation.name, translation.description,
        translation.synonyms, topic.parent_id,
        greatest(document.updated_at, translation.updated_at) AS updated_at
    FROM topics AS topic
    JOIN published_documents AS document
        ON document.kind = 'topic' AND document.entity_id = topic.id
    JOIN topic_translations AS translation
        ON translation.topic_id = topic.id AND translation.locale = %(locale)s
    WHERE topic.deleted_at IS NULL
)"""
# How many published articles (or FAQs: `{kind}`) of the lookup's locale are filed
# directly under the topic `{topic}`: one row of search_topic_counts, kept by triggers.
_FILED_UNDER = """coalesce((
    SELECT entries FROM search_topic_counts AS counted
    WHERE counted.topic = {topic}.slug AND counted.locale = %(locale)s
        AND counted.kind = '{kind}'
), 0)"""
# Each topic in `matched` (id, relation, matched_code, subtopic_of, score; higher is
# better) as the lookup lists it, best first, with its counts, and for a topic with
# nothing filed under it, its nearest ancestor that has something (`content_from`): the
# content the lookup gathers for it. Ancestors are walked for those topics only.
_TOPIC_ROWS = f""",
own AS (
    SELECT
        matched.id,
        {_FILED_UNDER.format(topic="topic", kind="article")} AS articles,
        {_FILED_UNDER.format(topic="topic", kind="faq")} AS faqs
    FROM matched
    JOIN live_topics AS topic USING (id)
),
lineage AS (
    SELECT own.id AS topic_id, topic.parent_id AS id, 1 AS depth
    FROM own JOIN live_topics AS topic USING (id)
    WHERE own.articles + own.faqs = 0 AND topic.parent_id IS NOT NULL
    UNION ALL
    SELECT lineage.topic_id, ancestor.parent_id, lineage.depth + 1
    FROM lineage JOIN live_topics AS ancestor ON ancestor.id = lineage.id
    WHERE ancestor.parent_id IS NOT NULL AND lineage.depth < 100
),
source AS (
    SELECT DISTINCT ON (lineage.topic_id) lineage.topic_id AS id, ancestor.slug, ancestor.name
    FROM lineage JOIN live_topics AS ancestor ON ancestor.id = lineage.id
    WHERE EXISTS (
        SELECT FROM search_topic_counts AS counted
        WHERE counted.topic = ancestor.slug AND counted.locale = %(locale)s
            AND counted.entries > 0
    )
    ORDER BY lineage.topic_id, lineage.depth
)
SELECT
    topic.slug,
    matched.score,
    coalesce(source.slug, topic.slug),
    topic.description,
    topic.updated_at,
    jsonb_build_object(
        'id', topic.id,
        'slug', topic.slug,
        'name', topic.name,
        'url', '/v1/topics/' || topic.slug || %(topic_query)s,
        'page_url', replace(%(topic_page)s, '{{slug}}', topic.slug),
        'codes', (
            SELECT coalesce(
                jsonb_agg(
                    jsonb_build_object('system', system, 'code', code, 'display', display)
                    ORDER BY system, code
                ),
                '[]'
            )
            FROM medical_codes WHERE topic_id = topic.id
        ),
        'synonyms', to_jsonb(topic.synonyms),
        'relation', matched.relation,
        'matched_code', matched.matched_code,
        'subtopic_of', matched.subtopic_of,
        'article_count', own.articles,
        'faq_count', own.faqs,
        'content_from', CASE WHEN source.id IS NOT NULL
            THEN jsonb_build_object('slug', source.slug, 'name', source.name)
        END
    )::text
FROM matched
JOIN live_topics AS topic USING (id)
JOIN own USING (id)
LEFT JOIN source USING (id)
ORDER BY matched.score DESC, topic.name, topic.id
"""
# The best `limit` articles and FAQs of `hits` (kind, entity_id, published_at, score), as
# their published summaries: documents are read for the rows kept only.
_CONTENT_ROWS = """
best AS (
    SELECT DISTINCT ON (kind, entity_id) kind, entity_id, published_at, score
    FROM hits
    ORDER BY kind, entity_id, score DESC
),
ranked AS (
    SELECT kind, entity_id, row_number() OVER (
        PARTITION BY kind ORDER BY score DESC, published_at DESC, entity_id DESC
    ) AS n
    FROM best
)
SELECT ranked.kind, document.summary
FROM ranked JOIN published_documents AS document USING (kind, entity_id)
WHERE ranked.n <= %(limit)s
ORDER BY ranked.kind, ranked.n
"""

# Topics carrying the code, or (ICD-10-CM) a code related to it, the closest code first;
# then their subtopics, by their matched topic's closeness and their depth below it.
#
# How close a topic's ICD-10-CM code is to the code asked for (`closeness`, lower is
# closer): the same code (0); above or below it, by how many levels (1 to 4); a sibling,
# under the same parent code, the one asked for without its last character (10 and up);
# in the same 3-character category (20 and up). SNOMED CT and MeSH match exactly.
_SIBLING, _CATEGORY = 10, 20
_TOPICS_BY_CODE = f"""
WITH RECURSIVE {{live_topics}},
coded AS (
    SELECT DISTINCT ON (code.topic_id)
        code.topic_id AS id,
        code.relation,
        code.closeness,
        jsonb_build_object('system', code.system, 'code', code.code, 'display', code.display)
            AS matched_code
    FROM (
        SELECT topic_id, system, code, display, key, related.relation,
            CASE related.relation
                WHEN 'sibling' THEN {_SIBLING}
                WHEN 'category' THEN {_CATEGORY}
                ELSE 0
            END + abs(length(key) - length(%(key)s)) AS closeness
        FROM medical_codes
        CROSS JOIN LATERAL (
            SELECT CASE WHEN %(prefixes)s THEN replace(upper(code), '.', '') ELSE upper(code) END
                AS key
        ) AS keyed
        CROSS JOIN LATERAL (
            SELECT CASE
                WHEN key = %(key)s THEN 'exact'
                WHEN NOT %(prefixes)s OR length(key) < {_ICD_CATEGORY} THEN NULL
                WHEN starts_with(%(key)s, key) THEN 'broader'
                WHEN starts_with(key, %(key)s) THEN 'narrower'
                WHEN length(%(key)s) > {_ICD_CATEGORY}
                    AND starts_with(key, left(%(key)s, -1)) THEN 'sibling'
                WHEN starts_with(key, left(%(key)s, {_ICD_CATEGORY})) THEN 'category'
            END AS relation
        ) AS related
        -- Every related code shares the category (ix_medical_codes_lookup_category), so
        -- only its codes are read, whatever the number of topics.
        WHERE medical_codes.system = %(system)s
            AND left(replace(upper(medical_codes.code), '.', ''), {_ICD_CATEGORY})
                = left(replace(%(key)s, '.', ''), {_ICD_CATEGORY})
            AND related.relation IS NOT NULL
    ) AS code
    -- Not joined to live_topics here (a CTE without an index, scanned once per code): a
    -- topic that is not live drops out where `own` joins live_topics, and `tree` walks
    -- down from live parents only.
    ORDER BY code.topic_id, code.closeness, code.key
),
tree AS (
    SELECT
        id,
        relation,
        closeness AS distance,
        0 AS depth,
        matched_code,
        NULL::text AS subtopic_of,
        ARRAY[id] AS path
    FROM coded
    UNION ALL
    SELECT
        child.id,
        'subtopic',
        tree.distance,
        tree.depth + 1,
        NULL::jsonb,
        coalesce(tree.subtopic_of, parent.slug),
        tree.path || child.id
    FROM tree
    JOIN live_topics AS parent ON parent.id = tree.id
    JOIN live_topics AS child ON child.parent_id = tree.id
    WHERE child.id <> ALL(tree.path)
),
matched AS (
    SELECT DISTINCT ON (tree.id)
        tree.id, tree.relation, tree.matched_code, tree.subtopic_of, scored.score
    FROM tree
    CROSS JOIN LATERAL (
        SELECT -((tree.depth > 0)::int * 1000000 + tree.distance * 1000 + tree.depth) AS score
    ) AS scored
    ORDER BY tree.id, scored.score DESC
)
{_TOPIC_ROWS}"""

# The newest articles or FAQs filed directly under any of the matched topics that share
# one score: each topic's newest `limit` from a backward scan of search_entry_topics'
# primary key (topic, locale, kind, published_at, entity_id), then the newest `limit` of
# those, an item filed under two of the topics counted once. One branch per score (a
# handful: exact, broader, narrower, a subtopic level), not one per topic: a code that
# matches a root topic matches its whole subtree.
#
# Taking the newest `limit` of each score loses nothing: an item among the best `limit`
# overall is preceded by fewer than `limit` items, and every newer item filed under a
# topic of its best score precedes it.
_AT_SCORE = """(
    SELECT kind, entity_id, published_at, %(score{i})s::integer AS score
    FROM unnest(%(topics{i})s::text[]) AS wanted (topic)
    CROSS JOIN LATERAL (
        SELECT kind, entity_id, published_at
        FROM search_entry_topics AS filed
        WHERE filed.topic = wanted.topic AND filed.locale = %(locale)s
            AND filed.kind = %(kind{i})s
        ORDER BY filed.published_at DESC, filed.entity_id DESC
        LIMIT %(limit)s
    ) AS newest
    GROUP BY kind, entity_id, published_at
    ORDER BY published_at DESC, entity_id DESC
    LIMIT %(limit)s
)"""

# The symptom is parsed and stemmed in the lookup's language (`{language}`, see
# `_statement`), as the topics' words and the content of that locale are.
_ALL_WORDS = "websearch_to_tsquery({language}, %(all_words)s)"
_ANY_WORD = "websearch_to_tsquery({language}, %(any_word)s)"
# Topics whose name, synonyms, code names or description share a word with the symptom,
# those it names in full first.
_TOPICS_BY_SYMPTOM = f"""
WITH RECURSIVE {{live_topics}},
matched AS (
    SELECT
        topic.id,
        'text' AS relation,
        NULL::jsonb AS matched_code,
        NULL::text AS subtopic_of,
        ts_rank(topic_text.vector, {_ANY_WORD}) + named.bonus AS score
    FROM live_topics AS topic
    -- A topic the symptom names in full, by its name or a synonym, comes first: "headache
    -- after injection" names Headache, not Tension-type headache (which says headache
    -- more often).
    CROSS JOIN LATERAL (
        SELECT (EXISTS (
            SELECT FROM unnest(topic.synonyms || topic.name::text) AS term
            WHERE numnode(plainto_tsquery({{language}}, term)) > 0
                AND to_tsvector({{language}}, %(all_words)s)
                    @@ plainto_tsquery({{language}}, term)
        ))::int AS bonus
    ) AS named
    CROSS JOIN LATERAL (
        SELECT
            setweight(
                to_tsvector(
                    {{language}}, topic.name || ' ' || array_to_string(topic.synonyms, ' ')
                ),
                'A'
            )
            || setweight(
                to_tsvector(
                    {{language}},
                    coalesce(
                        (SELECT string_agg(display, ' ') FROM medical_codes
                         WHERE topic_id = topic.id),
                        ''
                    )
                ),
                'B'
            )
            || setweight(to_tsvector({{language}}, coalesce(topic.description, '')), 'C')
            AS vector
    ) AS topic_text
    WHERE topic_text.vector @@ {_ANY_WORD}
)
{_TOPIC_ROWS}"""
# Which of the symptom's words name a published topic or are among its synonyms: these
# are never taken for typos, though no article may use them ("tmj").
_TOPIC_WORDS = """
WITH {live_topics}
SELECT typed.word
FROM (
    SELECT word, plainto_tsquery({language}, word) AS query
    FROM unnest(%(words)s::text[]) AS word
) AS typed
WHERE numnode(typed.query) > 0 AND EXISTS (
    SELECT FROM live_topics AS topic
    WHERE to_tsvector({language}, topic.name || ' ' || array_to_string(topic.synonyms, ' '))
        @@ typed.query
)
"""
# Articles and FAQs with every word of the symptom first, then those with some, by
# relevance. Each tier of each kind ranks its newest SYMPTOM_CANDIDATES matches only, so
# that common words stay cheap (read newest first from the (kind, published_at) index
# until enough match) and one kind cannot crowd out the other; ranking reads the vectors
# of those only.
SYMPTOM_CANDIDATES = 200
_TIER = """(
    SELECT
        tier.kind, tier.entity_id, tier.published_at,
        {bonus} + ts_rank(tier.vector, {any_word}) AS score
    FROM (
        SELECT kind, entity_id, published_at, vector
        FROM search_entries
        WHERE kind = '{kind}' AND locale = %(locale)s
            AND vector @@ {words} AND querytree({words}) NOT IN ('', 'T')
        ORDER BY published_at DESC
        LIMIT %(cap)s
    ) AS tier
)"""
_CONTENT_BY_SYMPTOM = (
    "WITH hits AS (\n"
    + "\nUNION ALL\n".join(
        _TIER.format(bonus=bonus, any_word=_ANY_WORD, kind=kind, words=words)
        for kind in ("article", "faq")
        for bonus, words in ((1, _ALL_WORDS), (0, _ANY_WORD))
    )
    + "\n),\n"
    + _CONTENT_ROWS
)


def _statement(template: str, locale: str) -> str:
    """A statement for `locale`: its topics (`{live_topics}`) and its language
    (`{language}`)."""
    default = locale == runtime.settings().default_locale
    return _localized(template, default, search.configuration(locale))


@cache  # a handful of templates and locales
def _localized(template: str, default: bool, language: str) -> str:
    live_topics = _LIVE_TOPICS if default else _TRANSLATED_TOPICS
    return template.replace("{live_topics}", live_topics).replace("{language}", language)


def _locale_params(locale: str) -> dict[str, Any]:
    """What every lookup statement of `locale` is given: the locale, and where its topics
    are, in this API and on the public site."""
    default = locale == runtime.settings().default_locale
    return {
        "locale": locale,
        "topic_query": "" if default else f"?locale={locale}",
        "topic_page": _topic_page(locale),
    }


def by_code(system: str, code: str, *, limit: int, locale: str | None = None) -> LookupResult:
    """Published topics with this code (or, in ICD-10-CM, a code above, below, beside or
    in the category of it) and their subtopics, and the articles and FAQs filed under any
    of them (or, for a topic with none, under its nearest ancestor with some).

    In `locale` (default: the site's): codes are shared by every locale, but a topic is
    listed, in that locale's words, only when it is translated into it, and the articles
    and FAQs are those written in it."""
    locale = search.site_locale(locale)
    params = {
        "system": system,
        "key": code_key(system, code),
        "prefixes": system in PREFIX_SYSTEMS,
        **_locale_params(locale),
    }
    with reading() as shared, search.planned_for_its_words(shared) as connection:
        topics = connection.exec_driver_sql(_statement(_TOPICS_BY_CODE, locale), params).all()
        content: list[Any] = []
        if topics:
            # Content is scored by the best of the matched topics it is filed under (or
            # stands in for, when a topic borrows its ancestor's).
            by_score: dict[int, list[str]] = {}
            for _, score, content_slug, *_ in topics[:CONTENT_TOPICS]:
                slugs = by_score.setdefault(score, [])
                if content_slug not in slugs:
                    slugs.append(content_slug)
            parts, values = [], {"limit": limit, "locale": locale}
            for i, (score, slugs) in enumerate(by_score.items()):
                for kind in ("article", "faq"):
                    key = f"{i}_{kind}"
                    parts.append(_AT_SCORE.replace("{i}", key))
                    values.update({f"score{key}": score, f"kind{key}": kind, f"topics{key}": slugs})
            statement = "WITH hits AS (" + "\nUNION ALL\n".join(parts) + "),\n" + _CONTENT_ROWS
            content = connection.exec_driver_sql(statement, values).all()
    return _result(topics[:limit], content)


def by_symptom(symptom: str, *, limit: int, locale: str | None = None) -> LookupResult:
    """Published topics (by name, synonyms, code names, description), articles and FAQs
    about the words of a symptom, misspellings corrected; in `locale` (default: the
    site's), whose topic names and synonyms, content and lexicon it looks in. Accents do
    not matter ("cefalea" is "céfalea")."""
    locale = search.site_locale(locale)
    words = [word for word in _SYMPTOM_WORD.findall(symptom) if word.casefold() != "or"]
    if not words:
        return LookupResult(topics=[], articles=[], faqs=[])
    typed = " ".join(words)
    with reading() as shared, search.planned_for_its_words(shared) as connection:
        # Any one word is enough to match, so a misspelt word would quietly count for
        # nothing: correct first, always; but a topic's own name or synonym is no typo.
        corrected = _corrected(connection, words, locale)
        words = (corrected or typed).split()
        params: dict[str, Any] = {
            "all_words": " ".join(words),
            "any_word": " or ".join(words),
            "cap": SYMPTOM_CANDIDATES,
            "limit": limit,
            **_locale_params(locale),
        }
        topics = connection.exec_driver_sql(_statement(_TOPICS_BY_SYMPTOM, locale), params).all()
        content = connection.exec_driver_sql(_statement(_CONTENT_BY_SYMPTOM, locale), params).all()
    return _result(topics[:limit], content, corrected=corrected)


def _corrected(connection: Any, words: list[str], locale: str) -> str | None:
    """The words with typos corrected, or None when none was; words that name a topic
    are left as they are."""
    known = {
        word.casefold()
        for (word,) in connection.exec_driver_sql(
            _statement(_TOPIC_WORDS, locale), {"words": words, "locale": locale}
        ).all()
    }
    rest = [word for word in words if word.casefold() not in known]
    fixed = spelling.correct(connection, " ".join(rest), locale=locale) if rest else None
    if fixed is None:
        return None
    # Correction replaces word for word (an indexed word has no space), so they line up.
    replacements = dict(zip(rest, fixed.split(), strict=False))
    return " ".join(replacements.get(word, word) for word in words)


def _topic_page(locale: str) -> str:
    """A topic's public page address in `locale` with `{slug}` for its slug, for the SQL
    to fill in."""
    return site.page_url("topic", "{slug}", locale)


def _result(topics: list[Any], content: list[Any], *, corrected: str | None = None) -> LookupResult:
    lists: dict[str, list[str]] = {"article": [], "faq": []}
    for kind, summary in content:
        lists[kind].append(summary)
    return LookupResult(
        topics=[item for *_, item in topics],
        articles=lists["article"],
        faqs=lists["faq"],
        corrected=corrected,
        details=[TopicDetails(row[3], row[4]) for row in topics],
    )
