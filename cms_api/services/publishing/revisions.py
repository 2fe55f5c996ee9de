"""Revisions: full snapshots of an article's editable content, recorded at every save."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import select, tuple_
from sqlalchemy.orm import selectinload

from cms_api.database import db
from cms_api.models import Article, Faq, RelatedLink, Revision, Section

# The editable fields a revision keeps, besides sections, citations, authors and topics.
CONTENT_FIELDS = (
    "title",
    "summary",
    "disclaimer",
    "call_to_actions",
    "meta_title",
    "meta_description",
    "canonical_url",
    "review_interval_months",
    "disclosures",
)


# What a snapshot of an article's working copy reads of it, loaded with many articles at
# once; its FAQs and links are read for many in two queries (`snapshots_of`).
SNAPSHOT_GRAPH = (
    selectinload(Article.all_sections),
    selectinload(Article.citations),
    selectinload(Article.authorships),
    selectinload(Article.topic_links),
)


def _section(section: Section, children: dict[uuid.UUID | None, list[Section]]) -> dict[str, Any]:
    return {
        "key": section.key,
        "heading": section.heading,
        "body": section.body,
        "subsections": [_section(child, children) for child in children.get(section.id, [])],
    }


def snapshot(article: Article) -> dict[str, Any]:
    """The article's editable content as plain JSON: what a revision stores."""
    return _snapshot(article, faqs(article), links(article))


def _snapshot(
    article: Article, faq_entries: list[dict[str, Any]], link_entries: list[dict[str, Any]]
) -> dict[str, Any]:
    children: dict[uuid.UUID | None, list[Section]] = {}
    for section in sorted(article.all_sections, key=lambda item: item.position):
        children.setdefault(section.parent_id, []).append(section)
    content = {
        **{name: getattr(article, name) for name in CONTENT_FIELDS},
        # Readers see a new lead image when the revision choosing it goes live.
        "lead_image_id": str(article.lead_image_id) if article.lead_image_id else None,
        "sections": [_section(section, children) for section in children.get(None, [])],
        "citations": [
            {
                "title": item.title,
                "authors": item.authors,
                "publisher": item.publisher,
                "periodical": item.periodical,
                "year": item.year,
                "doi": item.doi,
                "pmid": item.pmid,
                "url": item.url,
            }
            for item in sorted(article.citations, key=lambda item: item.position)
        ],
        "authors": [
            str(link.person_id) for link in sorted(article.authorships, key=lambda x: x.position)
        ],
        "topics": [
            str(link.topic_id) for link in sorted(article.topic_links, key=lambda x: x.position)
        ],
        "faqs": faq_entries,
        "links": link_entries,
    }
    if article.source_id is not None:
        # The revision of the original a translation's text reflects: readers are told
        # it (and whether the original has moved on since) once this revision goes live.
        content["source_revision"] = article.source_revision
    return content


def faqs(article: Article) -> list[dict[str, Any]]:
    """The article's FAQs as its content: those not kept out as drafts, in their order.

    Read from the database (not a relationship) so a write just flushed is always seen.
    """
    return _faqs_of([article.id]).get(article.id, [])


def _faqs_of(article_ids: list[uuid.UUID]) -> dict[uuid.UUID, list[dict[str, Any]]]:
    rows = db.session.execute(
        select(Faq.article_id, Faq.id, Faq.question, Faq.answer, Faq.position)
        .where(Faq.article_id.in_(article_ids), Faq.status == "published", Faq.deleted_at.is_(None))
        .order_by(Faq.article_id, Faq.position, Faq.id)
    )
    found: dict[uuid.UUID, list[dict[str, Any]]] = {}
    for article_id, faq_id, question, answer, position in rows:
        found.setdefault(article_id, []).append(
            {"id": str(faq_id), "question": question, "answer": answer, "position": position}
        )
    return found


def links(article: Article) -> list[dict[str, Any]]:
    """The anchor texts of the article's links: words readers read as the article's own."""
    return _links_of([article.id]).get(article.id, [])


def _links_of(article_ids: list[uuid.UUID]) -> dict[uuid.UUID, list[dict[str, Any]]]:
    rows = db.session.execute(
        select(RelatedLink.source_id, RelatedLink.target_id, RelatedLink.anchor_text)
        .where(RelatedLink.source_id.in_(article_ids), RelatedLink.deleted_at.is_(None))
        .order_by(RelatedLink.source_id, RelatedLink.position, RelatedLink.id)
    )
    found: dict[uuid.UUID, list[dict[str, Any]]] = {}
    for source_id, target_id, anchor in rows:
        found.setdefault(source_id, []).append({"target_id": str(target_id), "anchor_text": anchor})
    return found


def record(article: Article, *, reason: str, author_id: uuid.UUID | None = None) -> Revision:
    """Store the article's current content as its next revision.

    A schedule publishes the approved revision it was set for: a new revision cancels it,
    and `schedule_cancelled` tells the caller to say so.
    """
    return _record(article, snapshot(article), reason=reason, author_id=author_id)


def record_many(articles: list[Article], *, reason: str) -> list[Revision]:
    """`record` for many articles, their FAQs and links read in two queries in all (and
    nothing flushed between one article's revision and the next)."""
    contents = snapshots_of(articles)
    return [
        _record(article, contents[article.id], reason=reason, author_id=None)
        for article in articles
    ]


def snapshots_of(articles: list[Article]) -> dict[uuid.UUID, dict[str, Any]]:
    """`snapshot` of each of these articles (loaded with SNAPSHOT_GRAPH), by id: their FAQs
    and links read in two queries in all."""
    if not articles:
        return {}
    ids = [article.id for article in articles]
    faq_entries, link_entries = _faqs_of(ids), _links_of(ids)
    return {
        article.id: _snapshot(
            article, faq_entries.get(article.id, []), link_entries.get(article.id, [])
        )
        for article in articles
    }


def _record(
    article: Article, content: dict[str, Any], *, reason: str, author_id: uuid.UUID | None
) -> Revision:
    if article.publish_at is not None:
        article.publish_at = None
        article.publish_at_revision = None
        article.schedule_cancelled = True
    article.revision_number = (article.revision_number or 0) + 1
    revision = Revision(
        article_id=article.id,
        number=article.revision_number,
        snapshot=content,
        author_id=author_id,
        reason=reason,
    )
    db.session.add(revision)
    return revision


def snapshots(keys: list[tuple[uuid.UUID, int]]) -> dict[uuid.UUID, dict[str, Any]]:
    """The snapshots of the given (article id, revision number) pairs, by article id."""
    if not keys:
        return {}
    rows = db.session.execute(
        select(Revision.article_id, Revision.snapshot).where(
            tuple_(Revision.article_id, Revision.number).in_(keys)
        )
    ).all()
    return dict(rows)
