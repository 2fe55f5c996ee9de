"""Publishing many articles at once stores exactly what publishing them one by one does."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import text

from cms_api.database import db
from cms_api.services.publishing import articles as article_documents
from cms_api.services.publishing import search_index
from tests.support.bench_corpus import corpus_published

WHEN = datetime(2026, 6, 2, 12, 0, tzinfo=UTC)
ARTICLES = 60


def _state(after: int) -> dict[str, Any]:
    """What readers and followers get: documents with their ETags and compressed forms,
    search entries, the lexicon, instant answers' passages with their embeddings, and the
    change feed (each document's first event, and how many it has); and the revisions
    publishing recorded."""
    documents = db.session.execute(
        text(
            "SELECT kind, entity_id, locale, slug, body, body_gzip, body_br, summary, etag,"
            " tags, published_at, updated_at, title, sort_title, topic_slugs, reviewed_on"
            " FROM published_documents"
            " ORDER BY kind, entity_id"
        )
    ).all()
    search = db.session.execute(
        text(
            "SELECT kind, entity_id, etag, slug, title, passages, passage_vectors::text[],"
            " topics, published_at, vector::text, title_vector::text FROM search_entries"
            " ORDER BY kind, entity_id"
        )
    ).all()
    words = db.session.execute(text("SELECT word, lexeme FROM search_words ORDER BY word")).all()
    passages = db.session.execute(
        text(
            "SELECT kind, entity_id, position, etag, page_kind, page_slug, anchor, title,"
            " heading, html, text, search_text, vector::text, reviewers::text, reviewed_on,"
            " review_due, embedding FROM answer_passages ORDER BY kind, entity_id, position"
        )
    ).all()
    recorded = db.session.execute(
        text(
            "SELECT article_id, number, snapshot::text, reason FROM revisions"
            " ORDER BY article_id, number"
        )
    ).all()
    events = db.session.execute(
        text(
            "SELECT kind, entity_id, locale, slug, action FROM change_events WHERE id > :after"
            " ORDER BY id"
        ),
        {"after": after},
    ).all()
    per_entity: dict[tuple[str, uuid.UUID], list[tuple]] = {}
    for event in events:
        per_entity.setdefault((event.kind, event.entity_id), []).append(tuple(event))
    feed = {key: items[0] for key, items in per_entity.items()}
    counts = {key: len(items) for key, items in per_entity.items()}
    # What lookups and hub pages show as totals, kept by triggers (added up once in bulk).
    topic_counts = db.session.execute(
        text("SELECT topic, locale, kind, entries FROM search_topic_counts ORDER BY 1, 2, 3")
    ).all()
    hub_counts = db.session.execute(
        text("SELECT tag, locale, documents FROM listed_article_counts ORDER BY 1, 2")
    ).all()
    return {
        "documents": documents,
        "topic_counts": topic_counts,
        "hub_counts": hub_counts,
        "search": search,
        "words": words,
        "passages": passages,
        "revisions": recorded,
        "feed": feed,
        "counts": counts,
    }


def _publish_corpus(publish) -> dict[str, Any]:
    """Load the bench corpus as drafts, publish it with `publish`, and read what it stored,
    leaving the database as it was."""
    seen = db.session.scalar(text("SELECT coalesce(max(id), 0) FROM change_events"))
    with corpus_published(
        publish,
        articles=ARTICLES,
        people=12,
        topics=15,
        section_words=40,
        publish_chunk=ARTICLES,
    ):
        return _state(seen)


# Publishes a corpus of 60 articles twice, one by one and in bulk: seconds of work.
@pytest.mark.slow
def test_bulk_publishing_stores_what_one_by_one_publishing_does(
    app, monkeypatch: pytest.MonkeyPatch
) -> None:
    with app.app_context():

        def one_by_one(ids: list[uuid.UUID]) -> None:
            for article_id in ids:
                article_documents.publish_articles([article_id], at=WHEN)

        expected = _publish_corpus(one_by_one)
        # Small batches, so that the bulk path renders across several of them, and indexes
        # in many pieces: the later ones' documents add no word to the lexicon.
        monkeypatch.setattr(article_documents, "RENDER_BATCH", 16)
        monkeypatch.setattr(search_index, "INDEX_PIECE", 10)
        parsed: list[tuple[int, int, int]] = []  # (documents, parsed whole, chunks parsed)
        to_parse = search_index._Lexicon.to_parse

        def counted(self: Any, connection: Any, texts: list[Any]) -> Any:
            wanted = to_parse(self, connection, texts)
            parsed.append((len(texts), len(wanted.entries), len(wanted.chunks)))
            return wanted

        monkeypatch.setattr(search_index._Lexicon, "to_parse", counted)
        bulk = _publish_corpus(lambda ids: article_documents.publish_articles(ids, at=WHEN))

    assert len(expected["documents"]) > ARTICLES * 5  # articles, FAQs, people, topics
    assert {row.kind for row in expected["documents"]} == {
        "article",
        "faq",
        "person",
        "topic",
        "red_flag",  # the seeded red flags, untouched by either way of publishing
    }
    assert len(expected["search"]) >= ARTICLES * 5  # and the seeds'
    assert len(expected["passages"]) >= ARTICLES * 10  # six sections and four FAQs each
    assert len(expected["topic_counts"]) > 15 and len(expected["hub_counts"]) > 15
    assert all(row.embedding is not None for row in expected["passages"])
    parts = ("documents", "search", "words", "passages", "revisions", "feed")
    for part in (*parts, "topic_counts", "hub_counts"):
        assert bulk[part] == expected[part], part
    # Every document's words were told in Python, and only chunks of them parsed: the
    # first pieces' words were all new, few after them are.
    assert sum(whole for _, whole, _ in parsed) == 0
    assert parsed[0][2] > 0
    assert sum(chunks for *_, chunks in parsed[len(parsed) // 2 :]) < len(parsed) // 2
    # One by one, a page is updated as each article it shows goes live (and an article
    # as each it links to does); in bulk, each document is announced once.
    assert {key: n for key, n in bulk["counts"].items() if n != 1} == {}
