"""Rendering is pure: rendering every kind of document again changes no row, ETag or event."""

from __future__ import annotations

from typing import Any

from sqlalchemy import event, text

from cms_api.database import db
from cms_api.services.publishing.articles import refresh_articles
from cms_api.services.publishing.cascade import rerender_everything
from cms_api.services.publishing.people import refresh_people
from cms_api.services.publishing.topics import refresh_topics

# Every stored document, every content row a document is rendered from, what the fan-out
# writes (feed, search index), and revisions: none of it may move when nothing changed.
TABLES = (
    "published_documents",
    "articles",
    "faqs",
    "people",
    "credentials",
    "topics",
    "related_links",
    "revisions",
    "medical_reviews",
    "change_events",
    "search_entries",
    "search_words",
    "webhook_deliveries",
)


def _state(app) -> dict[str, Any]:
    with app.app_context():
        state: dict[str, Any] = {}
        for table in TABLES:
            rows = db.session.execute(
                text(f"SELECT row_to_json(t)::text AS row FROM {table} AS t ORDER BY 1")
            ).scalars()
            state[table] = sorted(rows)
        return state


def _served(client) -> dict[str, Any]:
    """What readers get: every document's ETag, and the sitemaps built from them."""
    served = {}
    for path in ("/sitemap.xml", "/v1/sitemap.xml", "/v1/faqs?limit=100", "/v1/changes"):
        response = client.get(path)
        if response.status_code == 200:
            served[path] = (response.headers.get("ETag"), response.get_data(as_text=True))
    return served


def _render_every_kind(app, runner) -> None:
    result = runner.invoke(args=["render"])  # articles, their FAQs, people, topics, topic FAQs
    assert result.exit_code == 0, result.output
    with app.app_context():
        ids = db.session.execute(text("SELECT id FROM articles")).scalars().all()
        refresh_articles(ids)  # unpublished ones too: their documents stay withdrawn
        refresh_people(db.session.execute(text("SELECT id FROM people")).scalars().all())
        refresh_topics()
        rerender_everything()
        db.session.commit()


def test_rendering_every_document_twice_changes_nothing(app, runner, client):
    # A FAQ published before publishing dated FAQs: rendering used to date it (and so bump
    # its `updated_at`), making every FAQ document stale after a bulk publish.
    with app.app_context():
        undated = db.session.execute(
            text(
                "UPDATE faqs SET published_at = NULL WHERE id = (SELECT id FROM faqs"
                " WHERE article_id IS NOT NULL AND status = 'published' ORDER BY id LIMIT 1)"
                " RETURNING id"
            )
        ).scalar_one()
        db.session.commit()
    before, served = _state(app), _served(client)
    assert before["published_documents"], "there is something to render"
    assert any(str(undated) in row for row in before["published_documents"])

    _render_every_kind(app, runner)
    once = _state(app)
    _render_every_kind(app, runner)

    assert once == before
    assert _state(app) == before
    assert _served(client) == served


def test_rendering_every_article_reads_faqs_in_a_few_statements_not_one_per_faq(app):
    statements: list[str] = []

    def count(conn, cursor, statement, parameters, context, executemany):
        statements.append(statement)

    with app.app_context():
        ids = db.session.execute(text("SELECT id FROM articles")).scalars().all()
        faqs = db.session.execute(text("SELECT count(*) FROM faqs")).scalar_one()
        event.listen(db.engine, "before_cursor_execute", count)
        try:
            refresh_articles(ids)
            refresh_topics()
        finally:
            event.remove(db.engine, "before_cursor_execute", count)
            db.session.rollback()

    reading_faqs = [sql for sql in statements if "FROM faqs" in sql]
    assert faqs > 10
    # Per batch: the FAQ rows, the withdrawals (articles, topics), the topic FAQs.
    assert len(reading_faqs) <= 8, reading_faqs
