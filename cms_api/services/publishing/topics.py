"""Topic documents: the topic tree, each topic with its newest articles and FAQs, per locale."""

from __future__ import annotations

import uuid
from collections.abc import Iterable

from sqlalchemy import select, true
from sqlalchemy.orm import selectinload

from cms_api.database import db, none_of, one_of
from cms_api.domain.clock import utcnow
from cms_api.models import Faq, Person, PublishedDocument, Topic, TopicTranslation
from cms_api.services import runtime
from cms_api.services.publishing import images, search_index, store
from cms_api.services.publishing import render as rendering
from cms_api.services.publishing.faqs import topic_entry, topic_faq_row
from cms_api.services.publishing.listed import embedded_articles
from cms_api.services.publishing.render_lock import hold_render_lock


def refresh_topics(
    topic_ids: Iterable[uuid.UUID] | None = None,
    *,
    with_ancestors: bool = False,
    locales: Iterable[str] | None = None,
) -> None:
    """Render topic documents (all of them when `topic_ids` is None), in every locale.

    A topic has a document in the default locale, and one per translation (whose id it
    takes), listing the articles and FAQs published in that locale; `locales` limits
    the rendering to those locales' documents (FAQs are rendered in all). A translation
    removed since loses its document.

    A topic's list entry nests its whole subtree, so ancestors are rendered too when
    asked: their article lists include their descendants' articles.
    """
    hold_render_lock()
    query = select(Topic).options(
        selectinload(Topic.codes),
        selectinload(Topic.children).selectinload(Topic.codes),
        selectinload(Topic.translations),
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
    default = runtime.settings().default_locale
    labels = _labels(topics, default)
    wanted = None if locales is None else set(locales)
    # Each page: a topic in the default locale, or one of its translations.
    pages: list[tuple[Topic, str, TopicTranslation | None]] = []
    for topic_id in chosen:
        topic = by_id[topic_id]
        pages.append((topic, default, None))
        pages += [(topic, item.locale, item) for item in topic.translations]
    if wanted is not None:
        pages = [page for page in pages if page[1] in wanted]

    images.preload(by_id[topic_id].image_id for topic_id in chosen)
    # Readers see a topic FAQ's approved text, whatever newer text awaits review.
    topic_faqs = db.session.scalars(
        select(Faq)
        .where(
            one_of(Faq.topic_id, chosen), Faq.live_question.is_not(None), Faq.deleted_at.is_(None)
        )
        .order_by(Faq.position, Faq.id)
        .options(selectinload(Faq.reviewed_by).selectinload(Person.translations))
    ).all()
    faqs_by_topic: dict[uuid.UUID, list[Faq]] = {}
    for faq in topic_faqs:
        assert faq.topic_id is not None
        faqs_by_topic.setdefault(faq.topic_id, []).append(faq)

    listed = embedded_articles(
        {(locale, f"topic:{topic.slug}") for topic, locale, _ in pages if topic.deleted_at is None}
    )
    # Read all it renders: in bulk, the search index may have the connection meanwhile.
    search_index.start_queued()
    rows, faq_rows, hidden = [], [], []
    now = utcnow()
    for topic, locale, translation in pages:
        entity_id = translation.id if translation is not None else topic.id
        if topic.deleted_at is not None:
            hidden.append(entity_id)
            continue
        in_locale = labels.get(locale) or rendering.labels_in(locale)
        articles, total = listed[(locale, f"topic:{topic.slug}")]
        # A topic's page lists its FAQs written in the page's locale.
        faqs = [faq for faq in faqs_by_topic.get(topic.id, []) if faq.locale == locale]
        document = rendering.topic_document(
            topic, articles, total, [topic_entry(faq) for faq in faqs], in_locale
        )
        tags = {f"code:{item.system}:{item.code.upper()}" for item in topic.codes}
        tags.add("root" if topic.parent_id is None else f"parent:{by_id[topic.parent_id].slug}")
        # The shared part (tree, codes, image) and the translated text each date the page.
        edited = [topic.updated_at or now]
        if translation is not None:
            edited.append(translation.updated_at or now)
        rows.append(
            store.row(
                "topic",
                entity_id,
                slug=topic.slug,
                document=document,
                summary={**rendering.topic_tree(topic, in_locale), "locale": locale},
                tags=tags,
                published_at=(translation or topic).created_at or now,
                updated_at=max(edited),
                title=document["name"],
                reviewed_on=max(edited).date(),
                locale=locale,
            )
        )
    for topic_id in chosen:
        topic = by_id[topic_id]
        if topic.deleted_at is None:
            faq_rows += [
                topic_faq_row(faq, topic, _faq_labels(faq, labels))
                for faq in faqs_by_topic.get(topic_id, [])
            ]
    if hidden:
        store.withdraw("topic", one_of(PublishedDocument.entity_id, hidden))
    _withdraw_removed_translations([by_id[topic_id] for topic_id in chosen], default)
    # A topic FAQ never approved, trashed, or on a trashed topic loses its document.
    visible = [row["entity_id"] for row in faq_rows]
    store.withdraw(
        "faq",
        PublishedDocument.entity_id.in_(select(Faq.id).where(one_of(Faq.topic_id, chosen))),
        none_of(PublishedDocument.entity_id, visible) if visible else true(),
    )
    store.upsert(rows + faq_rows)


def _labels(topics: list[Topic], default: str) -> dict[str, rendering.Labels]:
    """By locale, what pages in it call every topic: a parent's or child's label too."""
    translated: dict[str, dict[str, TopicTranslation]] = {}
    for topic in topics:
        for item in topic.translations:
            translated.setdefault(item.locale, {})[topic.slug] = item
    found = {locale: rendering.Labels(locale, by_slug) for locale, by_slug in translated.items()}
    found[default] = rendering.Labels(default)
    return found


def _faq_labels(faq: Faq, labels: dict[str, rendering.Labels]) -> rendering.Labels:
    """What a topic FAQ's document, in its locale, calls its topic and its reviewer."""
    shown = labels.get(faq.locale) or rendering.labels_in(faq.locale)
    reviewer = faq.reviewed_by if faq.reviewed_by_id else None
    if reviewer is None:
        return shown
    translated = {item.locale: item for item in reviewer.translations}
    if faq.locale not in translated:
        return shown
    return rendering.Labels(shown.locale, shown.topics, {reviewer.slug: translated[faq.locale]})


def _withdraw_removed_translations(topics: list[Topic], default: str) -> None:
    """Withdraw the documents of these topics' translations that no longer exist (their
    documents share the topic's slug in another locale)."""
    current = [item.id for topic in topics for item in topic.translations]
    store.withdraw(
        "topic",
        one_of(PublishedDocument.slug, [topic.slug for topic in topics]),
        PublishedDocument.locale != default,
        none_of(PublishedDocument.entity_id, current) if current else true(),
    )
