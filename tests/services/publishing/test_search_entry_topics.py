"""search_entry_topics follows search_entries (one row per topic slug) and
search_topic_counts follows search_entry_topics (one count per topic), kept by triggers."""

from __future__ import annotations

from sqlalchemy import text

from cms_api.database import db
from cms_api.services.publishing import search_index

FILED = "SELECT topic, locale, kind, published_at, entity_id FROM search_entry_topics"
EXPECTED = """
SELECT DISTINCT topic, entry.locale, entry.kind, entry.published_at, entry.entity_id
FROM search_entries AS entry CROSS JOIN LATERAL unnest(entry.topics) AS topic
"""

COUNTED = "SELECT topic, locale, kind, entries FROM search_topic_counts WHERE entries > 0"
RECOUNTED = """
SELECT topic, locale, kind, count(*) FROM search_entry_topics GROUP BY topic, locale, kind
"""


def _rows(sql: str) -> set[tuple]:
    return set(db.session.execute(text(sql)).all())


def _in_step() -> None:
    assert _rows(FILED) == _rows(EXPECTED)
    assert _rows(COUNTED) == _rows(RECOUNTED)


def test_the_seeded_entries_are_filed_under_each_of_their_topics(app) -> None:
    with app.app_context():
        filed = _rows(FILED)
        _in_step()
        assert {"headache", "cosmetic-injectables"} <= {topic for topic, *_ in filed}


def test_changing_topics_deleting_and_reindexing_keep_the_rows_in_step(app) -> None:
    with app.app_context():
        entry = db.session.execute(
            text(
                "SELECT kind, entity_id FROM search_entries WHERE cardinality(topics) >= 2 LIMIT 1"
            )
        ).one()
        key = {"kind": entry.kind, "entity_id": entry.entity_id}
        mine = FILED + " WHERE kind = :kind AND entity_id = :entity_id"

        db.session.execute(
            text(
                "UPDATE search_entries SET topics = ARRAY['only-this', 'only-this'] "
                "WHERE kind = :kind AND entity_id = :entity_id"
            ),
            key,
        )
        assert [row.topic for row in db.session.execute(text(mine), key)] == ["only-this"]
        _in_step()

        db.session.execute(
            text("DELETE FROM search_entries WHERE kind = :kind AND entity_id = :entity_id"), key
        )
        assert db.session.execute(text(mine), key).all() == []
        _in_step()  # the cascade's deletes are counted too

        # The indexer's upsert (inserts and updates in one statement) files them again.
        db.session.execute(text("UPDATE search_entries SET topics = '{}'"))
        assert _rows(FILED) == set() == _rows(COUNTED)
        search_index.reindex_all()
        assert _rows(FILED) != set()
        _in_step()
        db.session.rollback()
