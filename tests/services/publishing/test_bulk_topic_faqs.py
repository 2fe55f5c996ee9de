"""Topic pages render and withdraw more topic FAQs than one statement binds parameters for."""

from __future__ import annotations

import pytest
from sqlalchemy import text

from cms_api.database import db
from cms_api.services.publishing.topics import refresh_topics

pytestmark = pytest.mark.slow

# PostgreSQL's protocol carries at most 65,535 parameters a statement.
MOST_PARAMETERS = 65_535
# Spread over the seeded topics, as an import of a large publisher's topic FAQs would be.
ADDED = MOST_PARAMETERS + 1

_ADD_TOPIC_FAQS = """
INSERT INTO faqs (
    id, topic_id, question, answer, position, status, version, live_question, live_answer
)
SELECT
    gen_random_uuid(), topic.id, 'Bulk question ' || n, 'Answer ' || n || '.', n, 'published', 1,
    'Bulk question ' || n, 'Answer ' || n || '.'
FROM generate_series(1, :added) AS n
JOIN (
    SELECT id, row_number() OVER (ORDER BY slug) - 1 AS i, count(*) OVER () AS topics
    FROM topics WHERE deleted_at IS NULL
) AS topic ON topic.i = n % topic.topics
"""
_PUBLISHED_BULK_FAQS = """
SELECT count(*) FROM published_documents AS d JOIN faqs ON faqs.id = d.entity_id
WHERE d.kind = 'faq' AND faqs.question LIKE 'Bulk question %'
"""


def _published_bulk_faqs() -> int:
    return db.session.execute(text(_PUBLISHED_BULK_FAQS)).scalar_one()


def test_topic_faqs_past_the_parameter_limit_are_published_and_withdrawn(app) -> None:
    """Every topic FAQ gets its document, and one no longer approved loses it, when the
    refresh keeps more documents than a statement could name one parameter each."""
    with app.app_context():
        db.session.execute(text(_ADD_TOPIC_FAQS), {"added": ADDED})

        refresh_topics()
        assert _published_bulk_faqs() == ADDED

        # Its approved text withdrawn: the refresh keeps the others' 65,535 documents.
        db.session.execute(
            text(
                "UPDATE faqs SET live_question = NULL, live_answer = NULL"
                " WHERE question = 'Bulk question 1'"
            )
        )
        refresh_topics()
        assert _published_bulk_faqs() == ADDED - 1
