"""Re-render what embeds a changed person, topic or image, or every published document at once."""

from __future__ import annotations

import uuid

from sqlalchemy import Text, and_, cast, or_, select

from cms_api.database import db
from cms_api.models import (
    Article,
    ArticleAuthor,
    ArticleTopic,
    Image,
    MedicalReview,
    Person,
    Revision,
    Topic,
)
from cms_api.services.media import images as media
from cms_api.services.publishing import images, red_flags
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
    red_flags.reviewer_changed(person_id)


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


@media.on_change
def image_changed(image_id: uuid.UUID) -> None:
    """Re-render every published document that shows this image, after its alt text,
    credit, crops or trash state changed (the media library calls it on each change).

    Articles whose live revision shows it (as lead image or in a section), the profiles
    and articles of the people it pictures, the topics it illustrates; every article when
    it is the publisher's logo.
    """
    image = db.session.get(Image, image_id)
    if image is not None:
        # Its files may have been replaced (a moved focal point makes new crops).
        db.session.expire(image)
    images.forget_logo()
    if image is not None and images.is_logo(image):
        rerender_everything()
        return
    key = str(image_id)
    live = and_(Article.id == Revision.article_id, Article.live_revision == Revision.number)
    article_ids = db.session.scalars(
        select(Revision.article_id)
        .join(Article, live)
        .where(
            Article.deleted_at.is_(None),
            or_(
                Revision.snapshot["lead_image_id"].astext == key,
                # A reference may be written in capitals; the id is lower case.
                cast(Revision.snapshot["sections"], Text).ilike(f"%{images.LIBRARY_IMAGE}{key}%"),
            ),
        )
    ).all()
    for person_id in db.session.scalars(select(Person.id).where(Person.image_id == image_id)):
        person_changed(person_id)
    topic_ids = db.session.scalars(select(Topic.id).where(Topic.image_id == image_id)).all()
    refresh_articles(article_ids)
    if topic_ids:
        refresh_topics(topic_ids)
