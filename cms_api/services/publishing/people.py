"""Profile documents: each person with published work, listing what they wrote and reviewed."""

from __future__ import annotations

import uuid
from collections.abc import Iterable

from sqlalchemy import select
from sqlalchemy.orm import selectinload

from cms_api.database import db
from cms_api.domain.clock import utcnow
from cms_api.models import Person, PublishedDocument
from cms_api.services.publishing import images, store
from cms_api.services.publishing import render as rendering
from cms_api.services.publishing.listed import embedded_articles
from cms_api.services.publishing.render_lock import hold_render_lock


def refresh_people(person_ids: Iterable[uuid.UUID]) -> None:
    """Render the public profile of each person who has published work."""
    ids = list(set(person_ids))
    if not ids:
        return
    hold_render_lock()
    people = db.session.scalars(
        select(Person).where(Person.id.in_(ids)).options(selectinload(Person.credentials))
    ).all()
    images.preload(person.image_id for person in people)
    listed = embedded_articles(
        {f"{role}:{person.slug}" for person in people for role in ("author", "reviewer")}
    )
    rows, hidden = [], []
    for person in people:
        authored, authored_total = listed[f"author:{person.slug}"]
        reviewed, reviewed_total = listed[f"reviewer:{person.slug}"]
        if person.deleted_at is not None or not (authored_total or reviewed_total):
            hidden.append(person.id)
            continue
        document = rendering.person_document(
            person, authored, authored_total, reviewed, reviewed_total
        )
        tags = {f"role:{role}" for role in document["roles"]}
        now = utcnow()
        rows.append(
            store.row(
                "person",
                person.id,
                slug=person.slug,
                document=document,
                summary={**rendering.person_summary(person), "roles": document["roles"]},
                tags=tags,
                published_at=person.created_at or now,
                updated_at=person.updated_at or now,
                title=person.name,
                reviewed_on=(person.updated_at or now).date(),
            )
        )
    if hidden:
        store.withdraw("person", PublishedDocument.entity_id.in_(hidden))
    store.upsert(rows)
