"""Red flags' published guidance: rendered once when published, stored, withdrawn, re-rendered."""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from typing import Any

from sqlalchemy import delete, select

from cms_api.database import db
from cms_api.domain.clock import utcnow
from cms_api.domain.formats import iso_date, iso_datetime
from cms_api.models import PublishedDocument, RedFlag
from cms_api.services.publishing import fanout, markdown, store

KIND = "red_flag"


def document(red_flag: RedFlag) -> dict[str, Any]:
    """The public JSON of the guidance: what `/v1/red-flags` lists and answers embed."""
    reviewer = red_flag.reviewed_by
    return {
        "id": str(red_flag.id),
        "slug": red_flag.slug,
        "name": red_flag.name,
        "locale": red_flag.locale,
        "priority": red_flag.priority,
        "title": red_flag.title,
        "body_html": markdown.to_html(red_flag.body),
        "action": {"label": red_flag.action_label, "url": red_flag.action_url},
        "triggers": list(red_flag.triggers),
        "reviewed_by": {"slug": reviewer.slug, "name": reviewer.name} if reviewer else None,
        "reviewed_on": iso_date(red_flag.reviewed_on),
        "published_at": iso_datetime(red_flag.published_at),
        "updated_at": iso_datetime(red_flag.updated_at),
    }


def publish_documents(red_flags: Iterable[RedFlag]) -> None:
    """Render and store the guidance of these red flags as they stand (the caller has
    checked they are approved), announcing the change."""
    db.session.flush()
    rows = []
    for red_flag in red_flags:
        body = document(red_flag)
        row = store.row(
            KIND,
            red_flag.id,
            slug=red_flag.slug,
            document=body,
            summary=body,
            tags={f"locale:{red_flag.locale}"},
            published_at=red_flag.published_at or utcnow(),
            updated_at=red_flag.updated_at,
            title=red_flag.title,
            reviewed_on=red_flag.reviewed_on or utcnow().date(),
        )
        # Listed (and matched) in priority order: the list's title sort reads sort_title.
        row["sort_title"] = f"{red_flag.priority:010d} {red_flag.slug}"
        rows.append(row)
    store.upsert(rows)


def withdraw(red_flag: RedFlag, action: str) -> None:
    """Take the guidance out of delivery (`unpublished` or `deleted`), and announce it."""
    removed = db.session.execute(
        delete(PublishedDocument)
        .where(PublishedDocument.kind == KIND, PublishedDocument.entity_id == red_flag.id)
        .returning(PublishedDocument.entity_id, PublishedDocument.locale)
    ).all()
    if removed:
        fanout.announce([(KIND, red_flag.id, red_flag.slug, action, removed[0].locale)])


def is_live(red_flag: RedFlag) -> bool:
    query = select(PublishedDocument.entity_id).where(
        PublishedDocument.kind == KIND, PublishedDocument.entity_id == red_flag.id
    )
    return db.session.scalar(query) is not None


def reviewer_changed(person_id: uuid.UUID) -> None:
    """Re-render the published guidance that names this person as its reviewer.

    Only the stored documents are re-rendered, from their approved state: a red flag
    edited since its publication keeps its published words until published again.
    """
    published = db.session.scalars(
        select(RedFlag).where(
            RedFlag.reviewed_by_id == person_id,
            RedFlag.status == "published",
            RedFlag.deleted_at.is_(None),
        )
    ).all()
    if published:
        publish_documents(published)
