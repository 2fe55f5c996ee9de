"""The stored documents: write and withdraw them (each change announced), read summaries back."""

from __future__ import annotations

import gzip
import json
import uuid
from datetime import date, datetime
from typing import Any

import brotli
from sqlalchemy import ColumnElement, and_, delete, or_, select, update

from cms_api.database import db, one_of
from cms_api.domain.clock import utcnow
from cms_api.domain.etags import etag_for
from cms_api.domain.formats import dumps
from cms_api.models import (
    Article,
    Faq,
    Person,
    PersonTranslation,
    PublishedDocument,
    Topic,
    TopicTranslation,
)
from cms_api.services import runtime
from cms_api.services.publishing import fanout, search_index

# How many article summaries a person's or topic's document embeds; the rest are a
# filtered /v1/articles query away.
EMBEDDED_ARTICLES = 50

_MODELS: dict[str, Any] = {"article": Article, "faq": Faq, "person": Person, "topic": Topic}
# A topic's or person's document in another locale is its translation's: (model, owner id).
_TRANSLATIONS: dict[str, tuple[Any, Any]] = {
    "person": (PersonTranslation, PersonTranslation.person_id),
    "topic": (TopicTranslation, TopicTranslation.topic_id),
}
# The documents topic and person pages list, and the tags that list them there.
_LISTED_KINDS = ("article", "faq")
# listed_articles (migration 0023) keeps the same prefixes of article documents.
_HUB_OF_TAG = {"topic": "topic", "author": "person", "reviewer": "person"}

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
    locale: str | None = None,
) -> dict[str, Any]:
    """A `published_documents` row for `upsert`, its ETag taken from the stored text; in
    `locale`, or the site's default locale."""
    body = dumps(document)
    locale = locale or runtime.settings().default_locale
    return {
        "kind": kind,
        "entity_id": entity_id,
        "locale": locale,
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
        # Not a column: for the search index, which would strip the HTML again otherwise.
        "search_texts": search_index.search_texts(kind, document, locale)
        if kind in search_index.INDEXED_KINDS
        else None,
    }


# The columns of `row`, in the order of `_UPSERT`'s arrays.
_COLUMNS = (
    ("kind", "text"),
    ("entity_id", "uuid"),
    ("locale", "text"),
    ("slug", "text"),
    ("body", "text"),
    ("body_gzip", "bytea"),
    ("body_br", "bytea"),
    ("summary", "text"),
    ("etag", "text"),
    ("tags", "text"),  # each a JSON array: arrays of arrays must be rectangular
    ("published_at", "timestamptz"),
    ("updated_at", "timestamptz"),
    ("title", "text"),
    ("sort_title", "text"),
    ("topic_slugs", "text"),  # likewise
    ("reviewed_on", "date"),
)
_ARRAYS = {"tags", "topic_slugs"}
# One statement with one array per column, whatever the number of rows: a VALUES list of
# bound rows would be a new statement text of thousands of parameters each time, which the
# driver parses anew. The arrays go in binary (`%b`): as text, every quote of every JSON
# body would be escaped. Rows are written (and announced) in the order given.
_UPSERT = f"""
INSERT INTO published_documents AS d ({", ".join(name for name, _ in _COLUMNS)})
SELECT {
    ", ".join(
        f"ARRAY(SELECT jsonb_array_elements_text(given.{name}::jsonb))"
        if name in _ARRAYS
        else f"given.{name}"
        for name, _ in _COLUMNS
    )
}
FROM unnest({", ".join(f"%({name})b::{kind}[]" for name, kind in _COLUMNS)})
    WITH ORDINALITY AS given({", ".join(name for name, _ in _COLUMNS)}, n)
ORDER BY given.n
ON CONFLICT (kind, entity_id) DO UPDATE SET
    {", ".join(f"{name} = excluded.{name}" for name, _ in _COLUMNS[2:] if name != "updated_at")},
    rendered_at = now(),
    -- A hub page (topic, person) may have been dated by a document that left it
    -- (`_hubs_changed`): re-rendering it from its own edit time must not undo that.
    updated_at = CASE
        WHEN d.kind IN ('person', 'topic') THEN greatest(d.updated_at, excluded.updated_at)
        ELSE excluded.updated_at
    END
-- Rewriting an identical document would only churn rendered_at; skip it.
WHERE d.etag IS DISTINCT FROM excluded.etag
    OR d.tags IS DISTINCT FROM excluded.tags
    OR d.summary IS DISTINCT FROM excluded.summary
-- xmax is 0 on a freshly inserted row version and set on an updated one.
RETURNING d.kind, d.entity_id, d.slug, d.locale, d.xmax = 0
"""


def upsert(rows: list[dict[str, Any]]) -> None:
    """Store these documents; those that changed are announced as published or updated."""
    if not rows:
        return
    before = _listing_tags([(item["kind"], item["entity_id"]) for item in rows])
    db.session.flush()  # the statement goes to the connection: what it follows goes first
    written = (
        db.session.connection()
        .exec_driver_sql(
            _UPSERT,
            {
                name: [dumps(item[name]) for item in rows]
                if name in _ARRAYS
                else [item[name] for item in rows]
                for name, _ in _COLUMNS
            },
        )
        .all()
    )
    fanout.announce(
        (
            (kind, entity_id, slug, "published" if inserted else "updated", locale)
            for kind, entity_id, slug, locale, inserted in written
        ),
        search_texts={(item["kind"], item["entity_id"]): item["search_texts"] for item in rows},
    )
    now_listed = {
        (item["kind"], item["entity_id"]): (item["locale"], set(item["tags"])) for item in rows
    }
    left: set[tuple[str, str]] = set()
    for key, (locale, tags) in before.items():
        # A document that moved to another locale left every hub page of its old one.
        now_locale, now_tags = now_listed[key]
        left |= {(locale, tag) for tag in tags - (now_tags if now_locale == locale else set())}
    _hubs_changed(left)


def withdraw(kind: str, *criteria: ColumnElement[bool]) -> None:
    """Remove documents of one kind from delivery, and announce it."""
    removed = db.session.execute(
        delete(PublishedDocument)
        .where(PublishedDocument.kind == kind, *criteria)
        .returning(
            PublishedDocument.entity_id,
            PublishedDocument.slug,
            PublishedDocument.tags,
            PublishedDocument.locale,
        )
    ).all()
    if not removed:
        return
    if kind in _LISTED_KINDS:
        _hubs_changed({(locale, tag) for _, _, tags, locale in removed for tag in tags})
    deleted = _deleted(kind, [(entity_id, locale) for entity_id, _, _, locale in removed])
    fanout.announce(
        (kind, entity_id, slug, "deleted" if entity_id in deleted else "unpublished", locale)
        for entity_id, slug, _, locale in removed
    )


def _deleted(kind: str, removed: list[tuple[uuid.UUID, str]]) -> set[uuid.UUID]:
    """Which of these withdrawn documents (entity id, locale) are gone for good, for feed
    readers: trashed content, a translation of a trashed topic or person, a translation
    deleted. Anything else merely left public view."""
    model = _MODELS[kind]
    default = runtime.settings().default_locale
    translated = {entity_id for entity_id, locale in removed if locale != default}
    if kind in _TRANSLATIONS and translated:
        translation, owner_id = _TRANSLATIONS[kind]
        kept = dict(
            db.session.execute(
                select(translation.id, model.deleted_at)
                .join(model, model.id == owner_id)
                .where(one_of(translation.id, translated))
            ).all()
        )
        gone = {item for item in translated if item not in kept or kept[item] is not None}
        own = [entity_id for entity_id, _ in removed if entity_id not in translated]
    else:
        gone, own = set(), [entity_id for entity_id, _ in removed]
    if not own:
        return gone
    return gone | set(
        db.session.scalars(
            select(model.id).where(one_of(model.id, own), model.deleted_at.is_not(None))
        )
    )


def _listing_tags(
    keys: list[tuple[str, uuid.UUID]],
) -> dict[tuple[str, uuid.UUID], tuple[str, set[str]]]:
    """The stored locale and tags of the listed documents (articles, FAQs) among these."""
    ids = [entity_id for kind, entity_id in keys if kind in _LISTED_KINDS]
    if not ids:
        return {}
    found = db.session.execute(
        select(
            PublishedDocument.kind,
            PublishedDocument.entity_id,
            PublishedDocument.locale,
            PublishedDocument.tags,
        ).where(PublishedDocument.kind.in_(_LISTED_KINDS), one_of(PublishedDocument.entity_id, ids))
    ).all()
    return {(kind, entity_id): (locale, set(tags)) for kind, entity_id, locale, tags in found}


def _hubs_changed(tags_left: set[tuple[str, str]]) -> None:
    """Date the topic and person pages that stopped listing a document as changed now:
    those in the document's locale, (locale, tag) by (locale, tag).

    A hub page's last change (its sitemap `lastmod`) is otherwise its own edit or its
    newest listed document's; a document that left it would change neither.
    """
    slugs: dict[tuple[str, str], set[str]] = {}
    for locale, tag in tags_left:
        prefix, _, slug = tag.partition(":")
        if prefix in _HUB_OF_TAG:
            slugs.setdefault((_HUB_OF_TAG[prefix], locale), set()).add(slug)
    wanted = [
        and_(
            PublishedDocument.kind == kind,
            PublishedDocument.locale == locale,
            one_of(PublishedDocument.slug, sorted(names)),
        )
        for (kind, locale), names in sorted(slugs.items())
    ]
    if wanted:
        db.session.execute(
            update(PublishedDocument).where(or_(*wanted)).values(updated_at=utcnow()),
            execution_options={"synchronize_session": False},
        )


def stored_summaries(kind: str, ids: set[uuid.UUID]) -> dict[uuid.UUID, dict[str, Any]]:
    """The summaries delivery holds for these documents, by entity id."""
    if not ids:
        return {}
    rows = db.session.execute(
        select(PublishedDocument.entity_id, PublishedDocument.summary).where(
            PublishedDocument.kind == kind, one_of(PublishedDocument.entity_id, ids)
        )
    ).all()
    return {entity_id: json.loads(summary) for entity_id, summary in rows}
