"""FAQ documents: a published FAQ of a public article or topic stands on its own in delivery."""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from typing import Any

from sqlalchemy import select, true

from cms_api.database import db
from cms_api.domain.clock import utcnow
from cms_api.models import Article, Faq, PublishedDocument, Topic
from cms_api.services.publishing import render as rendering
from cms_api.services.publishing import store


def public_faqs(article_ids: Iterable[uuid.UUID]) -> dict[uuid.UUID, list[Faq]]:
    """The published, untrashed FAQs of these articles, in their order, by article id."""
    faqs = db.session.scalars(
        select(Faq)
        .where(
            Faq.article_id.in_(list(article_ids)),
            Faq.status == "published",
            Faq.deleted_at.is_(None),
        )
        .order_by(Faq.article_id, Faq.position, Faq.id)
    ).all()
    grouped: dict[uuid.UUID, list[Faq]] = {}
    for faq in faqs:
        assert faq.article_id is not None
        grouped.setdefault(faq.article_id, []).append(faq)
    return grouped


def refresh_faqs_of(
    live: dict[uuid.UUID, rendering.LiveArticle],
    articles: Iterable[Article],
    public_faqs: dict[uuid.UUID, list[Faq]],
) -> None:
    """Render the FAQs of public articles; drop the documents of every other FAQ."""
    visible = {
        faq.id for article_id, faqs in public_faqs.items() if article_id in live for faq in faqs
    }
    store.withdraw(
        "faq",
        PublishedDocument.entity_id.in_(
            select(Faq.id).where(Faq.article_id.in_([article.id for article in articles]))
        ),
        PublishedDocument.entity_id.not_in(visible) if visible else true(),
    )
    rows = [
        faq_row(faq, topics=live[article_id].topics, title=live[article_id].content["title"])
        for article_id, faqs in public_faqs.items()
        if article_id in live
        for faq in faqs
    ]
    store.upsert(rows)


def faq_row(faq: Faq, topics: list[Topic], title: str | None = None) -> dict[str, Any]:
    """The stored row of a FAQ; an article's FAQ names the article by its live `title`."""
    published_at = faq.published_at or (faq.article.published_at if faq.article else None)
    published_at = published_at or utcnow()
    faq.published_at = faq.published_at or published_at
    tags = {f"topic:{topic.slug}" for topic in topics}
    if faq.article:
        tags.add(f"article:{faq.article.slug}")
    document = rendering.faq_document(faq, article_title=title)
    return store.row(
        "faq",
        faq.id,
        slug=None,
        document=document,
        summary=document,
        tags=tags,
        published_at=published_at,
        updated_at=faq.updated_at or published_at,
        title=faq.question,
        reviewed_on=published_at.date(),
    )
