"""Counts deferred by a bulk publish end as the triggers would have kept them, row by row."""

from __future__ import annotations

import pytest
from sqlalchemy import exc, text

from cms_api.database import db
from cms_api.services.publishing import counts

TOPIC_COUNTS = "SELECT topic, locale, kind, entries FROM search_topic_counts"
TOPICS_RECOUNTED = """
SELECT topic, locale, kind, count(*) FROM search_entry_topics GROUP BY topic, locale, kind
"""
HUB_COUNTS = "SELECT tag, locale, documents FROM listed_article_counts"
HUBS_RECOUNTED = "SELECT tag, locale, count(*) FROM listed_articles GROUP BY tag, locale"


def _rows(sql: str) -> set[tuple]:
    return set(db.session.execute(text(sql)).all())


def _positive(sql: str) -> set[tuple]:
    return {row for row in _rows(sql) if row[-1] > 0}


def _in_step() -> None:
    assert _positive(TOPIC_COUNTS) == _rows(TOPICS_RECOUNTED)
    assert _positive(HUB_COUNTS) == _rows(HUBS_RECOUNTED)


def _entry_with_topics() -> dict:
    row = db.session.execute(
        text(
            "SELECT kind, entity_id FROM search_entries WHERE kind = 'article'"
            " AND cardinality(topics) >= 2 ORDER BY entity_id LIMIT 1"
        )
    ).one()
    return {"kind": row.kind, "entity_id": row.entity_id}


def _refile(entry: dict, topic: str) -> None:
    """File the entry under this one topic instead of its own."""
    db.session.execute(
        text(
            "UPDATE search_entries SET topics = ARRAY[:topic]"
            " WHERE kind = :kind AND entity_id = :entity_id"
        ),
        {**entry, "topic": topic},
    )


# The entry `_change_what_is_counted` drops (given the entry it refiles).
DROPPED = """
SELECT kind, entity_id FROM search_entries WHERE kind = 'article'
    AND entity_id <> :entity_id AND cardinality(topics) >= 1
ORDER BY entity_id LIMIT 1
"""


def _change_what_is_counted(entry: dict) -> None:
    """Refile one entry under a new topic and drop another entry (removals only for its
    topics); retag one article document (a hub tag gained, others lost)."""
    _refile(entry, "only-this")
    db.session.execute(
        text(f"DELETE FROM search_entries WHERE (kind, entity_id) = ({DROPPED})"), entry
    )
    db.session.execute(
        text(
            "UPDATE published_documents SET tags = ARRAY['topic:only-this', 'author:someone']"
            " WHERE kind = 'article' AND entity_id = :entity_id"
        ),
        entry,
    )


def test_deferred_counts_wait_for_the_end_and_then_match_a_recount(app) -> None:
    with app.app_context():
        _in_step()
        topic_counts, hub_counts = _rows(TOPIC_COUNTS), _rows(HUB_COUNTS)
        entry = _entry_with_topics()

        with counts.added_up_at_end():
            _change_what_is_counted(entry)
            # The rows counted changed; their counts wait.
            assert _rows(TOPIC_COUNTS) == topic_counts
            assert _rows(HUB_COUNTS) == hub_counts
            assert _positive(TOPIC_COUNTS) != _rows(TOPICS_RECOUNTED)

        _in_step()
        assert ("only-this", "en", "article", 1) in _rows(TOPIC_COUNTS)
        assert ("topic:only-this", "en", 1) in _rows(HUB_COUNTS)
        db.session.rollback()


def test_deferred_counts_are_the_counts_the_triggers_keep_row_by_row(app) -> None:
    """Deferred or not, the same changes leave every count, zeros included, the same;
    a topic that loses entries but has no count row (as after its counts were lost) gets
    none, rather than a negative one."""
    with app.app_context():
        entry = _entry_with_topics()
        dropped = db.session.execute(
            text(f"SELECT topics[1] FROM search_entries WHERE (kind, entity_id) = ({DROPPED})"),
            entry,
        ).scalar_one()
        db.session.execute(
            text("DELETE FROM search_topic_counts WHERE topic = :topic"), {"topic": dropped}
        )
        connection = db.session.connection()
        undo = connection.begin_nested()
        _change_what_is_counted(entry)
        kept = _rows(TOPIC_COUNTS), _rows(HUB_COUNTS)
        undo.rollback()

        with counts.added_up_at_end():
            _change_what_is_counted(entry)

        assert (_rows(TOPIC_COUNTS), _rows(HUB_COUNTS)) == kept
        assert dropped not in {topic for topic, *_ in kept[0]}
        db.session.rollback()


def test_adding_up_inside_the_block_brings_the_counts_in_step_for_readers(app) -> None:
    with app.app_context():
        entry = _entry_with_topics()
        with counts.added_up_at_end():
            _change_what_is_counted(entry)
            counts.add_up()
            _in_step()
            # What comes after is deferred again, and added up at the end.
            _refile(entry, "then-this")
            assert ("then-this", "en", "article", 1) not in _rows(TOPIC_COUNTS)
        _in_step()
        assert ("then-this", "en", "article", 1) in _rows(TOPIC_COUNTS)
        assert ("only-this", "en", "article", 0) in _rows(TOPIC_COUNTS)
        db.session.rollback()


def test_a_block_that_fails_leaves_the_counts_kept_for_a_caller_that_goes_on(app) -> None:
    with app.app_context():
        entry = _entry_with_topics()

        def failing_publish() -> None:
            with counts.added_up_at_end():
                _change_what_is_counted(entry)
                raise RuntimeError("the publish failed")

        with pytest.raises(RuntimeError):
            failing_publish()
        _in_step()
        # No longer deferred: what follows is counted as it happens.
        _refile(entry, "then-this")
        _in_step()
        db.session.rollback()


def test_a_block_whose_transaction_failed_raises_that_failure(app) -> None:
    with app.app_context():
        connection = db.session.connection()
        undo = connection.begin_nested()

        def failing_statement() -> None:
            with counts.added_up_at_end():
                _change_what_is_counted(_entry_with_topics())
                connection.exec_driver_sql("SELECT 1 / 0")

        with pytest.raises(exc.DataError, match="division by zero"):
            failing_statement()
        undo.rollback()
        db.session.rollback()


def test_the_setting_without_its_tables_fails_the_statement_rather_than_lose_a_count(
    app,
) -> None:
    with app.app_context():
        entry = _entry_with_topics()
        connection = db.session.connection()
        undo = connection.begin_nested()
        connection.exec_driver_sql("SELECT set_config('cms.deferred_counts', 'on', true)")
        with pytest.raises(exc.ProgrammingError, match="cms_deferred_topic_counts"):
            _change_what_is_counted(entry)
        undo.rollback()
        db.session.rollback()
