"""Search, lookup and list latency at 10,000 and 100,000 published articles, through the app."""

from __future__ import annotations

import argparse
import json
import logging
import statistics
import sys
import time
import uuid
from typing import Any

import psycopg
from flask import Flask
from flask_migrate import upgrade

from cms_api import create_app
from cms_api.config import Settings
from cms_api.database import db, drop_database, ensure_database, libpq_url
from cms_api.domain.search import CANDIDATE_LIMIT
from cms_api.services.integrations.seeds import load_seeds
from cms_api.services.publishing import search_index

try:
    from cms_api.services.delivery import remembered
except ImportError:  # a checkout from before answers were remembered, measured for comparison
    remembered = None

LOCAL_SERVER = "postgresql://postgres@127.0.0.1:5432/postgres"
FAQS_PER_ARTICLE = 2
SECTIONS_PER_ARTICLE = 5
PARAGRAPHS = 4_000  # the pool article sections are drawn from
PARAGRAPH_WORDS = 90
VOCABULARY = 20_000
# "headache" goes into nine articles in ten (and their FAQs); "zygomycosis" into one
# article in 5,000.
COMMON_WORD, COMMON_SHARE = "headache", 0.9
RARE_WORD, RARE_EVERY = "zygomycosis", 5_000
QUERIES = {
    "rare word": f"/v1/search?q={RARE_WORD}",
    "word in most documents": f"/v1/search?q={COMMON_WORD}",
    "two words (botox headache)": "/v1/search?q=botox headache",
    "typo (botxo headake)": "/v1/search?q=botxo headake",
    "common word, type and topic": (
        f"/v1/search?q={COMMON_WORD}&type=faq&topic=neurological-symptoms"
    ),
    # The lookup, for reference: its code path lists whole topics' content.
    "lookup by code": "/v1/lookup?code=icd10cm:R51.9",
    # With --topics: the first generated root, its subtree and all their content.
    "lookup by code, a root topic": "/v1/lookup?code=icd10cm:R10.0",
    "lookup by symptom": "/v1/lookup?symptom=headache after injection",
}
# The article list: its first page, and a page 9,000 articles deep (its cursor is found by
# walking the list, see `deep_page`); `deep page` is measured after `first page`.
LISTS = {
    "list, first page": "/v1/articles?limit=20",
    "list, deep page": None,
    "list, first page by topic": "/v1/articles?limit=20&topic=neurological-symptoms",
}
DEEP = 9_000

# Real words first (the most frequent ranks), then pronounceable made-up ones: the text
# follows Zipf's law over a 20,000-word vocabulary, like prose.


def _words(text: str) -> list[str]:
    return text.split()


_COMMON = _words(
    "the of and to a in is that for it with as was on be by this are or from at have an "
    "can your you may not more some if they which when also most pain doctor symptoms "
    "treatment people often cause help body blood skin days weeks after before take "
    "usually common medicine relief rest sleep water signs risk check care health "
    "side effects swelling fever nausea dizziness muscles nerves tension stress"
)
_SYLLABLES = _words(
    "ka lo mi ne ro ta vi su pe da bri sto gal fen mor tul vex qua zin har "
    "pel dor kin sa te lu mo ri na che"
)

_SETUP = [
    f"""
CREATE TEMP TABLE bench_words AS
SELECT ordinality AS n, word FROM unnest(%(common)s::text[]) WITH ORDINALITY AS word
UNION ALL
SELECT cardinality(%(common)s::text[]) + n,
    syl[1 + n %% 30] || syl[1 + (n / 30) %% 30] || syl[1 + (n / 900) %% 30]
    || CASE WHEN n %% 3 = 0 THEN syl[1 + (n / 7) %% 30] ELSE '' END
FROM generate_series(1, {VOCABULARY}) AS n, (SELECT %(syllables)s::text[] AS syl) AS s
""",
    "CREATE UNIQUE INDEX ON bench_words (n)",
    # Paragraphs of Zipf-distributed words: rank k is drawn with probability about 1/k.
    f"""
CREATE TEMP TABLE bench_paragraphs AS
SELECT drawn.p, string_agg(w.word, ' ' ORDER BY drawn.i) AS text
FROM (
    SELECT p, i,
        least(floor(exp(random() * ln(%(words)s)))::int, %(words)s) AS rank
    FROM generate_series(0, {PARAGRAPHS - 1}) AS p
    CROSS JOIN generate_series(1, {PARAGRAPH_WORDS}) AS i
) AS drawn
JOIN bench_words AS w ON w.n = drawn.rank
GROUP BY drawn.p
""",
    "CREATE UNIQUE INDEX ON bench_paragraphs (p)",
]
# With --topics N, a generated tree as bench/corpus.py makes one: 12 roots, then topics a
# level and two levels down, each with an ICD-10-CM and a MeSH code and published; articles
# are then filed across the seeded and generated topics alike.
_TOPICS = [
    """
INSERT INTO topics (id, slug, name, description, parent_id, position, version)
SELECT md5('bench-topic' || i)::uuid, 'bench-topic-' || i, 'Bench topic ' || i,
    'What bench topic ' || i || ' is about, its symptoms and care.',
    CASE
        WHEN i < 12 THEN NULL
        WHEN i < 12 + (%(topics)s - 12) / 3 THEN md5('bench-topic' || (i %% 12))::uuid
        ELSE md5('bench-topic' || (12 + i %% greatest((%(topics)s - 12) / 3, 1)))::uuid
    END,
    1000 + i, 1
FROM generate_series(0, %(topics)s - 1) AS i
""",
    """
INSERT INTO medical_codes (id, topic_id, system, code, display)
SELECT md5('bench-code' || system || i)::uuid, md5('bench-topic' || i)::uuid, system,
    CASE system WHEN 'icd10cm' THEN 'R' || (10 + i %% 90) || '.' || (i / 90) %% 10
        ELSE 'D9' || lpad(i::text, 5, '0') END,
    'Bench condition ' || i
FROM generate_series(0, %(topics)s - 1) AS i, unnest(ARRAY['icd10cm', 'mesh']) AS system
""",
    """
INSERT INTO published_documents
    (kind, entity_id, slug, body, summary, etag, tags, published_at, updated_at, title,
     sort_title, reviewed_on)
SELECT 'topic', topic.id, topic.slug, doc::text, doc::text, md5(doc::text),
    ARRAY(SELECT 'code:' || system || ':' || code FROM medical_codes WHERE topic_id = topic.id)
        || CASE WHEN topic.parent_id IS NULL THEN ARRAY['root'] ELSE ARRAY[]::text[] END,
    now(), now(), topic.name, lower(topic.name), current_date
FROM topics AS topic
CROSS JOIN LATERAL (
    SELECT jsonb_build_object('id', topic.id, 'slug', topic.slug, 'name', topic.name) AS doc
) AS built
WHERE topic.slug LIKE 'bench-topic-%%'
""",
]
# Article i: a title, a summary (most with the common word), five sections drawn from
# the pool, a topic from the seeded tree; the rare word in one article in RARE_EVERY.
_ARTICLES = f"""
WITH filed AS (
    SELECT row_number() OVER (ORDER BY slug) - 1 AS t, slug, name,
        ARRAY(
            WITH RECURSIVE up AS (
                SELECT id, slug, parent_id FROM topics WHERE id = topic.id
                UNION ALL
                SELECT p.id, p.slug, p.parent_id FROM topics AS p JOIN up ON p.id = up.parent_id
            )
            SELECT 'topic:' || slug FROM up
        ) AS tags
    FROM topics AS topic
),
articles AS (
    SELECT i, md5('article' || i)::uuid AS id, 'bench-article-' || i AS slug,
        initcap((SELECT text FROM bench_paragraphs WHERE p = (i * 7) %% {PARAGRAPHS}))
            AS paragraph,
        filed.slug AS topic_slug, filed.name AS topic_name, filed.tags,
        TIMESTAMPTZ '2020-01-01' + i * INTERVAL '17 minutes' AS published_at
    FROM generate_series(1, %(articles)s) AS i
    JOIN filed ON filed.t = i %% (SELECT count(*) FROM filed)
),
bodies AS (
    SELECT a.*,
        array_to_string((string_to_array(a.paragraph, ' '))[1:8], ' ') AS title,
        array_to_string((string_to_array(a.paragraph, ' '))[9:30], ' ')
            || CASE WHEN (a.i * 7919) %% 1000 < {int(COMMON_SHARE * 1000)}
                THEN ' {COMMON_WORD}' ELSE '' END
            || CASE WHEN a.i %% {RARE_EVERY} = 0 THEN ' {RARE_WORD}' ELSE '' END AS summary,
        (
            SELECT jsonb_agg(
                jsonb_build_object(
                    'key', 'section-' || s,
                    'heading', initcap(array_to_string(
                        (string_to_array(para.text, ' '))[1:3], ' ')),
                    'body_html', '<p>' || para.text || '</p>',
                    'subsections', '[]'::jsonb
                ) ORDER BY s
            )
            FROM generate_series(1, %(sections)s) AS s
            JOIN bench_paragraphs AS para ON para.p = (a.i * 31 + s * 977) %% {PARAGRAPHS}
        ) AS sections
    FROM articles AS a
)
INSERT INTO published_documents
    (kind, entity_id, slug, body, summary, etag, tags, published_at, updated_at, title,
     sort_title, topic_slugs, reviewed_on)
SELECT 'article', id, slug, body::text, summary_json::text, md5(body::text), tags,
    published_at, published_at, title, lower(title), ARRAY[topic_slug], published_at::date
FROM bodies
CROSS JOIN LATERAL (
    SELECT
        jsonb_build_object(
            'id', id, 'slug', slug, 'url', '/v1/articles/' || slug, 'title', title,
            'summary', summary, 'topics', jsonb_build_array(
                jsonb_build_object('slug', topic_slug, 'name', topic_name)),
            'authors', '[]'::jsonb, 'published_at', published_at, 'updated_at', published_at,
            'last_reviewed_at', null, 'reading_time_minutes', 3
        ) AS summary_json
) AS s
CROSS JOIN LATERAL (SELECT summary_json || jsonb_build_object('sections', sections) AS body) AS b
"""
_FAQS = f"""
INSERT INTO published_documents
    (kind, entity_id, slug, body, summary, etag, tags, published_at, updated_at, title,
     sort_title, reviewed_on)
SELECT 'faq', md5('faq' || a.slug || f)::uuid, NULL, faq::text, faq::text, md5(faq::text),
    a.tags || ('article:' || a.slug), a.published_at, a.published_at, question, lower(question),
    a.published_at::date
FROM published_documents AS a
CROSS JOIN generate_series(1, {FAQS_PER_ARTICLE}) AS f
JOIN bench_paragraphs AS para
    ON para.p = ((hashtext(a.slug) & 2147483647) + f) %% {PARAGRAPHS}
CROSS JOIN LATERAL (
    SELECT array_to_string((string_to_array(para.text, ' '))[1:9], ' ') || '?' AS question
) AS q
CROSS JOIN LATERAL (
    SELECT jsonb_build_object(
        'id', md5('faq' || a.slug || f)::uuid, 'question', q.question,
        'answer_html', '<p>' || array_to_string((string_to_array(para.text, ' '))[10:60], ' ')
            || CASE WHEN a.body::jsonb->>'summary' LIKE '%%{COMMON_WORD}'
                THEN ' {COMMON_WORD}' ELSE '' END || '</p>',
        'position', f - 1,
        'article', jsonb_build_object('slug', a.slug, 'title', a.body::jsonb->>'title',
            'url', '/v1/articles/' || a.slug),
        'topic', null, 'published_at', a.published_at, 'updated_at', a.published_at
    ) AS faq
) AS built
WHERE a.kind = 'article' AND a.slug LIKE 'bench-article-%%'
"""


# The search tables' secondary indexes, with the statements that create them.
_SEARCH_INDEXES = """
SELECT indexname, indexdef FROM pg_indexes
WHERE tablename IN ('search_entries', 'search_words') AND indexname NOT LIKE 'pk_%%'
"""


def log(message: str) -> None:
    print(f"[search bench {time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def build(app: Flask, url: str, articles: int, sections: int, topics: int) -> dict[str, float]:
    """Migrate, seed, bulk-insert the corpus as published documents, index it."""
    timings: dict[str, float] = {}
    with app.app_context():
        started = time.perf_counter()
        upgrade(revision="heads")
        load_seeds()  # topics to file articles under, and the real Botox article
        db.session.commit()
        timings["migrate_and_seed_s"] = time.perf_counter() - started

        connection = db.session.connection()
        started = time.perf_counter()
        params = {
            "common": _COMMON,
            "syllables": _SYLLABLES,
            "words": len(_COMMON) + VOCABULARY,
            "articles": articles,
            "sections": sections,
            "topics": topics,
        }
        for statement in _SETUP + (_TOPICS if topics else []):
            connection.exec_driver_sql(statement, params)
        connection.exec_driver_sql(_ARTICLES, params)
        connection.exec_driver_sql(_FAQS, {})
        db.session.commit()
        timings["insert_documents_s"] = time.perf_counter() - started

        started = time.perf_counter()
        # As migration 0003's backfill does: index the rows, then build the indexes, which
        # costs far less than growing them row by row; with room to sort in memory.
        connection = db.session.connection()
        connection.exec_driver_sql("SET LOCAL work_mem = '256MB'")
        connection.exec_driver_sql("SET LOCAL maintenance_work_mem = '512MB'")
        indexes = connection.exec_driver_sql(_SEARCH_INDEXES).all()
        for name, _definition in indexes:
            connection.exec_driver_sql(f'DROP INDEX "{name}"')
        search_index.reindex_all(connection)  # index_documents' statements, over every document
        for _name, definition in indexes:
            connection.exec_driver_sql(definition)
        db.session.commit()
        timings["index_s"] = time.perf_counter() - started
        db.session.remove()
        db.engine.dispose()
    started = time.perf_counter()
    # Autovacuum may be off or slow to come: statistics and the visibility map now.
    with psycopg.connect(libpq_url(url), autocommit=True) as conn:
        conn.execute("VACUUM (ANALYZE)")
    timings["vacuum_analyze_s"] = time.perf_counter() - started
    return {name: round(value, 1) for name, value in timings.items()}


def corpus_facts(url: str) -> dict[str, Any]:
    with psycopg.connect(libpq_url(url)) as conn:
        facts = dict(
            conn.execute(
                "SELECT kind, count(*) FROM search_entries GROUP BY kind ORDER BY kind"
            ).fetchall()
        )
        for label, word in (("rare", RARE_WORD), ("common", COMMON_WORD)):
            facts[f"documents_with_{label}_word"] = conn.execute(
                "SELECT count(*) FROM search_entries "
                "WHERE vector @@ websearch_to_tsquery('cms_search', %s)",
                (word,),
            ).fetchone()[0]
        facts["search_words"] = conn.execute("SELECT count(*) FROM search_words").fetchone()[0]
        facts["index_mb"] = round(
            conn.execute("SELECT pg_total_relation_size('search_entries')").fetchone()[0] / 2**20
        )
    return facts


def deep_page(app: Flask, depth: int) -> str:
    """The address of the list page that starts `depth` articles in."""
    client, url, seen = app.test_client(), "/v1/articles?limit=100", 0
    while seen < depth:
        body = client.get(url).get_json()
        seen += len(body["items"])
        if body["page"]["next_cursor"] is None:
            break
        url = f"/v1/articles?limit=100&cursor={body['page']['next_cursor']}"
    return url.replace("limit=100", "limit=20")


def measure(app: Flask, url: str, requests: int, warmup: int, cold: bool) -> dict[str, Any]:
    """Sequential requests through the Flask test client (the whole app, no HTTP server).

    Repeated, a request is answered from the worker's memory where the app keeps answers;
    `cold` forgets them before each request, to time reading and rendering the answer."""
    client = app.test_client()
    for _ in range(warmup):
        response = client.get(url)
        assert response.status_code == 200, response.get_data(as_text=True)
    durations = []
    for _ in range(requests):
        if cold and remembered is not None:
            remembered.ANSWERS.clear()
        started = time.perf_counter()
        response = client.get(url)
        durations.append((time.perf_counter() - started) * 1000)
        assert response.status_code == 200
    body = response.get_json()
    durations.sort()
    result: dict[str, Any] = {
        "p50_ms": round(statistics.median(durations), 2),
        "p99_ms": round(durations[min(len(durations) - 1, int(len(durations) * 0.99))], 2),
        "max_ms": round(durations[-1], 2),
    }
    if "query" not in body:
        result.update(total=body["page"]["total"], items=len(body["items"]))
    elif "page" in body:
        result.update(
            total=body["page"]["total"],
            capped=body["query"]["capped"],
            first=body["items"][0]["title"][:60] if body["items"] else None,
        )
    else:
        result.update(
            {name: len(body[name]) for name in ("topics", "articles", "faqs")},
            first=body["articles"][0]["title"][:60] if body["articles"] else None,
        )
    return result


def run_size(server: str, articles: int, args: argparse.Namespace) -> dict[str, Any]:
    name = args.reuse or f"cms_bench_search_{articles}_{uuid.uuid4().hex[:6]}"
    url = ensure_database(server, name)
    try:
        app = create_app(
            {
                # One client sends every request here: the search rate limit would refuse
                # all but the first 120.
                "CMS_SETTINGS": Settings(database_url=url, search_rate_limit="1000000 per minute"),
                "SQLALCHEMY_DATABASE_URI": url,
                "CMS_ACCESS_LOG": False,
            }
        )
        result: dict[str, Any] = {"articles": articles}
        if not args.reuse:
            log(f"{articles:,} articles: building {name}")
            result["build"] = build(app, url, articles, args.sections, args.topics)
            log(f"{articles:,} articles: built {result['build']}")
        result["corpus"] = corpus_facts(url)
        result["queries"] = {}
        queries = {**QUERIES, **LISTS, "list, deep page": deep_page(app, DEEP)}
        for label, url in queries.items():
            if args.only and not any(word in label for word in args.only):
                continue
            result["queries"][label] = measure(app, url, args.requests, args.warmup, args.cold)
            log(f"{articles:,} articles: {label}: {result['queries'][label]}")
        with app.app_context():
            for engine in db.engines.values():
                engine.dispose()
        return result
    finally:
        if args.keep or args.reuse:
            log(f"kept {name}")
        else:
            drop_database(server, name)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--database-url", default=LOCAL_SERVER, help="a PostgreSQL server")
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000])
    parser.add_argument("--requests", type=int, default=300, help="measured, per query")
    parser.add_argument("--warmup", type=int, default=30, help="unmeasured, per query")
    parser.add_argument("--keep", action="store_true", help="keep the databases")
    parser.add_argument(
        "--sections",
        type=int,
        default=SECTIONS_PER_ARTICLE,
        help=f"sections of {PARAGRAPH_WORDS} words an article (16: as long as bench/run.py's)",
    )
    parser.add_argument(
        "--topics", type=int, default=0, help="generated topics besides the seeded ones (300)"
    )
    parser.add_argument("--reuse", metavar="NAME", help="measure a kept database (one size)")
    parser.add_argument(
        "--cold", action="store_true", help="forget remembered answers before each request"
    )
    parser.add_argument("--only", nargs="+", help="measure the queries whose label has a word")
    args = parser.parse_args(argv)
    logging.getLogger("cms_api.access").setLevel(logging.WARNING)
    results = [run_size(args.database_url, size, args) for size in args.sizes]
    print(json.dumps({"candidate_limit": CANDIDATE_LIMIT, "sizes": results}, indent=2))


if __name__ == "__main__":
    main()
