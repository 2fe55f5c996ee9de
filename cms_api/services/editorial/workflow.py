"""The medical-review workflow: submit, approve, request changes, publish, unpublish, archive."""

from __future__ import annotations

import uuid
from datetime import date, datetime, timedelta
from typing import Any, NamedTuple

from sqlalchemy import select
from sqlalchemy.orm import selectinload

from cms_api.database import db, one_of
from cms_api.domain.clock import utcnow
from cms_api.domain.errors import Conflict, Forbidden, ValidationFailed
from cms_api.models import Article, MedicalReview, Person, User
from cms_api.models.article import REVIEW_KINDS
from cms_api.services.accounts import audit
from cms_api.services.accounts.audit import Actor
from cms_api.services.accounts.permissions import allowed
from cms_api.services.editorial.articles import approval_is_current
from cms_api.services.editorial.common import check_reviews_in
from cms_api.services.editorial.transitions import allowed_transitions, illegal_transition
from cms_api.services.publishing import reviews as review_record
from cms_api.services.publishing import revisions
from cms_api.services.publishing.articles import publish_articles, unpublish_article
from cms_api.services.publishing.cascade import person_changed
from cms_api.services.publishing.credentials import reviewer_problems, shown_with_stale_validity
from cms_api.services.publishing.render_lock import hold_render_lock


def _check(article: Article, transition: str) -> None:
    allowed = allowed_transitions(article)
    if transition not in allowed:
        status = article.status
        if transition == "unpublish":
            status += " and not published"
        raise illegal_transition("an article", status, transition, allowed)


def _log(article: Article, action: str, actor: Actor, before: str, **after: object) -> None:
    _log_status(article.id, article.status, action, actor, before, **after)


def _log_status(
    article_id: uuid.UUID, status: str, action: str, actor: Actor, before: str, **after: object
) -> None:
    audit.record(
        actor_id=actor.user_id,
        action=f"article.{action}",
        target_type="article",
        target_id=article_id,
        before={"status": before},
        after={"status": status, **after},
        request_id=actor.request_id,
    )


def submit(article: Article, actor: Actor) -> Article:
    _check(article, "submit")
    before, article.status = article.status, "in_review"
    _log(article, "submit", actor, before, revision=article.revision_number)
    return article


def approve(
    article: Article,
    reviewer: User,
    actor: Actor,
    *,
    kind: str,
    notes: str | None,
    public_note: str | None = None,
) -> Article:
    """A reviewer who is not an author signs off the current revision.

    A `clinical` review checked the whole page: once the revision is live, it becomes the
    review of record (review date, reviewers, next due date). A `correction` approved a
    minor edit to content that already has a live clinical review: it is listed publicly
    with `public_note` and leaves the review date and cycle alone. Nothing readers see
    changes here: the approval reaches them when its revision is published.
    """
    _check(article, "approve")
    if kind not in REVIEW_KINDS:
        raise ValidationFailed(
            f"Unknown kind of approval {kind!r}.",
            errors={"json": {"kind": [f"Must be one of: {', '.join(REVIEW_KINDS)}."]}},
        )
    if not allowed(reviewer.role, f"workflow:review:{kind}"):
        raise Forbidden(f"The role {reviewer.role!r} may not record a {kind} review.")
    person = reviewer.person
    if person is None:
        raise Forbidden(
            "Only a reviewer linked to a person with credentials can approve.",
        )
    # Medical text is reviewed by someone who reads it: a translation is new text.
    check_reviews_in(person, article.locale)
    today = utcnow().date()
    problems = reviewer_problems(person, today)
    if problems:
        raise Conflict(
            f"{person.name} cannot approve: {' '.join(problems)}",
            kind="reviewer-not-eligible",
            reasons=problems,
        )
    if person.id in {link.person_id for link in article.authorships}:
        raise Conflict(
            "A reviewer cannot approve an article they wrote.",
            kind="illegal-transition",
            allowed_transitions=["request-changes"],
        )
    if kind == "correction":
        if not (public_note or "").strip():
            raise ValidationFailed(
                "A correction needs a public note saying what was corrected.",
                errors={"json": {"note": ["Required for a correction."]}},
            )
        if article.live_revision is None or review_record.of_record(article) is None:
            raise Conflict(
                "A correction amends reviewed content: this article has no live clinical "
                "review of record, so approve it as a clinical review.",
                reasons=["no live clinical review of record"],
            )
    else:
        public_note = None
    db.session.add(
        MedicalReview(
            article_id=article.id,
            reviewer_id=person.id,
            reviewed_at=today,
            revision_number=article.revision_number,
            kind=kind,
            notes=notes,
            public_note=public_note,
        )
    )
    before, article.status = article.status, "approved"
    db.session.flush()
    db.session.refresh(article, ["reviews"])
    _log(
        article,
        "approve",
        actor,
        before,
        revision=article.revision_number,
        kind=kind,
        notes=notes,
        public_note=public_note,
    )
    return article


def request_changes(article: Article, actor: Actor, *, notes: str | None) -> Article:
    """Send the article back to draft; an approval of the current revision is withdrawn,
    and a schedule set on it is cancelled."""
    _check(article, "request-changes")
    current = approval_is_current(article)
    withdrawn = None
    if current is not None and current.published_at is None:
        current.withdrawn_at = utcnow()
        withdrawn = current.revision_number
    cancelled = article.publish_at is not None
    article.publish_at = None
    article.publish_at_revision = None
    before, article.status = article.status, "draft"
    _log(
        article,
        "request_changes",
        actor,
        before,
        notes=notes,
        withdrawn_approval_of_revision=withdrawn,
        schedule_cancelled=cancelled or None,
    )
    return article


def missing_for_publication(article: Article) -> list[str]:
    """What the current revision lacks to be published: an author, a disclaimer, content."""
    return _missing_in(revisions.snapshot(article))


def _missing_in(content: dict[str, Any]) -> list[str]:
    missing = []
    if not content["authors"]:
        missing.append("author")
    if not (content.get("disclaimer") or "").strip():
        missing.append("disclaimer")
    if not _has_body(content["sections"]):
        missing.append("content (a section with a body)")
    return missing


def _has_body(sections: list[dict[str, Any]]) -> bool:
    return any(
        (item.get("body") or "").strip() or _has_body(item.get("subsections") or [])
        for item in sections
    )


def publish(article: Article, actor: Actor, *, publish_at: datetime | None = None) -> Article:
    """Publish now, or schedule for `publish_at`; either needs an approval of this revision
    and a complete article. A schedule publishes exactly the revision it was set for."""
    _check(article, "publish")
    if approval_is_current(article) is None:
        raise Conflict(
            f"Revision {article.revision_number} has no medical approval; submit it for review.",
            kind="illegal-transition",
            allowed_transitions=["request-changes"],
        )
    missing = missing_for_publication(article)
    if missing:
        raise Conflict(
            f"Revision {article.revision_number} cannot be published without: "
            f"{', '.join(missing)}.",
            kind="incomplete-content",
            missing=missing,
        )
    before = article.status
    if publish_at is not None and publish_at > utcnow():
        article.publish_at = publish_at
        article.publish_at_revision = article.revision_number
        _log(
            article,
            "schedule",
            actor,
            before,
            publish_at=publish_at.isoformat(),
            revision=article.revision_number,
        )
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


class ScheduledPublication(NamedTuple):
    """An article `publish_due` published."""

    id: uuid.UUID
    slug: str
    live_revision: int


# Due articles are checked this many at a time: a launch may schedule thousands for one
# minute, and each batch is read in a few queries and let go before the next.
DUE_BATCH = 500


def publish_due(now: datetime | None = None) -> list[ScheduledPublication]:
    """Publish every scheduled article whose time has come. Safe to run concurrently:
    rows another run is publishing are skipped, not waited for."""
    now = now or utcnow()
    # Before locking any article: an editor's write holds this lock while it locks rows.
    hold_render_lock()
    due = db.session.scalars(
        select(Article.id)
        .where(
            Article.status == "approved", Article.publish_at <= now, Article.deleted_at.is_(None)
        )
        .order_by(Article.id)
        .with_for_update(skip_locked=True)
    ).all()
    ready: list[uuid.UUID] = []
    for start in range(0, len(due), DUE_BATCH):
        articles = db.session.scalars(
            select(Article)
            .where(one_of(Article.id, due[start : start + DUE_BATCH]))
            .options(*revisions.SNAPSHOT_GRAPH, selectinload(Article.reviews))
        ).all()
        contents = revisions.snapshots_of(list(articles))
        # Only the revision the schedule was set for, still approved and complete: an edit
        # since then cancelled the schedule, and this checks it did.
        ready += [
            article.id
            for article in articles
            if article.publish_at_revision == article.revision_number
            and approval_is_current(article) is not None
            and not _missing_in(contents[article.id])
        ]
    if not ready:
        return []
    publish_articles(ready)
    published = [
        ScheduledPublication(*row)
        for row in db.session.execute(
            select(Article.id, Article.slug, Article.live_revision)
            .where(one_of(Article.id, ready))
            .order_by(Article.slug)
        )
    ]
    for item in published:
        _log_status(
            item.id,
            "published",
            "publish",
            Actor(user_id=None),
            "approved",
            revision=item.live_revision,
            scheduled=True,
        )
    return published


def refresh_credential_validity(today: date | None = None) -> list[Person]:
    """Re-render the profiles and articles of people whose published credentials show a
    `valid` flag that is wrong today: the flag is computed when rendering."""
    people = shown_with_stale_validity(today or utcnow().date())
    for person in people:
        person_changed(person.id)
    return people


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
