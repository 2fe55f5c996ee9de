"""The medical-review workflow: submit, approve, request changes, publish, unpublish, archive."""

from __future__ import annotations

from datetime import date, datetime, timedelta

from sqlalchemy import select

from cms_api.database import db
from cms_api.domain.clock import add_months, utcnow
from cms_api.domain.errors import Conflict, Forbidden
from cms_api.models import Article, MedicalReview, User
from cms_api.services.accounts import audit
from cms_api.services.accounts.audit import Actor
from cms_api.services.editorial.articles import approval_is_current
from cms_api.services.editorial.transitions import allowed_transitions
from cms_api.services.publishing.articles import publish_articles, unpublish_article
from cms_api.services.publishing.render_lock import hold_render_lock


def _check(article: Article, transition: str) -> None:
    if transition not in allowed_transitions(article):
        allowed = allowed_transitions(article)
        raise Conflict(
            f"Cannot {transition} an article that is {article.status}"
            f"{' and not published' if transition == 'unpublish' else ''}. "
            f"Allowed from here: {', '.join(allowed) or 'none'}.",
            kind="illegal-transition",
            status_now=article.status,
            allowed_transitions=allowed,
        )


def _log(article: Article, action: str, actor: Actor, before: str, **after: object) -> None:
    audit.record(
        actor_id=actor.user_id,
        action=f"article.{action}",
        target_type="article",
        target_id=article.id,
        before={"status": before},
        after={"status": article.status, **after},
        request_id=actor.request_id,
    )


def submit(article: Article, actor: Actor) -> Article:
    _check(article, "submit")
    before, article.status = article.status, "in_review"
    _log(article, "submit", actor, before, revision=article.revision_number)
    return article


def approve(article: Article, reviewer: User, actor: Actor, *, notes: str | None) -> Article:
    """A reviewer who is not an author signs off the current revision."""
    _check(article, "approve")
    person = reviewer.person
    if person is None:
        raise Forbidden(
            "Only a reviewer linked to a person with credentials can approve.",
        )
    if person.id in {link.person_id for link in article.authorships}:
        raise Conflict(
            "A reviewer cannot approve an article they wrote.",
            kind="illegal-transition",
            allowed_transitions=["request-changes"],
        )
    today = utcnow().date()
    db.session.add(
        MedicalReview(
            article_id=article.id,
            reviewer_id=person.id,
            reviewed_at=today,
            revision_number=article.revision_number,
            notes=notes,
        )
    )
    before, article.status = article.status, "approved"
    article.last_reviewed_at = today
    article.next_review_due = add_months(today, article.review_interval_months)
    db.session.flush()
    db.session.refresh(article, ["reviews"])
    _log(article, "approve", actor, before, revision=article.revision_number, notes=notes)
    return article


def request_changes(article: Article, actor: Actor, *, notes: str | None) -> Article:
    _check(article, "request-changes")
    before, article.status = article.status, "draft"
    _log(article, "request_changes", actor, before, notes=notes)
    return article


def publish(article: Article, actor: Actor, *, publish_at: datetime | None = None) -> Article:
    """Publish now, or schedule for `publish_at`; either needs an approval of this revision."""
    _check(article, "publish")
    if approval_is_current(article) is None:
        raise Conflict(
            f"Revision {article.revision_number} has no medical approval; submit it for review.",
            kind="illegal-transition",
            allowed_transitions=["request-changes"],
        )
    before = article.status
    if publish_at is not None and publish_at > utcnow():
        article.publish_at = publish_at
        _log(article, "schedule", actor, before, publish_at=publish_at.isoformat())
        return article
    publish_articles([article.id])
    _log(article, "publish", actor, before, revision=article.live_revision)
    return article


def unpublish(article: Article, actor: Actor) -> Article:
    _check(article, "unpublish")
    before = article.status
    unpublish_article(article.id, status="draft")
    _log(article, "unpublish", actor, before)
    return article


def archive(article: Article, actor: Actor) -> Article:
    _check(article, "archive")
    before = article.status
    unpublish_article(article.id, status="archived")
    _log(article, "archive", actor, before)
    return article


def publish_due(now: datetime | None = None) -> list[Article]:
    """Publish every scheduled article whose time has come. Safe to run concurrently:
    rows another run is publishing are skipped, not waited for."""
    now = now or utcnow()
    # Before locking any article: an editor's write holds this lock while it locks rows.
    hold_render_lock()
    due = db.session.scalars(
        select(Article)
        .where(
            Article.status == "approved", Article.publish_at <= now, Article.deleted_at.is_(None)
        )
        .with_for_update(skip_locked=True)
    ).all()
    published = [article for article in due if approval_is_current(article) is not None]
    if published:
        publish_articles([article.id for article in published])
        for article in published:
            _log(
                article,
                "publish",
                Actor(user_id=None),
                "approved",
                revision=article.live_revision,
                scheduled=True,
            )
    return published


def reviews_due(within_days: int, today: date | None = None) -> list[Article]:
    """Published articles whose review is overdue or due within `within_days`, soonest first."""
    today = today or utcnow().date()
    return list(
        db.session.scalars(
            select(Article)
            .where(
                Article.live_revision.is_not(None),
                Article.deleted_at.is_(None),
                Article.next_review_due <= today + timedelta(days=within_days),
            )
            .order_by(Article.next_review_due, Article.id)
        )
    )
