"""The stored documents: write and withdraw them (each change announced), read summaries back."""

from __future__ import annotations

import gzip
import json
import uuid
from datetime import date, datetime
from typing import Any

import brotli
from sqlalchemy import ColumnElement, delete, func, literal_column, select
from sqlalchemy.dialects.postgresql import insert

from cms_api.database import db
from cms_api.domain.etags import etag_for
from cms_api.domain.formats import dumps
from cms_api.models import Article, Faq, Person, PublishedDocument, Topic
from cms_api.services.publishing import fanout

# How many article summaries a person's or topic's document embeds; the rest are a
# filtered /v1/articles query away.
EMBEDDED_ARTICLES = 50

_MODELS: dict[str, Any] = {"article": Article, "faq": Faq, "person": Person, "topic": Topic}

# Each stored document is compressed once, at publishing, and served as is to every client
# that accepts it. These settings cost about 0.3 + 0.5 ms on a 33 KB article (bench/README.md)
# for 3.7x and 3.9x smaller: higher ones cost far more for a few percent.
GZIP_LEVEL = 4
BROTLI_QUALITY = 5


def compressed(body: str) -> dict[str, bytes]:
    """The body's stored compressed forms, as `published_documents` columns."""
    data = body.encode()
    return {
        # mtime=0: the same body always compresses to the same bytes.
        "body_gzip": gzip.compress(data, GZIP_LEVEL, mtime=0),
        "body_br": brotli.compress(data, quality=BROTLI_QUALITY),
    }


def row(
    kind: str,
    entity_id: uuid.UUID,
    *,
    slug: str | None,
    document: dict[str, Any],
    summary: dict[str, Any],
    tags: set[str],
    published_at: datetime,
    updated_at: datetime,
    title: str,
    reviewed_on: date,
    topic_slugs: list[str] | None = None,
) -> dict[str, Any]:
    """A `published_documents` row for `upsert`, its ETag taken from the stored text."""
    body = dumps(document)
    return {
        "kind": kind,
        "entity_id": entity_id,
        "slug": slug,
        "body": body,
        **compressed(body),
        "summary": dumps(summary),
        "etag": etag_for(body),
        "tags": sorted(tags),
        "published_at": published_at,
        "updated_at": updated_at,
        "title": title,
        "sort_title": title.casefold(),
        "topic_slugs": topic_slugs or [],
        "reviewed_on": reviewed_on,
    }


def upsert(rows: list[dict[str, Any]]) -> None:
    """Store these documents; those that changed are announced as published or updated."""
    if not rows:
        return
    statement = insert(PublishedDocument)
    columns = {
        name: statement.excluded[name] for name in rows[0] if name not in ("kind", "entity_id")
    }
    columns["rendered_at"] = func.now()
    # One statement executed for many rows (batched by SQLAlchemy), not a statement the
    # size of the batch compiled anew each time.
    written = db.session.execute(
        statement.on_conflict_do_update(
            index_elements=["kind", "entity_id"],
            set_=columns,
            # Rewriting an identical document would only churn rendered_at; skip it.
            where=PublishedDocument.etag.is_distinct_from(statement.excluded.etag)
            | PublishedDocument.tags.is_distinct_from(statement.excluded.tags)
            | PublishedDocument.summary.is_distinct_from(statement.excluded.summary),
        ).returning(
            PublishedDocument.kind,
            PublishedDocument.entity_id,
            PublishedDocument.slug,
            # xmax is 0 on a freshly inserted row version and set on an updated one.
            literal_column("xmax = 0"),
        ),
        rows,
    ).all()
    fanout.announce(
        (kind, entity_id, slug, "published" if inserted else "updated")
        for kind, entity_id, slug, inserted in written
    )


def withdraw(kind: str, *criteria: ColumnElement[bool]) -> None:
    """Remove documents of one kind from delivery, and announce it."""
    removed = db.session.execute(
        delete(PublishedDocument)
        .where(PublishedDocument.kind == kind, *criteria)
        .returning(PublishedDocument.entity_id, PublishedDocument.slug)
    ).all()
    if not removed:
        return
    # Trashed content is "deleted" for feed readers; anything else merely left public view.
    model = _MODELS[kind]
    trashed = set(
        db.session.scalars(
            select(model.id).where(
                model.id.in_([entity_id for entity_id, _ in removed]),
                model.deleted_at.is_not(None),
            )
        )
    )
    fanout.announce(
        (kind, entity_id, slug, "deleted" if entity_id in trashed else "unpublished")
        for entity_id, slug in removed
    )


def stored_summaries(kind: str, ids: set[uuid.UUID]) -> dict[uuid.UUID, dict[str, Any]]:
    """The summaries delivery holds for these documents, by entity id."""
    if not ids:
        return {}
    rows = db.session.execute(
        select(PublishedDocument.entity_id, PublishedDocument.summary).where(
            PublishedDocument.kind == kind, PublishedDocument.entity_id.in_(ids)
        )
    ).all()
    return {entity_id: json.loads(summary) for entity_id, summary in rows}


def embedded_articles(tag: str) -> tuple[list[dict[str, Any]], int]:
    """The newest stored article summaries with this tag, and how many have it in all."""
    where = (PublishedDocument.kind == "article", PublishedDocument.tags.contains([tag]))
    summaries = db.session.scalars(
        select(PublishedDocument.summary)
        .where(*where)
        .order_by(PublishedDocument.published_at.desc(), PublishedDocument.entity_id.desc())
        .limit(EMBEDDED_ARTICLES)
    ).all()
    total = len(summaries)
    if total == EMBEDDED_ARTICLES:
        total = db.session.scalar(select(func.count()).where(*where)) or 0
    return [json.loads(summary) for summary in summaries], total
