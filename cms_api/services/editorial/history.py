"""An article's history: its revisions, one revision's content, restoring an old one."""

from __future__ import annotations

import uuid

from sqlalchemy import select

from cms_api.database import db
from cms_api.domain.errors import NotFound
from cms_api.models import Article, ArticleAuthor, Person, Revision, Topic
from cms_api.services.accounts import audit
from cms_api.services.accounts.audit import Actor
from cms_api.services.editorial.articles import (
    SCALAR_FIELDS,
    apply_content,
    log_cancelled_schedule,
)
from cms_api.services.publishing import revisions


def list_revisions(article: Article) -> list[Revision]:
    return list(
        db.session.scalars(
            select(Revision)
            .where(Revision.article_id == article.id)
            .order_by(Revision.number.desc())
        )
    )


def get_revision(article: Article, number: int) -> Revision:
    revision = db.session.scalar(
        select(Revision).where(Revision.article_id == article.id, Revision.number == number)
    )
    if revision is None:
        raise NotFound(f"The article has no revision {number}.")
    return revision


def restore_revision(article: Article, number: int, actor: Actor) -> Article:
    """Make an old revision's content current again, as a new revision."""
    content = get_revision(article, number).snapshot
    people = {
        str(p.id): p
        for p in db.session.scalars(
            select(Person).where(Person.id.in_([uuid.UUID(pid) for pid in content["authors"]]))
        )
    }
    topics = {
        str(t.id): t.slug
        for t in db.session.scalars(
            select(Topic).where(Topic.id.in_([uuid.UUID(tid) for tid in content["topics"]]))
        )
    }
    data = {name: content.get(name) for name in SCALAR_FIELDS}
    data["sections"] = content["sections"]
    data["citations"] = content["citations"]
    data["topics"] = [topics[tid] for tid in content["topics"] if tid in topics]
    before = revisions.snapshot(article)
    apply_content(article, data)
    if article.source_id is not None and "source_revision" in content:
        # The old text of a translation reflects what its original said back then.
        article.source_revision = content["source_revision"]
    article.authorships.clear()
    db.session.flush()
    article.authorships.extend(
        ArticleAuthor(person=people[pid], position=position)
        for position, pid in enumerate(content["authors"])
        if pid in people
    )
    db.session.flush()
    revisions.record(article, reason=f"restore:{number}", author_id=actor.user_id)
    if article.status in ("approved", "published"):
        article.status = "in_review"
    log_cancelled_schedule(article, actor)
    db.session.flush()
    changed_before, changed_after = audit.changed_fields(before, revisions.snapshot(article))
    audit.record(
        actor_id=actor.user_id,
        action="article.restore_revision",
        target_type="article",
        target_id=article.id,
        before=changed_before,
        after=changed_after | {"restored_revision": number},
        request_id=actor.request_id,
    )
    return article
