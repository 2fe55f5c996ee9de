"""Migration 0027: topic and hub counts are emptied with the rows they count."""

from __future__ import annotations

from sqlalchemy import text

from cms_api.database import db
from cms_api.services.publishing.cascade import rerender_everything

# Each counts table, and the same totals counted afresh from the rows it counts.
_COUNTS = {
    "listed_article_counts": (
        "SELECT tag, locale, documents FROM listed_article_counts WHERE documents > 0",
        "SELECT tag, locale, count(*) FROM listed_articles GROUP BY tag, locale",
    ),
    "search_topic_counts": (
        "SELECT topic, locale, kind, entries FROM search_topic_counts WHERE entries > 0",
        "SELECT topic, locale, kind, count(*) FROM search_entry_topics "
        "GROUP BY topic, locale, kind",
    ),
}


def _rows(sql: str) -> set[tuple]:
    return {tuple(row) for row in db.session.execute(text(sql))}


def test_emptying_delivery_and_rendering_again_counts_each_document_once(app) -> None:
    with app.app_context():
        for kept, counted in _COUNTS.values():
            assert _rows(kept) and _rows(kept) == _rows(counted)  # the seeded site's totals

        # How an operator empties delivery (the foreign keys cascade to what follows it).
        db.session.execute(text("TRUNCATE published_documents CASCADE"))
        for table in _COUNTS:
            assert not _rows(f"SELECT * FROM {table}"), f"{table} kept totals of no rows"

        rerender_everything()
        db.session.flush()
        for kept, counted in _COUNTS.values():
            assert _rows(kept) and _rows(kept) == _rows(counted)


def test_emptying_the_search_index_empties_its_counts_alone(app) -> None:
    with app.app_context():
        listed_before = _rows(_COUNTS["listed_article_counts"][0])

        db.session.execute(text("TRUNCATE search_entries CASCADE"))

        assert not _rows("SELECT * FROM search_topic_counts")
        kept, counted = _COUNTS["listed_article_counts"]
        assert _rows(kept) == _rows(counted) == listed_before
        assert listed_before
