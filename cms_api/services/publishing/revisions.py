"""Revisions: full snapshots of an article's editable content, recorded at every save."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import select, tuple_

from cms_api.database import db
from cms_api.models import Article, Revision, Section

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
    children: dict[uuid.UUID | None, list[Section]] = {}
    for section in sorted(article.all_sections, key=lambda item: item.position):
        children.setdefault(section.parent_id, []).append(section)
    return {
        **{name: getattr(article, name) for name in CONTENT_FIELDS},
        "sections": [_section(section, children) for section in children.get(None, [])],
        "citations": [
            {
                "title": item.title,
                "authors": item.authors,
                "publisher": item.publisher,
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
    }


def record(article: Article, *, reason: str, author_id: uuid.UUID | None = None) -> Revision:
    """Store the article's current content as its next revision."""
    article.revision_number = (article.revision_number or 0) + 1
    revision = Revision(
        article_id=article.id,
        number=article.revision_number,
        snapshot=snapshot(article),
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
