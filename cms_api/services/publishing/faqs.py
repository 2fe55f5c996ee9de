"""FAQ documents: the reviewed FAQs of public articles and topics, each standing on its own."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterable
from datetime import datetime
from typing import Any

from sqlalchemy import func, select, true, update

from cms_api.database import db, one_of
from cms_api.models import Article, Faq, PublishedDocument, Topic
from cms_api.services.publishing import render as rendering
from cms_api.services.publishing import revisions, store
from cms_api.services.publishing.markdown import to_html


def public_faqs(live: dict[uuid.UUID, rendering.LiveArticle]) -> dict[uuid.UUID, list[Any]]:
    """The FAQs readers see on each article: those of the revision it shows, by article id.

    They are the article's reviewed content, so an edit waits with the article's next
    revision; a revision recorded before FAQs were kept in revisions shows none.
    """
    return {article_id: list(item.content.get("faqs") or []) for article_id, item in live.items()}


def shown_faqs(
    live: dict[uuid.UUID, rendering.LiveArticle],
    public_faqs: dict[uuid.UUID, list[dict[str, Any]]],
) -> list[tuple[dict[str, Any], Faq, rendering.LiveArticle]]:
    """The FAQs public articles show that still belong to them: each with its entry in
    the live revision, its row and its article.

    A FAQ's own document follows where it belongs now: one moved to a topic since the
    live revision keeps its place in the article, and gets its document from the topic.
    """
    entries = {
        uuid.UUID(entry["id"]): (article_id, entry)
        for article_id, faqs in public_faqs.items()
        if article_id in live
        for entry in faqs
    }
    found = {
        faq.id: faq for faq in db.session.scalars(select(Faq).where(one_of(Faq.id, entries.keys())))
    }
    return [
        (entry, found[faq_id], live[article_id])
        for faq_id, (article_id, entry) in entries.items()
        if faq_id in found and found[faq_id].article_id == article_id
    ]


def store_article_faqs(articles: Iterable[Article], rows: list[dict[str, Any]]) -> None:
    """Store the rendered FAQ documents (`article_faq_row`) of these articles; the
    documents of their other FAQs go."""
    kept = [row["entity_id"] for row in rows]
    store.withdraw(
        "faq",
        PublishedDocument.entity_id.in_(
            select(Faq.id).where(one_of(Faq.article_id, [article.id for article in articles]))
        ),
        ~one_of(PublishedDocument.entity_id, kept) if kept else true(),
    )
    store.upsert(rows)


def article_faq_row(entry: dict[str, Any], faq: Faq, live: rendering.LiveArticle) -> dict[str, Any]:
    """The stored row of an article's FAQ as its live revision has it."""
    article = live.article
    # Publishing dates FAQs; one published before it did counts from its article.
    published_at = faq.published_at or article.published_at or faq.created_at
    updated_at = faq.live_updated_at or published_at
    document = rendering.faq_document(
        entry,
        article={"slug": article.slug, "title": live.content["title"]},
        topic=None,
        published_at=published_at,
        updated_at=updated_at,
        labels=live.in_locale,
    )
    tags = {f"topic:{topic.slug}" for topic in live.topics} | {f"article:{article.slug}"}
    return _row(faq, document, tags, entry["question"], published_at, updated_at)


def topic_faq_row(faq: Faq, topic: Topic, labels: rendering.Labels | None = None) -> dict[str, Any]:
    """The stored row of a topic's FAQ: its approved text, its reviewer and review date,
    in its locale (`labels`, in the FAQ's locale, name its topic)."""
    assert faq.live_question is not None and faq.live_answer is not None
    published_at = faq.published_at or faq.created_at
    updated_at = faq.live_updated_at or published_at
    entry = {
        "id": str(faq.id),
        "question": faq.live_question,
        "answer": faq.live_answer,
        "position": faq.position,
    }
    document = rendering.faq_document(
        entry,
        article=None,
        topic=topic,
        published_at=published_at,
        updated_at=updated_at,
        reviewed_by=faq.reviewed_by if faq.reviewed_by_id else None,
        reviewed_on=faq.reviewed_on,
        labels=labels or rendering.labels_in(faq.locale),
    )
    row = _row(faq, document, {f"topic:{topic.slug}"}, faq.live_question, published_at, updated_at)
    return row | ({"reviewed_on": faq.reviewed_on} if faq.reviewed_on else {})


def topic_entry(faq: Faq) -> dict[str, Any]:
    """A topic FAQ as its topic's page lists it: the approved text."""
    return {
        "id": str(faq.id),
        "question": faq.live_question,
        "answer": faq.live_answer,
        "position": faq.position,
    }


def _row(
    faq: Faq,
    document: dict[str, Any],
    tags: set[str],
    title: str,
    published_at: datetime,
    updated_at: datetime,
) -> dict[str, Any]:
    return store.row(
        "faq",
        faq.id,
        slug=None,
        document=document,
        summary=document,
        tags=tags,
        published_at=published_at,
        updated_at=updated_at,
        title=title,
        reviewed_on=published_at.date(),
        locale=document["locale"],
    )


def date_live_faqs(
    articles: Iterable[Article],
    when: datetime,
    recorded: dict[uuid.UUID, dict[str, Any]] | None = None,
) -> None:
    """Date the FAQs a publish puts in front of readers: the publish step, not rendering.

    A FAQ new to readers is published now; one whose text readers saw differently (in
    its stored document) is updated now; one readers already see as it is keeps its dates.
    `recorded` holds the snapshots of live revisions the caller has just recorded, by
    article id (the others are read).
    """
    recorded = recorded or {}
    keys = [
        (article.id, article.live_revision)
        for article in articles
        if article.live_revision and article.id not in recorded
    ]
    contents = list(revisions.snapshots(keys).values()) + [
        recorded[article.id] for article in articles if article.id in recorded
    ]
    entries = {
        uuid.UUID(entry["id"]): entry for content in contents for entry in content.get("faqs") or []
    }
    if not entries:
        return
    stored = {
        entity_id: json.loads(body)
        for entity_id, body in db.session.execute(
            select(PublishedDocument.entity_id, PublishedDocument.body).where(
                PublishedDocument.kind == "faq", one_of(PublishedDocument.entity_id, entries)
            )
        )
    }
    changed = [
        faq_id
        for faq_id, entry in entries.items()
        if faq_id not in stored
        or stored[faq_id]["question"] != entry["question"]
        or stored[faq_id]["answer_html"] != to_html(entry["answer"])
    ]
    if not changed:
        return
    # Core statements: dating a FAQ is not an editor's edit, so neither its version (its
    # admin ETag) nor its `updated_at` moves.
    db.session.execute(
        update(Faq)
        .where(one_of(Faq.id, changed))
        .values(
            published_at=func.coalesce(Faq.published_at, when),
            live_updated_at=when,
            updated_at=Faq.updated_at,
        ),
        execution_options={"synchronize_session": "fetch"},
    )
