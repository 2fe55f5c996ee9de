"""Rendering walks a topic's ancestors without a query: publishing loads them first."""

from __future__ import annotations

import gc

from sqlalchemy import event, select

from cms_api.database import db
from cms_api.models import Article, Topic
from cms_api.services.publishing import articles as publishing


def test_live_articles_hold_every_ancestor_of_their_topics(app) -> None:
    with app.app_context():
        # The seeded site's deepest topic: a grandchild at least.
        def depth_of(topic: Topic | None) -> int:
            return 0 if topic is None else 1 + depth_of(topic.parent)

        child = max(db.session.scalars(select(Topic).order_by(Topic.slug)), key=depth_of)
        depth = depth_of(child)
        assert depth >= 3
        article = db.session.scalars(
            select(Article).where(Article.live_revision.is_not(None)).order_by(Article.slug)
        ).first()
        assert article is not None
        db.session.expunge_all()  # nothing loaded before

        article = db.session.get(Article, article.id)
        content = {
            **publishing.revisions.snapshots([(article.id, article.live_revision)])[article.id],
            "topics": [str(child.id)],
        }
        live = publishing.live_articles([(article, content)])
        gc.collect()  # the session holds what nothing else refers to weakly

        statements: list[str] = []
        listener = lambda *args: statements.append(args[2])  # noqa: E731
        event.listen(db.engine, "before_cursor_execute", listener)
        try:
            names = []
            walker = live[article.id].topics[0]
            while walker is not None:
                names.append(walker.slug)
                walker = walker.parent
        finally:
            event.remove(db.engine, "before_cursor_execute", listener)
        assert statements == []
        assert len(names) == depth and names[0] == child.slug
        db.session.rollback()
