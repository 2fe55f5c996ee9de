"""Reads of published documents: one-row lookups and keyset-paginated, filtered lists."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select

from cms_api.database import db
from cms_api.domain.paging import (
    Keyset,
    aware_datetime,
    calendar_date,
    text,
    uuid_value,
)
from cms_api.models import Article, ArticleSlug, PublishedDocument
from cms_api.services.runtime import reading

Doc = PublishedDocument

# sort name → (column, descending, how its cursor value is read back); the keyset is
# (column, entity id), and a cursor carries the sort's name as its listing.
SORTS: dict[str, tuple[Any, bool, Any]] = {
    "-published_at": (Doc.published_at, True, aware_datetime),
    "published_at": (Doc.published_at, False, aware_datetime),
    "-updated_at": (Doc.updated_at, True, aware_datetime),
    "title": (Doc.sort_title, False, text),
    "name": (Doc.sort_title, False, text),
    "question": (Doc.sort_title, False, text),
    "-last_reviewed_at": (Doc.reviewed_on, True, calendar_date),
}
KEYSETS = {sort: Keyset(sort, (parse, uuid_value)) for sort, (_, _, parse) in SORTS.items()}


@dataclass(frozen=True)
class StoredDocument:
    body: str
    etag: str


# The two reads behind every article request, as plain SQL: they run thousands of times a
# second, and skipping statement construction and compilation halves their cost.
_DOCUMENT_BY_SLUG = (
    "SELECT body, etag FROM published_documents WHERE kind = %(kind)s AND slug = %(key)s"
)
_DOCUMENT_BY_ID = (
    "SELECT body, etag FROM published_documents WHERE kind = %(kind)s AND entity_id = %(key)s"
)
_ETAG_BY_SLUG = "SELECT etag FROM published_documents WHERE kind = %(kind)s AND slug = %(key)s"


def get_document(
    kind: str, *, slug: str | None = None, entity_id: uuid.UUID | None = None
) -> StoredDocument | None:
    sql, key = (_DOCUMENT_BY_SLUG, slug) if slug is not None else (_DOCUMENT_BY_ID, entity_id)
    with reading() as connection:
        row = connection.exec_driver_sql(sql, {"kind": kind, "key": key}).first()
    return StoredDocument(body=row[0], etag=row[1]) if row else None


def get_etag(kind: str, slug: str) -> str | None:
    with reading() as connection:
        return connection.exec_driver_sql(_ETAG_BY_SLUG, {"kind": kind, "key": slug}).scalar()


def current_slug_for(former_slug: str) -> str | None:
    """The slug a published article answers to now, if it used to answer to `former_slug`."""
    with reading() as connection:
        return connection.scalar(
            select(Doc.slug)
            .join(ArticleSlug, ArticleSlug.article_id == Doc.entity_id)
            .where(Doc.kind == "article", ArticleSlug.slug == former_slug)
        )


def article_exists(slug: str) -> bool:
    return db.session.scalar(select(func.count()).where(Article.slug == slug)) > 0
