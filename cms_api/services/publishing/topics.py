"""Topic documents: the topic tree, each topic with its newest articles and its own FAQs."""

from __future__ import annotations

import uuid
from collections.abc import Iterable

from sqlalchemy import select, true
from sqlalchemy.orm import selectinload

from cms_api.database import db
from cms_api.domain.clock import utcnow
from cms_api.models import Faq, PublishedDocument, Topic
from cms_api.services.publishing import images, store
from cms_api.services.publishing import render as rendering
from cms_api.services.publishing.faqs import topic_entry, topic_faq_row
from cms_api.services.publishing.listed import embedded_articles
from cms_api.services.publishing.render_lock import hold_render_lock


def refresh_topics(
    topic_ids: Iterable[uuid.UUID] | None = None, *, with_ancestors: bool = False
) -> None:
    """Render topic documents (all of them when `topic_ids` is None).

    A topic's list entry nests its whole subtree, so ancestors are rendered too when
    asked: their article lists include their descendants' articles.
    """
    hold_render_lock()
    query = select(Topic).options(
        selectinload(Topic.codes),
        selectinload(Topic.children).selectinload(Topic.codes),
    )
    topics = db.session.scalars(query).all()  # topics are few; the tree needs them all
    by_id = {topic.id: topic for topic in topics}
    if topic_ids is None:
        chosen = set(by_id)
    else:
        chosen = {topic_id for topic_id in topic_ids if topic_id in by_id}
        if with_ancestors:
            for topic_id in list(chosen):
                parent_id = by_id[topic_id].parent_id
                while parent_id is not None and parent_id not in chosen:
                    chosen.add(parent_id)
                    parent_id = by_id[parent_id].parent_id
    if not chosen:
        return
    images.preload(by_id[topic_id].image_id for topic_id in chosen)
    # Readers see a topic FAQ's approved text, whatever newer text awaits review.
    topic_faqs = db.session.scalars(
        select(Faq)
        .where(Faq.topic_id.in_(chosen), Faq.live_question.is_not(None), Faq.deleted_at.is_(None))
        .order_by(Faq.position, Faq.id)
        .options(selectinload(Faq.reviewed_by))
    ).all()
    faqs_by_topic: dict[uuid.UUID, list[Faq]] = {}
    for faq in topic_faqs:
        assert faq.topic_id is not None
        faqs_by_topic.setdefault(faq.topic_id, []).append(faq)

    listed = embedded_articles(
        {
            f"topic:{by_id[topic_id].slug}"
            for topic_id in chosen
            if by_id[topic_id].deleted_at is None
        }
    )
    rows, faq_rows, hidden = [], [], []
    for topic_id in chosen:
        topic = by_id[topic_id]
        if topic.deleted_at is not None:
            hidden.append(topic.id)
            continue
        articles, total = listed[f"topic:{topic.slug}"]
        faqs = faqs_by_topic.get(topic.id, [])
        document = rendering.topic_document(
            topic, articles, total, [topic_entry(faq) for faq in faqs]
        )
        tags = {f"code:{item.system}:{item.code.upper()}" for item in topic.codes}
        tags.add("root" if topic.parent_id is None else f"parent:{by_id[topic.parent_id].slug}")
        now = utcnow()
        rows.append(
            store.row(
                "topic",
                topic.id,
                slug=topic.slug,
                document=document,
                summary=rendering.topic_tree(topic),
                tags=tags,
                published_at=topic.created_at or now,
                updated_at=topic.updated_at or now,
                title=topic.name,
                reviewed_on=(topic.updated_at or now).date(),
            )
        )
        faq_rows += [topic_faq_row(faq, topic) for faq in faqs]
    if hidden:
        store.withdraw("topic", PublishedDocument.entity_id.in_(hidden))
    # A topic FAQ never approved, trashed, or on a trashed topic loses its document.
    visible = [row["entity_id"] for row in faq_rows]
    store.withdraw(
        "faq",
        PublishedDocument.entity_id.in_(select(Faq.id).where(Faq.topic_id.in_(chosen))),
        PublishedDocument.entity_id.not_in(visible) if visible else true(),
    )
    store.upsert(rows + faq_rows)
