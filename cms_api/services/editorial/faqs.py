"""Editing FAQs: an article's are reviewed with its next revision, a topic's on their own."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, or_, select

from cms_api.database import db
from cms_api.domain.clock import utcnow
from cms_api.domain.errors import Conflict
from cms_api.domain.paging import Keyset, Page, aware_datetime, uuid_value
from cms_api.models import Article, Faq, Topic, User
from cms_api.services.accounts.audit import Actor
from cms_api.services.editorial.articles import log_cancelled_schedule
from cms_api.services.editorial.common import (
    ContentType,
    fetch,
    invalid,
    like_pattern,
    recently_changed,
    record_create,
    record_update,
)
from cms_api.services.editorial.reviewed import Review
from cms_api.services.publishing import revisions
from cms_api.services.publishing.articles import refresh_articles
from cms_api.services.publishing.topics import refresh_topics
from cms_api.services.runtime import settings
from cms_api.services.trash import move_to_trash, take_out_of_trash

FIELDS = ("question", "answer", "position", "status")
TEXT_FIELDS = ("question", "answer")
OWNER_FIELDS = ("article_id", "topic")
# The statuses an editor may give an article's FAQ: in its content, or kept out of it.
ARTICLE_STATUSES = ("draft", "published")
# A topic FAQ's review: transition → the statuses it may start from.
TOPIC_TRANSITIONS: dict[str, tuple[str, ...]] = {
    "submit": ("draft",),
    "approve": ("in_review",),
    "request-changes": ("in_review",),
}


def get_faq(faq_id: uuid.UUID, *, for_update: bool = False, include_trashed: bool = False) -> Faq:
    return fetch(Faq, faq_id, label="FAQ", for_update=for_update, include_trashed=include_trashed)


def _article(article_id: uuid.UUID) -> Article:
    article = db.session.get(Article, article_id)
    if article is None or article.deleted_at is not None:
        raise invalid("article_id", "No article (outside the trash) has this id.")
    return article


def _topic(slug: str) -> Topic:
    topic = db.session.scalar(select(Topic).where(Topic.slug == slug, Topic.deleted_at.is_(None)))
    if topic is None:
        raise invalid("topic", f"Unknown topic: {slug}.")
    return topic


def _owner(faq: Faq, data: dict[str, Any]) -> tuple[Article | None, Topic | None] | None:
    """The owner the write gives the FAQ, or None when it names none. Naming one owner
    moves the FAQ there, so `{"topic": "x"}` on an article's FAQ needs no
    `"article_id": null` alongside."""
    given = {name: data[name] for name in OWNER_FIELDS if name in data}
    if not given:
        return None
    named = {name for name, value in given.items() if value is not None}
    if len(named) > 1:
        raise invalid("topic", "A FAQ belongs to an article or a topic, not both.")
    article_id = given.get("article_id", None if named else faq.article_id)
    topic_slug = given.get("topic", None if named else (faq.topic.slug if faq.topic else None))
    if article_id is not None:
        return _article(article_id), None
    if topic_slug is not None:
        return None, _topic(topic_slug)
    raise invalid("article_id", "A FAQ belongs to an article (`article_id`) or a `topic`.")


def _locale(owner: tuple[Article | None, Topic | None], asked: str | None) -> str:
    """The locale a new FAQ is written in: an article's FAQs are in the article's locale
    (another is a 422), a topic's in the one asked for, else the site's default."""
    article, _ = owner
    if article is None:
        return asked or settings().default_locale
    if asked is not None and asked != article.locale:
        raise invalid("locale", f"An article's FAQs are in the article's locale, {article.locale}.")
    return article.locale


def _same_locale(faq: Faq, article: Article | None) -> None:
    """A FAQ keeps the locale it was written in: it may join only an article in it."""
    if article is not None and article.locale != faq.locale:
        raise invalid(
            "article_id",
            f"The article is in {article.locale} and the FAQ in {faq.locale}: an article's "
            "FAQs are in its locale.",
        )


def _state(faq: Faq) -> dict[str, Any]:
    """What the audit log compares before and after a write."""
    return {
        **{name: getattr(faq, name) for name in FIELDS},
        "locale": faq.locale,
        "article_id": faq.article_id,
        "topic": faq.topic.slug if faq.topic else None,
    }


def _status_for(faq: Faq, owner: tuple[Article | None, Topic | None], data: dict[str, Any]) -> str:
    """The status a write leaves the FAQ in, or a 422 when it asks for one it cannot have.

    A topic FAQ's status moves only through its review (submit, approve, request changes);
    an article's FAQ is in the article's content (`published`) or kept out (`draft`).
    """
    article, _ = owner
    asked = data.get("status")
    moved = (article.id if article else None, owner[1].id if owner[1] else None) != (
        faq.article_id,
        faq.topic_id,
    )
    if article is not None:
        if asked is not None and asked not in ARTICLE_STATUSES:
            raise invalid(
                "status",
                "An article's FAQ is reviewed with the article: `published` puts it in the "
                "article's next revision, `draft` keeps it out.",
            )
        if asked is not None:
            return asked
        return faq.status if not moved or faq.status == "draft" else "published"
    current = faq.status if not moved and faq.status else "draft"
    if asked is not None and asked != current:
        raise invalid(
            "status",
            "A topic FAQ goes live through its own review: POST .../submit, then a reviewer "
            "POSTs .../approve. Its status cannot be set.",
        )
    if current != "draft" and any(
        name in data and data[name] != getattr(faq, name) for name in TEXT_FIELDS
    ):
        # New words are not what was submitted or approved: they wait for a new review,
        # while readers keep the approved text.
        return "draft"
    return current


def _article_faqs(article_ids: set[uuid.UUID]) -> dict[uuid.UUID, list[dict[str, Any]]]:
    return {
        article.id: revisions.faqs(article)
        for article in (db.session.get(Article, item) for item in article_ids)
        if article is not None
    }


def _record_article_revisions(
    faq: Faq, before: dict[uuid.UUID, list[dict[str, Any]]], actor: Actor, reason: str
) -> None:
    """Record a revision of each article whose FAQs the write changed.

    Readers keep the FAQs of the live revision; the new one goes through the article's
    review like any edit, so content that was approved or published goes back to review.
    """
    db.session.flush()
    for article_id, faqs in before.items():
        article = db.session.get(Article, article_id)
        if article is None or revisions.faqs(article) == faqs:
            continue
        revisions.record(article, reason=reason, author_id=actor.user_id)
        if article.status in ("approved", "published"):
            article.status = "in_review"
        log_cancelled_schedule(article, actor)
        faq.schedule_cancelled = faq.schedule_cancelled or article.schedule_cancelled
        if faq.article_id == article.id:
            faq.article_revision = article.revision_number
    db.session.flush()


def _leave_owner(faq: Faq) -> None:
    """A FAQ that changes owner starts again: an approval was for where it stood."""
    faq.live_question = faq.live_answer = None
    faq.reviewed_by_id = faq.reviewed_on = None
    faq.article_revision = None


def create_faq(
    data: dict[str, Any], actor: Actor, *, audit_note: dict[str, Any] | None = None
) -> Faq:
    """Create a FAQ; `audit_note` adds to what the audit log records (where it came from)."""
    faq = Faq(id=uuid.uuid4(), **{name: data[name] for name in FIELDS if name != "status"})
    owner = _owner(faq, {name: data.get(name) for name in OWNER_FIELDS})
    assert owner is not None  # _owner refuses a FAQ without one
    faq.locale = _locale(owner, data.get("locale"))
    faq.status = "draft"
    faq.status = _status_for(faq, owner, {"status": data.get("status", "draft")})
    faq.article, faq.topic = owner
    before = _article_faqs({faq.article.id} if faq.article else set())
    db.session.add(faq)
    db.session.flush()
    _record_article_revisions(faq, before, actor, reason=f"faq:{faq.id}")
    record_create("faq", faq.id, _state(faq) | (audit_note or {}), actor)
    return faq


def update_faq(faq: Faq, data: dict[str, Any], actor: Actor) -> Faq:
    """Apply a merge patch: only the fields sent change."""
    before, topics_before = _state(faq), {faq.topic_id} - {None}
    # Resolved before anything changes, so a refused write leaves nothing behind.
    owner = _owner(faq, data) or (faq.article, faq.topic)
    _same_locale(faq, owner[0])
    status = _status_for(faq, owner, data)
    articles = {faq.article_id, owner[0].id if owner[0] else None} - {None}
    faqs_before = _article_faqs(articles)  # type: ignore[arg-type]
    moved = (owner[0], owner[1]) != (faq.article, faq.topic)
    if moved:
        _leave_owner(faq)
    for name in FIELDS:
        if name in data and name != "status":
            setattr(faq, name, data[name])
    faq.status = status
    faq.article, faq.topic = owner
    db.session.flush()
    if record_update("faq", faq.id, before, _state(faq), actor):
        _record_article_revisions(faq, faqs_before, actor, reason=f"faq:{faq.id}")
        # A topic page shows its FAQs' order and loses one moved away at once; the
        # approved words it shows change only by review.
        _refresh_topics(topics_before | ({faq.topic_id} - {None}))
    if moved and faq.article_id is not None:
        # Its own document leaves with the topic; the article shows it once reviewed.
        refresh_articles([faq.article_id])
    return faq


def trash_faq(faq: Faq, actor: Actor) -> None:
    """Move to the trash; nothing deleted. A topic FAQ leaves readers at once; an article's
    leaves with the article's next revision, once that is reviewed and published."""
    faqs_before = _article_faqs({faq.article_id} - {None})  # type: ignore[arg-type]
    move_to_trash(faq, "faq", actor)
    _record_article_revisions(faq, faqs_before, actor, reason=f"faq-trash:{faq.id}")
    _refresh_topics({faq.topic_id} - {None})


def restore_faq(faq: Faq, actor: Actor) -> Faq:
    faqs_before = _article_faqs({faq.article_id} - {None})  # type: ignore[arg-type]
    take_out_of_trash(faq, "faq", actor)
    _record_article_revisions(faq, faqs_before, actor, reason=f"faq-restore:{faq.id}")
    _refresh_topics({faq.topic_id} - {None})
    return faq


def _refresh_topics(topic_ids: set[Any]) -> None:
    if topic_ids:
        refresh_topics(topic_ids)


# -- a topic FAQ's review ------------------------------------------------------------------


def _reviewed_alone(faq: Faq) -> None:
    """An article's FAQ has no review of its own: it is reviewed with the article."""
    if faq.topic_id is None:
        raise Conflict(
            "An article's FAQ is reviewed with its article: submit the article for review.",
            kind="illegal-transition",
            allowed_transitions=[],
        )


REVIEW = Review[Faq](
    kind="faq",
    what="a topic FAQ",
    transitions=TOPIC_TRANSITIONS,
    precondition=_reviewed_alone,
)


def submit_faq(faq: Faq, actor: Actor) -> Faq:
    """`draft` → `in_review`: the topic FAQ's current words await a reviewer."""
    return REVIEW.move(faq, "submit", "in_review", actor)


def approve_faq(faq: Faq, reviewer: User, actor: Actor, *, notes: str | None) -> Faq:
    """`in_review` → `published`: the reviewed words become the ones readers see, with the
    reviewer and the date, and the topic page and the FAQ's document are re-rendered."""
    person = REVIEW.sign(faq, reviewer)
    now = utcnow()
    if (faq.live_question, faq.live_answer) != (faq.question, faq.answer):
        faq.live_updated_at = now
    faq.live_question, faq.live_answer = faq.question, faq.answer
    faq.published_at = faq.published_at or now
    REVIEW.move(faq, "approve", "published", actor, reviewer=person.slug, notes=notes)
    _refresh_topics({faq.topic_id})
    return faq


def request_faq_changes(faq: Faq, actor: Actor, *, notes: str | None) -> Faq:
    """`in_review` → `draft`: back to the editors; readers keep the approved words."""
    return REVIEW.move(faq, "request-changes", "draft", actor, notes=notes)


@dataclass(frozen=True)
class FaqFilters:
    article_id: uuid.UUID | None = None
    topic: str | None = None
    status: str | None = None
    q: str | None = None
    locale: str | None = None
    trashed: bool = False


# Most recently changed first: (updated_at, id).
FAQS_KEYSET = Keyset("admin-faqs", (aware_datetime, uuid_value))


def list_faqs(filters: FaqFilters, *, limit: int, cursor: str | None) -> Page[Faq]:
    conditions: list[ColumnElement[bool]] = []
    if filters.article_id is not None:
        conditions.append(Faq.article_id == filters.article_id)
    if filters.topic is not None:
        conditions.append(Faq.topic.has(Topic.slug == filters.topic))
    if filters.status is not None:
        conditions.append(Faq.status == filters.status)
    if filters.locale is not None:
        conditions.append(Faq.locale == filters.locale)
    if filters.q:
        pattern = like_pattern(filters.q)
        conditions.append(or_(Faq.question.ilike(pattern), Faq.answer.ilike(pattern)))
    return recently_changed(
        Faq,
        conditions,
        trashed=filters.trashed,
        keyset=FAQS_KEYSET,
        cursor=cursor,
        limit=limit,
    )


def review_state(faq: Faq) -> dict[str, Any]:
    """Where the FAQ's words stand with readers: live, or waiting for which review."""
    if faq.article is not None:
        article = faq.article
        pending = faq.article_revision is not None and (
            article.live_revision is None or article.live_revision < faq.article_revision
        )
        note = (
            f"Saved in revision {faq.article_revision} of the article: readers keep the "
            "FAQs of its live revision until this one is approved and published."
            if pending
            else "Reviewed with the article: readers see the FAQs of its live revision."
        )
        if faq.status == "draft":
            note = "A draft: kept out of the article, so readers never see it as it is."
        if faq.schedule_cancelled:
            note += " This change cancelled the article's scheduled publication."
        return {"awaiting_review": pending, "review_note": note, "live": None}
    live = (
        {"question": faq.live_question, "answer": faq.live_answer}
        if faq.live_question is not None
        else None
    )
    pending = live is None or (faq.live_question, faq.live_answer) != (faq.question, faq.answer)
    if not pending:
        note = "Approved: readers see this text."
    elif faq.status == "in_review":
        note = "Awaiting a reviewer's approval; readers see the approved text, if any."
    else:
        note = "Not yet reviewed: submit it; readers see the approved text, if any."
    return {"awaiting_review": pending, "review_note": note, "live": live}


def present(faq: Faq) -> dict[str, Any]:
    """The admin representation: the Markdown source, the FAQ's state and its review."""
    return {
        **{
            name: getattr(faq, name)
            for name in (
                "id",
                *FIELDS,
                "locale",
                "article_id",
                "article_revision",
                "published_at",
                "reviewed_on",
                "version",
                "created_at",
                "updated_at",
                "deleted_at",
            )
        },
        "article": faq.article.slug if faq.article else None,
        "topic": faq.topic.slug if faq.topic else None,
        "reviewed_by": faq.reviewed_by.slug if faq.reviewed_by else None,
        "schedule_cancelled": faq.schedule_cancelled,
        **review_state(faq),
    }


FAQS = ContentType[Faq](
    kind="faq",
    get=get_faq,
    update=update_faq,
    trash=trash_faq,
    restore=restore_faq,
    present=present,
    filters=FaqFilters,
    list=list_faqs,
    create=create_faq,
)
