"""The webhook outbox: events queued in the writer's transaction, sent once it commits."""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable, Iterable, Sequence
from typing import Any

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert

from cms_api.database import db
from cms_api.domain.clock import utcnow
from cms_api.domain.formats import iso_date, iso_datetime
from cms_api.models import (
    Article,
    ArticleAuthor,
    ArticleTopic,
    MedicalReview,
    Person,
    PublishedDocument,
    ReaderQuestion,
    Topic,
    WebhookDelivery,
    WebhookEndpoint,
)
from cms_api.services import runtime
from cms_api.services.publishing.render import article_path

# review.due event ids derive from (article, due date): a rerun finds its rows already there.
REVIEW_DUE_NAMESPACE = uuid.UUID("6f1c2a4e-9b7d-4f3e-8a15-3c0d9e2b7a61")


def _subscribers(event_types: set[str]) -> list[tuple[uuid.UUID, set[str]]]:
    rows = db.session.execute(
        select(WebhookEndpoint.id, WebhookEndpoint.events).where(
            WebhookEndpoint.active.is_(True),
            WebhookEndpoint.deleted_at.is_(None),
            WebhookEndpoint.events.overlap(sorted(event_types)),
        )
    ).all()
    return [(endpoint_id, set(events)) for endpoint_id, events in rows]


def enqueue(
    endpoint_ids: Sequence[uuid.UUID],
    event_type: str,
    data: dict[str, Any],
    surrogate_keys: Iterable[str],
    *,
    event_id: uuid.UUID | None = None,
) -> list[uuid.UUID]:
    """Write one outbox row per endpoint; an (endpoint, event) already there is kept."""
    if not endpoint_ids:
        return []
    event_id = event_id or uuid.uuid4()
    body = json.dumps(
        {
            "id": str(event_id),
            "type": event_type,
            "created_at": iso_datetime(utcnow()),
            "data": data,
            "surrogate_keys": sorted(set(surrogate_keys)),
        },
        ensure_ascii=False,
        separators=(",", ":"),
    )
    rows = [
        {
            "id": uuid.uuid4(),
            "endpoint_id": endpoint_id,
            "event_id": event_id,
            "event_type": event_type,
            "body": body,
            "status": "pending",
            "attempt_count": 0,
        }
        for endpoint_id in endpoint_ids
    ]
    written = db.session.scalars(
        insert(WebhookDelivery)
        .values(rows)
        .on_conflict_do_nothing(index_elements=["endpoint_id", "event_id"])
        .returning(WebhookDelivery.id)
    ).all()
    return list(written)


def emit(
    event_type: str,
    data: dict[str, Any],
    surrogate_keys: Iterable[str] = (),
    *,
    event_id: uuid.UUID | None = None,
) -> int:
    """Queue an event for every active endpoint subscribed to it, in the current
    transaction: it is sent if and only if the transaction commits. Returns the rows added."""
    subscribers = [endpoint_id for endpoint_id, _ in _subscribers({event_type})]
    return len(enqueue(subscribers, event_type, data, surrogate_keys, event_id=event_id))


def _topic_ancestry() -> Callable[[uuid.UUID], list[str]]:
    topics = {
        row.id: row for row in db.session.execute(select(Topic.id, Topic.parent_id, Topic.slug))
    }

    def slugs(topic_id: uuid.UUID) -> list[str]:
        found: list[str] = []
        current: uuid.UUID | None = topic_id
        while current is not None and current in topics and len(found) <= len(topics):
            found.append(topics[current].slug)
            current = topics[current].parent_id
        return found

    return slugs


def article_surrogate_keys(article_ids: set[uuid.UUID]) -> dict[uuid.UUID, set[str]]:
    """The cache keys of what shows each article: itself, its topics' pages (with their
    ancestors, whose lists include it) and its authors' and reviewers' profiles.

    A published article's keys come from its published document's tags. One whose
    document is gone (unpublished, deleted) gets them from its authors, reviews and topics
    as they are now; those are what the document showed unless a draft changed them since.
    """
    keys: dict[uuid.UUID, set[str]] = {
        article_id: {f"article:{article_id}"} for article_id in article_ids
    }
    documented = db.session.execute(
        select(PublishedDocument.entity_id, PublishedDocument.tags).where(
            PublishedDocument.kind == "article", PublishedDocument.entity_id.in_(article_ids)
        )
    ).all()
    for article_id, tags in documented:
        for tag in tags:
            kind, _, value = tag.partition(":")
            if kind == "topic":
                keys[article_id].add(tag)
            elif kind in ("author", "reviewer"):
                keys[article_id].add(f"person:{value}")
    missing = article_ids - {article_id for article_id, _ in documented}
    if not missing:
        return keys
    people = select(ArticleAuthor.article_id, Person.slug).join(
        Person, Person.id == ArticleAuthor.person_id
    )
    reviewers = select(MedicalReview.article_id, Person.slug).join(
        Person, Person.id == MedicalReview.reviewer_id
    )
    for query, column in ((people, ArticleAuthor), (reviewers, MedicalReview)):
        for article_id, slug in db.session.execute(query.where(column.article_id.in_(missing))):
            keys[article_id].add(f"person:{slug}")
    topic_rows = db.session.execute(
        select(ArticleTopic.article_id, ArticleTopic.topic_id).where(
            ArticleTopic.article_id.in_(missing)
        )
    ).all()
    if topic_rows:
        ancestry = _topic_ancestry()
        for article_id, topic_id in topic_rows:
            keys[article_id] |= {f"topic:{slug}" for slug in ancestry(topic_id)}
    return keys


def content_changed(events: Iterable[dict[str, Any]]) -> None:
    """Queue `article.*` events for change-feed entries (kind, entity_id, slug, action,
    locale)."""
    changes = [event for event in events if event["kind"] == "article"]
    if not changes:
        return
    subscribers = _subscribers({f"article.{event['action']}" for event in changes})
    if not subscribers:
        return
    keys = article_surrogate_keys({event["entity_id"] for event in changes})
    occurred_at = iso_datetime(utcnow())
    default_locale = runtime.settings().default_locale
    for event in changes:
        event_type = f"article.{event['action']}"
        targets = [endpoint_id for endpoint_id, types in subscribers if event_type in types]
        locale = event.get("locale") or default_locale
        data = {
            "id": str(event["entity_id"]),
            "slug": event["slug"],
            "locale": locale,
            "url": _delivery_path(event["slug"], locale, default_locale),
            "action": event["action"],
            "occurred_at": occurred_at,
        }
        enqueue(targets, event_type, data, keys[event["entity_id"]])


def _delivery_path(slug: str, locale: str, default_locale: str) -> str:
    """Where delivery serves the article: another locale's with the `?locale=` reading it."""
    path = article_path(slug)
    return path if locale == default_locale else f"{path}?locale={locale}"


def question_received(question: ReaderQuestion) -> None:
    """Queue `question.received`. The reader's email stays out: it is for editors only."""
    if not _subscribers({"question.received"}):
        return
    article = db.session.get(Article, question.article_id) if question.article_id else None
    topic = db.session.get(Topic, question.topic_id) if question.topic_id else None
    emit(
        "question.received",
        {
            "id": str(question.id),
            "question": question.question,
            "article": article.slug if article else None,
            "topic": topic.slug if topic else None,
            "received_at": iso_datetime(utcnow()),
            "admin_url": f"/v1/admin/questions/{question.id}",
        },
    )


def notify_reviews_due(articles: Iterable[Article]) -> int:
    """Queue one `review.due` per article and due date; a rerun adds nothing, and an
    endpoint registered later still hears of reviews that are due. Returns rows added."""
    subscribers = [endpoint_id for endpoint_id, _ in _subscribers({"review.due"})]
    if not subscribers:
        return 0
    added = 0
    default_locale = runtime.settings().default_locale
    for article in articles:
        if article.next_review_due is None:
            continue
        due = iso_date(article.next_review_due)
        data = {
            "id": str(article.id),
            "slug": article.slug,
            "locale": article.locale,
            "title": article.title,
            "url": _delivery_path(article.slug, article.locale, default_locale),
            "next_review_due": due,
            "last_reviewed_at": iso_date(article.last_reviewed_at),
        }
        event_id = uuid.uuid5(REVIEW_DUE_NAMESPACE, f"{article.id}:{due}")
        added += len(enqueue(subscribers, "review.due", data, (), event_id=event_id))
    return added
