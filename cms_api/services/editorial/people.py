"""Editing people and their credentials; every change re-renders the articles that show them."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, or_

from cms_api.database import db
from cms_api.domain.clock import utcnow
from cms_api.domain.paging import Keyset, Page, aware_datetime, uuid_value
from cms_api.models import Credential, Person, PersonTranslation
from cms_api.services.accounts.audit import Actor
from cms_api.services.editorial.common import (
    ContentType,
    fetch,
    invalid,
    like_pattern,
    recently_changed,
    record_create,
    record_update,
    reviews_in,
    slug_conflict,
    slug_taken,
    unique_or_conflict,
)
from cms_api.services.editorial.texts import TranslatedText
from cms_api.services.publishing import images
from cms_api.services.publishing.cascade import person_changed
from cms_api.services.runtime import settings
from cms_api.services.trash import move_to_trash, take_out_of_trash

FIELDS = (
    "slug",
    "name",
    "honorific_prefix",
    "honorific_suffix",
    "job_title",
    "bio",
    "photo_url",
    "image_id",
    "profile_links",
    "specialties",
    "review_locales",
)
# Fields no published document shows: a change to them alone re-renders nothing.
UNRENDERED_FIELDS = frozenset({"review_locales"})
CREDENTIAL_FIELDS = (
    "kind",
    "name",
    "issuer",
    "jurisdiction",
    "number",
    "valid_from",
    "valid_until",
    "verified_at",
)


def get_person(
    person_id: uuid.UUID, *, for_update: bool = False, include_trashed: bool = False
) -> Person:
    return fetch(
        Person, person_id, label="person", for_update=for_update, include_trashed=include_trashed
    )


def _credentials(person: Person) -> list[dict[str, Any]]:
    return [
        {name: getattr(item, name) for name in CREDENTIAL_FIELDS} for item in person.credentials
    ]


def _state(person: Person) -> dict[str, Any]:
    """What the audit log compares before and after a write."""
    return {
        **{name: getattr(person, name) for name in FIELDS},
        "credentials": _credentials(person),
    }


def _apply(person: Person, data: dict[str, Any]) -> None:
    if (
        "slug" in data
        and data["slug"] != person.slug
        and slug_taken(Person, data["slug"], person.id)
    ):
        raise slug_conflict(data["slug"])
    if "image_id" in data and data["image_id"] != person.image_id:
        images.check_attachable(data["image_id"], "image_id")
    if "review_locales" in data:
        data = {**data, "review_locales": _review_locales(data["review_locales"])}
    for name in FIELDS:
        if name in data:
            setattr(person, name, data[name])
    if "credentials" in data and data["credentials"] != _credentials(person):
        # Replaced whole: the list an editor sends is the person's credentials now.
        person.credentials = [
            Credential(position=position, **item)
            for position, item in enumerate(data["credentials"])
        ]
        # They live in their own table; touching the row bumps the version (and so the
        # ETag) even when only they changed.
        person.updated_at = utcnow()


def _review_locales(tags: list[str]) -> list[str]:
    """Each tag once; a 422 for one that covers none of the site's locales (a typo, or a
    language the site does not publish in)."""
    offered = settings().locales
    unknown = [tag for tag in tags if not any(reviews_in([tag], locale) for locale in offered)]
    if unknown:
        raise invalid(
            "review_locales",
            f"Not a locale of this site nor the language of one ({', '.join(offered)}): "
            f"{', '.join(unknown)}.",
        )
    return list(dict.fromkeys(tags))


def create_person(data: dict[str, Any], actor: Actor) -> Person:
    if slug_taken(Person, data["slug"], None):
        raise slug_conflict(data["slug"])
    person = Person(
        id=uuid.uuid4(), profile_links=[], specialties=[], review_locales=[], credentials=[]
    )
    _apply(person, data)
    db.session.add(person)
    with unique_or_conflict("slug"):
        db.session.flush()
    # No published work names a new person yet, so there is nothing to re-render.
    record_create("person", person.id, _state(person), actor)
    return person


def update_person(person: Person, data: dict[str, Any], actor: Actor) -> Person:
    """Apply a merge patch: only the fields sent change; credentials are replaced whole."""
    before = _state(person)
    _apply(person, data)
    with unique_or_conflict("slug"):
        db.session.flush()
    after = _state(person)
    if record_update("person", person.id, before, after, actor) and any(
        before[name] != after[name] for name in after if name not in UNRENDERED_FIELDS
    ):
        person_changed(person.id)
    return person


def trash_person(person: Person, actor: Actor) -> None:
    """Move to the trash: the profile leaves delivery, and the articles naming the person
    as an author re-render without them. Nothing is deleted."""
    move_to_trash(person, "person", actor)
    person_changed(person.id)


def restore_person(person: Person, actor: Actor) -> Person:
    take_out_of_trash(person, "person", actor)
    person_changed(person.id)
    return person


@dataclass(frozen=True)
class PersonFilters:
    q: str | None = None
    specialty: str | None = None
    trashed: bool = False


# Most recently changed first: (updated_at, id).
PEOPLE_KEYSET = Keyset("admin-people", (aware_datetime, uuid_value))


def list_people(filters: PersonFilters, *, limit: int, cursor: str | None) -> Page[Person]:
    conditions: list[ColumnElement[bool]] = []
    if filters.q:
        pattern = like_pattern(filters.q)
        conditions.append(or_(Person.name.ilike(pattern), Person.slug.ilike(pattern)))
    if filters.specialty:
        conditions.append(Person.specialties.contains([filters.specialty]))
    return recently_changed(
        Person,
        conditions,
        trashed=filters.trashed,
        keyset=PEOPLE_KEYSET,
        cursor=cursor,
        limit=limit,
    )


def present(person: Person) -> dict[str, Any]:
    """The admin representation: the Markdown bio and every credential."""
    return {
        **{
            name: getattr(person, name)
            for name in ("id", *FIELDS, "version", "created_at", "updated_at", "deleted_at")
        },
        "credentials": _credentials(person),
    }


PEOPLE = ContentType[Person](
    kind="person",
    get=get_person,
    update=update_person,
    trash=trash_person,
    restore=restore_person,
    present=present,
    filters=PersonFilters,
    list=list_people,
    create=create_person,
)


# A person's job title and bio in the site's other locales; saving one re-renders the
# profile and the articles showing the person, as an edit of the person does.
PERSON_TEXTS = TranslatedText[Person, PersonTranslation](
    kind="person",
    model=PersonTranslation,
    fields=("job_title", "bio"),
    changed=person_changed,
)
