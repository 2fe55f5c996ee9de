"""Reads of published documents: one-row lookups and keyset-paginated, filtered lists."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from flask import current_app
from sqlalchemy import ColumnElement, Connection, func, select, tuple_

from cms_api.errors import InvalidParameter
from cms_api.extensions import db
from cms_api.http import decode_cursor, encode_cursor
from cms_api.models import Article, ArticleSlug, PublishedDocument

Doc = PublishedDocument
# app.extensions key of a connection every read should use instead of the delivery pool:
# the test suite sets it so reads see the data of its rolled-back transaction.
SHARED_READ_CONNECTION = "cms_api.read_connection"

# sort name → (column, descending, how a cursor value is read back)
SORTS: dict[str, tuple[Any, bool, Any]] = {
    "-published_at": (Doc.published_at, True, datetime.fromisoformat),
    "published_at": (Doc.published_at, False, datetime.fromisoformat),
    "-updated_at": (Doc.updated_at, True, datetime.fromisoformat),
    "title": (Doc.sort_title, False, str),
    "name": (Doc.sort_title, False, str),
    "question": (Doc.sort_title, False, str),
    "-last_reviewed_at": (Doc.reviewed_on, True, date.fromisoformat),
}


@dataclass(frozen=True)
class Page:
    items: list[str]
    limit: int
    next_cursor: str | None
    total: int


@dataclass(frozen=True)
class StoredDocument:
    body: str
    etag: str


@contextmanager
def reading() -> Iterator[Connection]:
    """A connection from the delivery pool, in autocommit mode: a read is one round trip,
    with no BEGIN before it and no ROLLBACK after it."""
    shared = current_app.extensions.get(SHARED_READ_CONNECTION)
    if shared is not None:
        yield shared
        return
    with db.engines["delivery"].connect() as connection:
        yield connection


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


def list_documents(
    kind: str,
    *,
    tags: list[str],
    sort: str,
    limit: int,
    cursor: str | None = None,
    updated_since: datetime | None = None,
) -> Page:
    column, descending, parse = SORTS[sort]
    filters: list[ColumnElement[bool]] = [Doc.kind == kind]
    if tags:
        filters.append(Doc.tags.contains(tags))
    if updated_since is not None:
        filters.append(Doc.updated_at >= updated_since)

    # The total rides along with the page, so a list is one round trip.
    count = select(func.count()).select_from(Doc).where(*filters)
    query = select(Doc.summary, column, Doc.entity_id, count.scalar_subquery()).where(*filters)
    if cursor:
        raw_value, raw_id = decode_cursor(cursor, sort, 2)
        try:
            value, last_id = parse(raw_value), uuid.UUID(str(raw_id))
        except (TypeError, ValueError):
            raise InvalidParameter(
                "Query parameter 'cursor': not a cursor issued for this listing.",
                errors={"query": {"cursor": ["Invalid cursor."]}},
            ) from None
        key = tuple_(column, Doc.entity_id)
        query = query.where(key < (value, last_id) if descending else key > (value, last_id))
    if descending:
        query = query.order_by(column.desc(), Doc.entity_id.desc())
    else:
        query = query.order_by(column.asc(), Doc.entity_id.asc())
    with reading() as connection:
        rows = connection.execute(query.limit(limit + 1)).all()
        # Past the last page there is no row to carry the total.
        total = rows[0][3] if rows else connection.scalar(count) or 0

    next_cursor = None
    if len(rows) > limit:
        rows = rows[:limit]
        last = rows[-1]
        next_cursor = encode_cursor(sort, [_cursor_value(last[1]), str(last[2])])
    return Page(items=[row[0] for row in rows], limit=limit, next_cursor=next_cursor, total=total)


def _cursor_value(value: Any) -> Any:
    return value.isoformat() if isinstance(value, datetime | date) else value
