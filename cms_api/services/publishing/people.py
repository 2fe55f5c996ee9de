"""Profile documents: each person with published work, what they wrote and reviewed, per locale."""

from __future__ import annotations

import uuid
from collections.abc import Iterable

from sqlalchemy import select, true
from sqlalchemy.orm import selectinload

from cms_api.database import db, none_of, one_of
from cms_api.domain.clock import utcnow
from cms_api.models import Person, PersonTranslation, PublishedDocument
from cms_api.services import runtime
from cms_api.services.publishing import images, search_index, store
from cms_api.services.publishing import render as rendering
from cms_api.services.publishing.listed import embedded_articles
from cms_api.services.publishing.render_lock import hold_render_lock


def refresh_people(
    person_ids: Iterable[uuid.UUID], *, locales: Iterable[str] | None = None
) -> None:
    """Render the public profile of each person who has published work, in every locale.

    A person has a profile in the default locale, and one per translation (whose id it
    takes) listing their work published in that locale, while they have some there;
    `locales` limits the rendering to those locales' profiles. A translation removed
    since loses its profile.
    """
    ids = list(set(person_ids))
    if not ids:
        return
    hold_render_lock()
    people = db.session.scalars(
        select(Person)
        .where(one_of(Person.id, ids))  # an import may name any number
        .options(selectinload(Person.credentials), selectinload(Person.translations))
    ).all()
    default = runtime.settings().default_locale
    # Each profile: a person in the default locale, or one of their translations.
    pages: list[tuple[Person, str, PersonTranslation | None]] = []
    for person in people:
        pages.append((person, default, None))
        pages += [(person, item.locale, item) for item in person.translations]
    if locales is not None:
        wanted = set(locales)
        pages = [page for page in pages if page[1] in wanted]
    images.preload(person.image_id for person in people)
    listed = embedded_articles(
        {
            (locale, f"{role}:{person.slug}")
            for person, locale, _ in pages
            for role in ("author", "reviewer")
        }
    )
    # Read all it renders: in bulk, the search index may have the connection meanwhile.
    search_index.start_queued()
    rows, hidden = [], []
    now = utcnow()
    for person, locale, translation in pages:
        entity_id = translation.id if translation is not None else person.id
        authored, authored_total = listed[(locale, f"author:{person.slug}")]
        reviewed, reviewed_total = listed[(locale, f"reviewer:{person.slug}")]
        if person.deleted_at is not None or not (authored_total or reviewed_total):
            hidden.append(entity_id)
            continue
        labels = rendering.Labels(
            locale, people={person.slug: translation} if translation is not None else {}
        )
        document = rendering.person_document(
            person, authored, authored_total, reviewed, reviewed_total, labels
        )
        tags = {f"role:{role}" for role in document["roles"]}
        # The shared part (name, credentials, image) and the translated text each date it.
        edited = [person.updated_at or now]
        if translation is not None:
            edited.append(translation.updated_at or now)
        rows.append(
            store.row(
                "person",
                entity_id,
                slug=person.slug,
                document=document,
                summary={
                    **rendering.person_summary(person, labels),
                    "roles": document["roles"],
                    "locale": locale,
                },
                tags=tags,
                published_at=(translation or person).created_at or now,
                updated_at=max(edited),
                title=person.name,
                reviewed_on=max(edited).date(),
                locale=locale,
            )
        )
    if hidden:
        store.withdraw("person", one_of(PublishedDocument.entity_id, hidden))
    _withdraw_removed_translations(people, default)
    store.upsert(rows)


def _withdraw_removed_translations(people: Iterable[Person], default: str) -> None:
    """Withdraw the profiles of these people's translations that no longer exist (they
    share the person's slug in another locale)."""
    people = list(people)
    current = [item.id for person in people for item in person.translations]
    store.withdraw(
        "person",
        one_of(PublishedDocument.slug, [person.slug for person in people]),
        PublishedDocument.locale != default,
        none_of(PublishedDocument.entity_id, current) if current else true(),
    )
