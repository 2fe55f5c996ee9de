"""Reads of published documents: one-row lookups per locale, and where else a slug is published."""

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
from cms_api.services import runtime
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


@dataclass(frozen=True)
class Translation:
    """Where the same work is published in a locale: its slug there."""

    locale: str
    slug: str


# The reads behind every detail request, as plain SQL: they run thousands of times a
# second, and skipping statement construction and compilation halves their cost. Each
# names the locale, so that a slug read is one probe of the (kind, locale, slug) index
# (slugs are unique per locale only: a topic's is the same in every locale).
_DOCUMENT_BY_SLUG = (
    "SELECT body, etag FROM published_documents "
    "WHERE kind = %(kind)s AND locale = %(locale)s AND slug = %(key)s"
)
_DOCUMENT_BY_ID = (
    "SELECT body, etag FROM published_documents "
    "WHERE kind = %(kind)s AND entity_id = %(key)s AND locale = %(locale)s"
)
_ETAG_BY_SLUG = (
    "SELECT etag FROM published_documents "
    "WHERE kind = %(kind)s AND locale = %(locale)s AND slug = %(key)s"
)
# The published documents of the works that have an article at this slug, or had (a former
# slug), in any of the site's locales: a work is an original and its translations
# (`source_id`). Each step is an index probe: (locale, slug) of articles and of former
# slugs, the primary key and (source_id, locale) of the work's articles, and the documents'.
_ARTICLE_TRANSLATIONS = """
WITH work AS (
    SELECT coalesce(source_id, id) AS id FROM articles
    WHERE locale = ANY(%(locales)s) AND slug = %(slug)s
    UNION
    SELECT coalesce(a.source_id, a.id) FROM article_slugs AS s
    JOIN articles AS a ON a.id = s.article_id
    WHERE s.locale = ANY(%(locales)s) AND s.slug = %(slug)s
)
SELECT DISTINCT d.locale, d.slug
FROM work
JOIN articles AS member ON member.id = work.id OR member.source_id = work.id
JOIN published_documents AS d ON d.kind = 'article' AND d.entity_id = member.id
ORDER BY d.locale, d.slug
"""
# Topics and people share their slug across locales: the locales it is published in.
_LOCALES_OF_SLUG = """
SELECT locale, slug FROM published_documents
WHERE kind = %(kind)s AND slug = %(slug)s AND locale = ANY(%(locales)s)
ORDER BY locale
"""


def default_locale() -> str:
    return runtime.settings().default_locale


def get_document(
    kind: str,
    *,
    slug: str | None = None,
    entity_id: uuid.UUID | None = None,
    locale: str | None = None,
) -> StoredDocument | None:
    """The stored document at this slug (or id) in `locale` (default: the site's)."""
    sql, key = (_DOCUMENT_BY_SLUG, slug) if slug is not None else (_DOCUMENT_BY_ID, entity_id)
    params = {"kind": kind, "key": key, "locale": locale or default_locale()}
    with reading() as connection:
        row = connection.exec_driver_sql(sql, params).first()
    return StoredDocument(body=row[0], etag=row[1]) if row else None


def get_etag(kind: str, slug: str, locale: str | None = None) -> str | None:
    params = {"kind": kind, "key": slug, "locale": locale or default_locale()}
    with reading() as connection:
        return connection.exec_driver_sql(_ETAG_BY_SLUG, params).scalar()


def current_slug_for(former_slug: str, locale: str | None = None) -> str | None:
    """The slug a published article in `locale` answers to now, if it used to answer to
    `former_slug` there."""
    locale = locale or default_locale()
    with reading() as connection:
        return connection.scalar(
            select(Doc.slug)
            .join(ArticleSlug, ArticleSlug.article_id == Doc.entity_id)
            .where(
                Doc.kind == "article",
                Doc.locale == locale,
                ArticleSlug.locale == locale,
                ArticleSlug.slug == former_slug,
            )
        )


def article_translations(slug: str) -> list[Translation]:
    """The published articles of the works with an article at this slug (or a former
    slug) in any locale, drafts included in the search, by locale."""
    params = {"slug": slug, "locales": runtime.settings().locales}
    with reading() as connection:
        rows = connection.exec_driver_sql(_ARTICLE_TRANSLATIONS, params).all()
    return [Translation(locale, found) for locale, found in rows]


def slug_locales(kind: str, slug: str) -> list[Translation]:
    """The site's locales a topic or person is published in at this slug, by locale."""
    params = {"kind": kind, "slug": slug, "locales": runtime.settings().locales}
    with reading() as connection:
        rows = connection.exec_driver_sql(_LOCALES_OF_SLUG, params).all()
    return [Translation(locale, found) for locale, found in rows]


def article_exists(slug: str) -> bool:
    return db.session.scalar(select(func.count()).where(Article.slug == slug)) > 0
