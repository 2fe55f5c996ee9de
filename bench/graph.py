"""Time the related-article graph exports on synthetic corpora of 10,000 and 100,000 articles.

Publishing 10,000 articles through the publishing service takes about seven minutes, so
this script does not: it writes what the graph reads straight into a throwaway database
with set-based SQL (generate_series). Each article gets a row in `articles`, three topics
in `article_topics`, five `related_links` and a `published_documents` row whose summary,
tags and etag have the shape publishing gives them (an incompressible padding stands in
for the rendered body, so the table is as wide on disk). One article in a hundred is a
draft, so the report has broken links to find. The topic pages are rendered by the real
service (`publishing.topics.refresh_topics`), since click depth starts from them.

    .venv/bin/python bench/graph.py                       # 10,000 and 100,000 articles
    .venv/bin/python bench/graph.py --sizes 10000 --repeat 5
    .venv/bin/python bench/graph.py --database-url postgresql://user@host:5432/postgres

Each size gets a fresh database (`cms_graph_bench_<size>`), dropped at the end unless
`--keep`. Timings are through the Flask test client (the whole request: version check,
load, metrics, serialisation), cold (empty in-process cache) and warm (the graph of this
version already loaded).
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from collections.abc import Callable
from typing import Any

from flask import Flask
from flask_migrate import upgrade
from sqlalchemy import text

from cms_api import create_app
from cms_api.config import Settings
from cms_api.database import db, drop_database, ensure_database, sqlalchemy_url
from cms_api.services.discovery.graph import cache as graph_cache
from cms_api.services.publishing.topics import refresh_topics

LOCAL_SERVER = "postgresql://postgres@127.0.0.1:5432/postgres"
ROOTS, CHILDREN = 12, 4  # a two-level topic tree of 60 topics; articles sit on the 48 leaves
LINKS_PER_ARTICLE = 5
# Title words, split in SQL; a bench needs no more than a small vocabulary.
WORDS = (
    "headache migraine pain ear nose throat skin rash swelling fever cough sleep stress muscle "
    "joint nerve blood pressure heart liver kidney lung allergy sinus tooth jaw neck back eye "
    "vision dizziness nausea fatigue injection filler infection diet hydration caffeine "
    "medicine dose symptom trigger pattern relief rest exercise posture hormone"
)

CORPUS_SQL = [
    # Topics: ROOTS areas, each with CHILDREN subtopics.
    """
    INSERT INTO topics (id, slug, name, description, parent_id, position, version)
    SELECT md5('area-' || r)::uuid, 'area-' || r, 'Area ' || r, 'A synthetic area.', NULL, r, 1
    FROM generate_series(0, :roots - 1) r
    """,
    """
    INSERT INTO topics (id, slug, name, description, parent_id, position, version)
    SELECT md5('area-' || r || '-' || c)::uuid, 'area-' || r || '-topic-' || c,
           'Topic ' || c || ' of area ' || r, 'A synthetic topic.', md5('area-' || r)::uuid, c, 1
    FROM generate_series(0, :roots - 1) r, generate_series(0, :children - 1) c
    """,
    # Articles: one in a hundred is a draft (never published), the rest are published.
    """
    INSERT INTO articles (id, slug, title, summary, status, call_to_actions,
                          review_interval_months, published_at, content_updated_at,
                          version, revision_number, live_revision)
    SELECT md5('article-' || i)::uuid, 'article-' || lpad(i::text, 6, '0'),
           initcap(w[1 + (i * 7) % nw] || ' and ' || w[1 + (i * 13 + 5) % nw] || ' '
                   || w[1 + (i * 29 + 11) % nw]) || ' ' || i,
           'How ' || w[1 + (i * 7) % nw] || ' relates to ' || w[1 + (i * 13 + 5) % nw]
             || ', what helps with ' || w[1 + (i * 29 + 11) % nw] || ' and when to see a '
             || 'doctor about ' || w[1 + (i * 31 + 3) % nw] || '.',
           CASE WHEN i % 100 = 99 THEN 'draft' ELSE 'published' END, '[]'::jsonb, 12,
           CASE WHEN i % 100 = 99 THEN NULL
                ELSE timestamptz '2026-01-01 09:00Z' + i * interval '1 minute' END,
           CASE WHEN i % 100 = 99 THEN NULL
                ELSE timestamptz '2026-01-01 09:00Z' + i * interval '1 minute' END,
           1, 1, CASE WHEN i % 100 = 99 THEN NULL ELSE 1 END
    FROM generate_series(0, :n - 1) i, (SELECT string_to_array(:words, ' ') w, :nw nw) v
    """,
    # Three distinct leaf topics per article.
    """
    INSERT INTO article_topics (article_id, topic_id, position)
    SELECT md5('article-' || i)::uuid,
           md5('area-' || ((i * 31 + k * 7) % (:roots * :children)) / :children || '-'
               || ((i * 31 + k * 7) % (:roots * :children)) % :children)::uuid, k
    FROM generate_series(0, :n - 1) i, generate_series(0, 2) k
    """,
    # Five links per article, to five distinct others a pseudo-random stride apart.
    """
    INSERT INTO related_links (id, source_id, target_id, relation, weight, anchor_text,
                               position, version)
    SELECT md5('link-' || i || '-' || k)::uuid, md5('article-' || i)::uuid,
           md5('article-' || (i + k * s) % :n)::uuid,
           (ARRAY['see_also', 'similar_symptom', 'complication_of', 'treatment_for',
                  'differential'])[1 + (i + k) % 5],
           round((0.1 + ((i * 7 + k * 3) % 10) / 11.0)::numeric, 2)::float8,
           'Read about ' || ((i + k * s) % :n), k, 1
    FROM generate_series(0, :n - 1) i, generate_series(1, :links) k,
         LATERAL (SELECT 1 + (i::bigint * 2654435761 % 1000003) % greatest(:n / 6, 1) s) st
    """,
    # Published documents of the published articles, shaped as publishing renders them.
    """
    INSERT INTO published_documents (kind, entity_id, slug, body, summary, etag, tags,
                                     published_at, updated_at, title, sort_title, topic_slugs,
                                     reviewed_on)
    SELECT 'article', a.id, a.slug, d.body, d.summary, '"' || md5(d.body) || '"', t.tags,
           a.published_at, a.published_at, a.title, lower(a.title), t.slugs,
           a.published_at::date
    FROM articles a
    CROSS JOIN LATERAL (
        SELECT json_agg(json_build_object('slug', tp.slug, 'name', tp.name)
                        ORDER BY at.position) topics,
               array_agg(tp.slug ORDER BY at.position) slugs,
               array_agg(DISTINCT 'topic:' || tp.slug) || array_agg(DISTINCT 'topic:' || pa.slug)
                 tags
        FROM article_topics at JOIN topics tp ON tp.id = at.topic_id
        JOIN topics pa ON pa.id = tp.parent_id
        WHERE at.article_id = a.id
    ) t
    CROSS JOIN LATERAL (
        SELECT json_build_object(
            'id', a.id, 'slug', a.slug, 'url', '/v1/articles/' || a.slug, 'title', a.title,
            'summary', a.summary, 'topics', t.topics, 'authors', '[]'::json,
            'published_at', a.published_at, 'updated_at', a.published_at,
            'last_reviewed_at', NULL, 'reading_time_minutes', 7)::text summary
    ) s
    CROSS JOIN LATERAL (
        SELECT s.summary,
               left(s.summary, -1) || ',"padding":"'
                 || (SELECT string_agg(md5(a.slug || g), '') FROM generate_series(1, 128) g)
                 || '"}' body
    ) d
    WHERE a.live_revision IS NOT NULL
    """,
]


def log(message: str) -> None:
    print(f"[graph bench {time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def build_corpus(app: Flask, size: int) -> None:
    """Fill the (migrated, empty) database; seconds per step go to the log."""
    params: dict[str, Any] = {
        "n": size,
        "roots": ROOTS,
        "children": CHILDREN,
        "links": LINKS_PER_ARTICLE,
        "words": WORDS,
        "nw": len(WORDS.split()),
    }
    with app.app_context():
        started = time.perf_counter()
        for statement in CORPUS_SQL:
            db.session.execute(text(statement), params)
        log(f"{size:,} articles inserted in {time.perf_counter() - started:.1f} s")
        started = time.perf_counter()
        refresh_topics()  # the hubs: each topic page embeds its newest articles
        db.session.commit()
        log(f"topic pages rendered in {time.perf_counter() - started:.1f} s")
        # This machine's local server runs without autovacuum: give the planner statistics.
        with db.engine.connect() as connection:
            connection.execution_options(isolation_level="AUTOCOMMIT").exec_driver_sql(
                "VACUUM ANALYZE"
            )


def timed(call: Callable[[], Any], repeat: int) -> tuple[float, float, Any]:
    """The median wall-clock and CPU seconds (this process) of `repeat` runs, and the last
    result. CPU time leaves out the database's share but not other processes' noise."""
    wall, cpu, result = [], [], None
    for _ in range(repeat):
        started, started_cpu = time.perf_counter(), time.process_time()
        result = call()
        wall.append(time.perf_counter() - started)
        cpu.append(time.process_time() - started_cpu)
    return statistics.median(wall), statistics.median(cpu), result


REQUESTS = (
    ("json", "/v1/graph"),
    ("graphml", "/v1/graph?format=graphml"),
    ("gexf", "/v1/graph?format=gexf"),
    ("csv", "/v1/graph?format=csv"),
    ("json, one topic", "/v1/graph?topic=area-3"),
    ("json, root depth 2", "/v1/graph?root=article-000042&depth=2"),
    ("report", "/v1/graph/report"),
)


def measure(app: Flask, size: int, repeat: int) -> list[dict[str, Any]]:
    """Each request cold (nothing loaded or rendered in this process, as after a restart
    or a content change), warm (this version rendered), and as a 304 revalidation."""
    client = app.test_client()
    rows = []
    for label, url in REQUESTS:

        def cold(url: str = url) -> Any:
            graph_cache.forget()
            return client.get(url)

        cold_s, cold_cpu, response = timed(cold, repeat)
        assert response.status_code == 200, (url, response.status_code, response.data[:300])
        warm_s, warm_cpu, _ = timed(lambda url=url: client.get(url), repeat)
        etag = response.headers["ETag"]
        revalidate_s, _, not_modified = timed(
            lambda url=url, etag=etag: client.get(url, headers={"If-None-Match": etag}), repeat
        )
        assert not_modified.status_code == 304
        row = {
            "articles": size,
            "request": label,
            "cold_s": cold_s,
            "cold_cpu_s": cold_cpu,
            "warm_s": warm_s,
            "warm_cpu_s": warm_cpu,
            "304_s": revalidate_s,
            "mb": len(response.data) / 1e6,
        }
        rows.append(row)
        log(
            f"{size:>7,} {label:<19} cold {cold_s:5.2f} s (cpu {cold_cpu:4.2f})  "
            f"warm {warm_s:5.2f} s (cpu {warm_cpu:4.2f})  "
            f"304 {revalidate_s * 1000:4.0f} ms  {row['mb']:6.1f} MB"
        )
    return rows


def compare_networkx_writers(app: Flask) -> None:
    """How long networkx's own writers take for the same graph (why we stream our own)."""
    import io

    import networkx as nx

    client = app.test_client()
    started = time.perf_counter()
    document = client.get("/v1/graph").get_json()
    graph = nx.node_link_graph(document, edges="edges", name="slug")
    for node in graph.nodes.values():
        node["topics"] = " ".join(node["topics"])
        if node["click_depth"] is None:
            del node["click_depth"]
    for edge in graph.edges.values():
        if edge["anchor_text"] is None:
            del edge["anchor_text"]
    log(f"networkx graph built in {time.perf_counter() - started:.2f} s")
    for name, write in (("graphml", nx.write_graphml), ("gexf", nx.write_gexf)):
        started = time.perf_counter()
        write(graph, io.BytesIO())
        log(f"networkx.write_{name}: {time.perf_counter() - started:.2f} s")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", default=LOCAL_SERVER, help="the PostgreSQL server")
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000])
    parser.add_argument("--repeat", type=int, default=3, help="runs per request (median)")
    parser.add_argument("--keep", action="store_true", help="keep the databases")
    parser.add_argument("--revision", default="head", help="migrate to this revision")
    parser.add_argument(
        "--reuse", action="store_true", help="measure a database kept by --keep, unchanged"
    )
    parser.add_argument(
        "--networkx", action="store_true", help="also time networkx's GraphML/GEXF writers"
    )
    args = parser.parse_args(argv)
    server = str(sqlalchemy_url(args.database_url).set(database="postgres").render_as_string(False))
    log(f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs")
    results = []
    for size in args.sizes:
        name = f"cms_graph_bench_{size}"
        if not args.reuse:
            drop_database(server, name)
        url = ensure_database(server, name)
        app = create_app(
            {"CMS_SETTINGS": Settings(database_url=url), "SQLALCHEMY_DATABASE_URI": url}
        )
        try:
            if not args.reuse:
                with app.app_context():
                    upgrade(revision=args.revision)
                build_corpus(app, size)
            results += measure(app, size, args.repeat)
            if args.networkx:
                compare_networkx_writers(app)
        finally:
            with app.app_context():
                db.engine.dispose()
                for engine in db.engines.values():
                    engine.dispose()
            if not args.keep:
                drop_database(server, name)
    print(f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs at the end")
    print("| articles | request | cold s (cpu) | warm s (cpu) | 304 ms | MB |")
    print("| ---: | --- | ---: | ---: | ---: | ---: |")
    for row in results:
        print(
            f"| {row['articles']:,} | {row['request']} | {row['cold_s']:.2f} "
            f"({row['cold_cpu_s']:.2f}) | {row['warm_s']:.2f} "
            f"({row['warm_cpu_s']:.2f}) | {row['304_s'] * 1000:.0f} | {row['mb']:.1f} |"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
