"""Re-render what embeds a changed person or topic, or every published document at once."""

from __future__ import annotations

import uuid

from sqlalchemy import select

from cms_api.database import db
from cms_api.models import Article, ArticleAuthor, ArticleTopic, MedicalReview, Person, Topic
from cms_api.services.publishing.articles import refresh_articles
from cms_api.services.publishing.people import refresh_people
from cms_api.services.publishing.topics import refresh_topics


def rerender_everything() -> int:
    """Render every published document again (after a change of site URL or publisher).

    Returns how many articles were rendered. Unchanged documents are left as they were.
    """
    article_ids = db.session.scalars(
        select(Article.id).where(Article.live_revision.is_not(None), Article.deleted_at.is_(None))
    ).all()
    refresh_articles(article_ids)
    refresh_people(db.session.scalars(select(Person.id)).all())
    refresh_topics()
    return len(article_ids)


def person_changed(person_id: uuid.UUID) -> None:
    """Re-render every published document that shows this person (profile and articles)."""
    authored = select(ArticleAuthor.article_id).where(ArticleAuthor.person_id == person_id)
    reviewed = select(MedicalReview.article_id).where(MedicalReview.reviewer_id == person_id)
    article_ids = db.session.scalars(
        select(Article.id).where(Article.id.in_(authored.union(reviewed)))
    ).all()
    refresh_articles(article_ids)
    refresh_people([person_id])


def topic_changed(topic_id: uuid.UUID) -> None:
    """Re-render the topic tree and the published articles and FAQs on the topic.

    Articles on its subtopics count too: their breadcrumbs and filter tags name it.
    """
    parents = {
        row.id: row.parent_id for row in db.session.execute(select(Topic.id, Topic.parent_id))
    }
    subtree = {topic_id}
    grown = True
    while grown:
        grown = False
        for child, parent in parents.items():
            if parent in subtree and child not in subtree:
                subtree.add(child)
                grown = True
    article_ids = db.session.scalars(
        select(ArticleTopic.article_id).where(ArticleTopic.topic_id.in_(subtree))
    ).all()
    refresh_articles(article_ids)
    refresh_topics()
