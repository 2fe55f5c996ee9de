"""Many articles scheduled for one minute are checked in batches and published in one call."""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest
from sqlalchemy import event, select, update

from cms_api.database import db, one_of
from cms_api.domain.clock import utcnow
from cms_api.models import Article, AuditEvent
from cms_api.services.editorial import workflow
from tests.support.bench_corpus import corpus_published

ARTICLES = 30


def _launch(ids: list[uuid.UUID], outcome: dict) -> None:
    """Schedule these drafts (each with an approval of its revision 0) for a minute ago,
    but one edited since and one with no disclaimer left; then run the scheduled job,
    counting the statements that read sections."""
    edited, incomplete, *_ = ids
    db.session.execute(
        update(Article)
        .where(one_of(Article.id, ids))
        .values(
            status="approved",
            revision_number=0,
            publish_at=utcnow() - timedelta(minutes=1),
            publish_at_revision=0,
        )
    )
    db.session.execute(update(Article).where(Article.id == edited).values(revision_number=1))
    db.session.execute(update(Article).where(Article.id == incomplete).values(disclaimer=" "))
    reads: list[str] = []

    def count(conn, cursor, statement: str, *args) -> None:
        if "FROM sections" in statement:
            reads.append(statement)

    event.listen(db.engine, "before_cursor_execute", count)
    try:
        outcome["published"] = workflow.publish_due()
    finally:
        event.remove(db.engine, "before_cursor_execute", count)
    outcome["sections_read"] = len(reads)
    outcome["ids"] = ids


def test_a_launch_of_many_scheduled_articles_publishes_the_ready_ones_in_batches(
    app, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(workflow, "DUE_BATCH", 4)
    outcome: dict = {}
    with (
        app.app_context(),
        corpus_published(
            lambda ids: _launch(ids, outcome),
            articles=ARTICLES,
            people=6,
            topics=8,
            section_words=20,
            publish_chunk=ARTICLES,
            older_links=False,
        ),
    ):
        ids = outcome["ids"]
        statuses = dict(
            db.session.execute(
                select(Article.id, Article.status).where(one_of(Article.id, ids))
            ).all()
        )
        logged = db.session.scalars(
            select(AuditEvent.after).where(
                AuditEvent.action == "article.publish",
                one_of(AuditEvent.target_id, [str(article_id) for article_id in ids]),
            )
        ).all()

    edited, incomplete, *_ = outcome["ids"]
    published = outcome["published"]
    assert len(published) == ARTICLES - 2
    assert [item.slug for item in published] == sorted(item.slug for item in published)
    assert {item.id for item in published} == set(statuses) - {edited, incomplete}
    assert {statuses[item.id] for item in published} == {"published"}
    assert statuses[edited] == statuses[incomplete] == "approved"
    assert all(item.live_revision == 1 for item in published)
    assert len(logged) == ARTICLES - 2
    assert all(after["scheduled"] is True for after in logged)
    # The working copies were read a batch at a time (then by publishing, a render batch
    # at a time), not one article at a time.
    batches = -(-ARTICLES // workflow.DUE_BATCH)
    assert outcome["sections_read"] <= batches + 4 < ARTICLES
