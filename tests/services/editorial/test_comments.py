"""Review comments under concurrency: a reply and the deletion of its thread, at once."""

from __future__ import annotations

import threading
import time
from typing import Any

from flask import Flask
from sqlalchemy import select, text

from cms_api.database import db
from cms_api.domain.errors import DomainError
from cms_api.models import Article, ReviewComment, User
from cms_api.services.accounts import users
from cms_api.services.accounts.audit import Actor
from cms_api.services.editorial import comments
from cms_api.services.editorial.articles import get_article
from tests.support.api import SEEDED_ARTICLE


def _someone_waits_for_a_lock(deadline: float = 10.0) -> bool:
    """Whether another session of this database is waiting for a row lock."""
    query = text(
        "SELECT count(*) FROM pg_stat_activity "
        "WHERE datname = current_database() AND wait_event_type = 'Lock'"
    )
    end = time.monotonic() + deadline
    while time.monotonic() < end:
        # A transaction reads the activity view once and keeps that snapshot unless cleared.
        db.session.execute(text("SELECT pg_stat_clear_snapshot()"))
        if db.session.scalar(query):
            return True
        time.sleep(0.05)
    return False


def test_a_reply_racing_the_deletion_of_its_thread_is_refused_not_a_failure(
    committed_app: Flask,
):
    app = committed_app
    with app.app_context():
        author = users.create_user(email="author@example.org", name="Author", role="editor")
        replier = users.create_user(email="replier@example.org", name="Replier", role="admin")
        article = db.session.scalar(select(Article).where(Article.slug == SEEDED_ARTICLE))
        thread = comments.create_comment(article, {"body": "Unclear."}, author, Actor(author.id))
        db.session.commit()
        article_id, thread_id = article.id, thread.id
        author_id, replier_id = author.id, replier.id

    outcome: dict[str, Any] = {}

    def reply() -> None:
        with app.app_context():
            try:
                comments.create_comment(
                    get_article(article_id),
                    {"body": "Clarified.", "parent_id": thread_id},
                    db.session.get(User, replier_id),
                    Actor(replier_id),
                )
                db.session.commit()
                outcome["replied"] = True
            except DomainError as error:
                outcome["refused"] = error
            except Exception as error:  # what the test is about: nothing else escapes
                outcome["failed"] = error

    with app.app_context():
        # The author deletes the thread; before it commits, someone replies to it.
        doomed = comments.get_comment(article_id, thread_id, for_update=True)
        comments.delete_comment(doomed, db.session.get(User, author_id), Actor(author_id))
        replying = threading.Thread(target=reply)
        replying.start()
        assert _someone_waits_for_a_lock(), "the reply waits for the deletion to end"
        db.session.commit()
    replying.join(timeout=10)

    assert "failed" not in outcome, outcome
    refused = outcome["refused"]
    assert (refused.status, refused.extra["errors"]["json"].keys()) == (422, {"parent_id"})
    with app.app_context():
        left = db.session.scalars(
            select(ReviewComment).where(ReviewComment.article_id == article_id)
        ).all()
        assert left == []
