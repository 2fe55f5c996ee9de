"""Editing FAQs: create, edit, trash and restore, re-rendering the article or topic showing each."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, or_, select

from cms_api.database import db
from cms_api.domain.paging import Keyset, Page, aware_datetime, uuid_value
from cms_api.models import Article, Faq, Topic
from cms_api.services.accounts.audit import Actor
from cms_api.services.editorial.common import (
    ContentType,
    fetch,
    invalid,
    like_pattern,
    move_to_trash,
    recently_changed,
    record_create,
    record_update,
    take_out_of_trash,
)
from cms_api.services.publishing.articles import refresh_articles
from cms_api.services.publishing.topics import refresh_topics

FIELDS = ("question", "answer", "position", "status")
OWNER_FIELDS = ("article_id", "topic")


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


def _state(faq: Faq) -> dict[str, Any]:
    """What the audit log compares before and after a write."""
    return {
        **{name: getattr(faq, name) for name in FIELDS},
        "article_id": faq.article_id,
        "topic": faq.topic.slug if faq.topic else None,
    }


def _owners(faq: Faq) -> tuple[uuid.UUID | None, uuid.UUID | None]:
    return faq.article_id, faq.topic_id


def _rerender(faq: Faq, *owners: tuple[uuid.UUID | None, uuid.UUID | None]) -> None:
    """Re-render the documents of every article and topic that showed or shows the FAQ."""
    articles = {article_id for article_id, _ in owners if article_id is not None}
    topics = {topic_id for _, topic_id in owners if topic_id is not None}
    if articles:
        refresh_articles(articles)
    if topics:
        refresh_topics(topics)


def create_faq(data: dict[str, Any], actor: Actor) -> Faq:
    faq = Faq(id=uuid.uuid4(), **{name: data[name] for name in FIELDS})
    owner = _owner(faq, {name: data.get(name) for name in OWNER_FIELDS})
    assert owner is not None  # _owner refuses a FAQ without one
    faq.article, faq.topic = owner
    db.session.add(faq)
    db.session.flush()
    _rerender(faq, _owners(faq))
    record_create("faq", faq.id, _state(faq), actor)
    return faq


def update_faq(faq: Faq, data: dict[str, Any], actor: Actor) -> Faq:
    """Apply a merge patch: only the fields sent change."""
    before, owners_before = _state(faq), _owners(faq)
    # Resolved before anything changes, so a refused write leaves nothing behind.
    owner = _owner(faq, data)
    for name in FIELDS:
        if name in data:
            setattr(faq, name, data[name])
    if owner is not None:
        faq.article, faq.topic = owner
    db.session.flush()
    if record_update("faq", faq.id, before, _state(faq), actor):
        _rerender(faq, owners_before, _owners(faq))
    return faq


def trash_faq(faq: Faq, actor: Actor) -> None:
    """Move to the trash: gone from its article, its topic and /v1/faqs; nothing deleted."""
    move_to_trash(faq, "faq", actor)
    _rerender(faq, _owners(faq))


def restore_faq(faq: Faq, actor: Actor) -> Faq:
    take_out_of_trash(faq, "faq", actor)
    _rerender(faq, _owners(faq))
    return faq


@dataclass(frozen=True)
class FaqFilters:
    article_id: uuid.UUID | None = None
    topic: str | None = None
    status: str | None = None
    q: str | None = None
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


def present(faq: Faq) -> dict[str, Any]:
    """The admin representation: the Markdown source and the FAQ's state."""
    return {
        **{
            name: getattr(faq, name)
            for name in (
                "id",
                *FIELDS,
                "article_id",
                "published_at",
                "version",
                "created_at",
                "updated_at",
                "deleted_at",
            )
        },
        "article": faq.article.slug if faq.article else None,
        "topic": faq.topic.slug if faq.topic else None,
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
