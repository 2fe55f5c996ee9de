"""Credential validity: on a given day, for signing off a review, and as profiles show it."""

from __future__ import annotations

from datetime import date

from sqlalchemy import Boolean, Date, and_, column, func, or_, select, true
from sqlalchemy.dialects.postgresql import JSONB

from cms_api.database import db
from cms_api.models import Credential, Person, PublishedDocument


def valid_on(credential: Credential, day: date) -> bool:
    """Valid from `valid_from` to `valid_until`, both days included; an open bound is open."""
    return (credential.valid_from is None or credential.valid_from <= day) and (
        credential.valid_until is None or day <= credential.valid_until
    )


def reviewer_problems(person: Person | None, today: date) -> list[str]:
    """Why this person cannot sign off medical content today; nothing when they can."""
    if person is None:
        return ["The reviewer's account is not linked to a person."]
    if person.deleted_at is not None:
        return [f"The reviewer's person ({person.slug}) is in the trash."]
    if not person.credentials:
        return [f"{person.name} has no credentials on record."]
    if any(valid_on(item, today) for item in person.credentials):
        return []
    reasons = []
    for item in person.credentials:
        if item.valid_until is not None and item.valid_until < today:
            reasons.append(f"{item.name} expired on {item.valid_until.isoformat()}")
        elif item.valid_from is not None:
            reasons.append(f"{item.name} is valid only from {item.valid_from.isoformat()}")
    return [
        f"None of {person.name}'s credentials is valid on {today.isoformat()}: "
        + "; ".join(reasons)
        + "."
    ]


def shown_with_stale_validity(today: date) -> list[Person]:
    """People whose published profile shows a credential's `valid` flag that is wrong today.

    A day passing changes validity without any write: this compares what the stored
    profiles say with `valid_on`, so a job run every minute re-renders each person once,
    the first time it runs after a credential starts or ends, and then finds nothing.
    Profiles are few (one per person with published work); article bodies are not read.
    """
    shown = (
        select(PublishedDocument.entity_id)
        .select_from(PublishedDocument)
        .join(
            func.jsonb_array_elements(func.cast(PublishedDocument.body, JSONB)["credentials"])
            .table_valued("value")
            .alias("credential"),
            true(),
        )
        .where(PublishedDocument.kind == "person")
    )
    credential = column("credential", JSONB)
    flag = credential.op("->>")("valid").cast(Boolean)
    starts = credential.op("->>")("valid_from").cast(Date)
    ends = credential.op("->>")("valid_until").cast(Date)
    valid_today = and_(or_(starts.is_(None), starts <= today), or_(ends.is_(None), ends >= today))
    stale = shown.where(flag.is_distinct_from(valid_today))
    return list(
        db.session.scalars(select(Person).where(Person.id.in_(stale)).order_by(Person.slug))
    )
