"""Editing red flags: drafts, review by a credentialed reviewer, publishing their guidance."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, or_, select

from cms_api.database import db
from cms_api.domain.clock import utcnow
from cms_api.domain.paging import Keyset, Page, aware_datetime, uuid_value
from cms_api.models import RedFlag, User
from cms_api.services.accounts.audit import Actor
from cms_api.services.discovery.red_flags import TriggerError, parse_trigger
from cms_api.services.editorial.common import (
    ContentType,
    fetch,
    invalid,
    like_pattern,
    recently_changed,
    record_create,
    record_update,
    slug_conflict,
    unique_or_conflict,
)
from cms_api.services.editorial.reviewed import Review
from cms_api.services.publishing import red_flags as published
from cms_api.services.trash import move_to_trash, take_out_of_trash

KIND = published.KIND
# Everything a reviewer signs off: a change to any of them needs a new review.
FIELDS = ("slug", "name", "locale", "priority", "triggers", "title", "body")
ACTION_FIELDS = ("action_label", "action_url")
REVIEWED_FIELDS = (*FIELDS, *ACTION_FIELDS)
# transition → the statuses it may start from.
TRANSITIONS: dict[str, tuple[str, ...]] = {
    "submit": ("draft",),
    "approve": ("in_review",),
    "request-changes": ("in_review", "approved"),
    "publish": ("approved",),
    "unpublish": ("published",),
}


def get_red_flag(
    red_flag_id: uuid.UUID, *, for_update: bool = False, include_trashed: bool = False
) -> RedFlag:
    return fetch(
        RedFlag,
        red_flag_id,
        label="red flag",
        for_update=for_update,
        include_trashed=include_trashed,
    )


def _checked_triggers(triggers: list[str]) -> list[str]:
    for trigger in triggers:
        try:
            parse_trigger(trigger)
        except TriggerError as error:
            raise invalid("triggers", str(error)) from None
    return [" ".join(trigger.split()) for trigger in triggers]


def _slug_free(slug: str, red_flag_id: uuid.UUID | None) -> None:
    query = select(RedFlag.id).where(RedFlag.slug == slug)
    if red_flag_id is not None:
        query = query.where(RedFlag.id != red_flag_id)
    if db.session.scalar(query) is not None:
        raise slug_conflict(slug)


def _state(red_flag: RedFlag) -> dict[str, Any]:
    """What the audit log compares before and after a write."""
    return {name: getattr(red_flag, name) for name in (*REVIEWED_FIELDS, "status")}


def _apply(red_flag: RedFlag, data: dict[str, Any]) -> None:
    if "triggers" in data:
        data = {**data, "triggers": _checked_triggers(data["triggers"])}
    action = data.get("action") or {}
    values = {**data, **{f"action_{name}": value for name, value in action.items()}}
    for name in REVIEWED_FIELDS:
        if name in values:
            setattr(red_flag, name, values[name])


def create_red_flag(data: dict[str, Any], actor: Actor) -> RedFlag:
    """A new red flag starts as a draft: it matches nothing until reviewed and published."""
    _slug_free(data["slug"], None)
    red_flag = RedFlag(id=uuid.uuid4(), status="draft")
    _apply(red_flag, data)
    db.session.add(red_flag)
    with unique_or_conflict("slug"):
        db.session.flush()
    record_create(KIND, red_flag.id, _state(red_flag), actor)
    return red_flag


def update_red_flag(red_flag: RedFlag, data: dict[str, Any], actor: Actor) -> RedFlag:
    """Apply a merge patch. Changed words go back to `draft` for a new review; readers keep
    the published guidance, if any, until the new words are approved and published."""
    if "slug" in data:
        _slug_free(data["slug"], red_flag.id)
    before = _state(red_flag)
    _apply(red_flag, data)
    if red_flag.status != "draft" and any(
        before[name] != getattr(red_flag, name) for name in REVIEWED_FIELDS
    ):
        red_flag.status = "draft"
    with unique_or_conflict("slug"):
        db.session.flush()
    record_update(KIND, red_flag.id, before, _state(red_flag), actor)
    return red_flag


def trash_red_flag(red_flag: RedFlag, actor: Actor) -> None:
    """Move to the trash; its guidance stops matching at once."""
    move_to_trash(red_flag, KIND, actor)
    published.withdraw(red_flag, "deleted")


def restore_red_flag(red_flag: RedFlag, actor: Actor) -> RedFlag:
    """Back from the trash as a draft: urgent guidance is shown again only once reviewed
    and published again."""
    take_out_of_trash(red_flag, KIND, actor)
    red_flag.status = "draft"
    db.session.flush()
    return red_flag


# -- review and publishing -------------------------------------------------------------


REVIEW = Review[RedFlag](kind=KIND, what="a red flag", transitions=TRANSITIONS)


def submit_red_flag(red_flag: RedFlag, actor: Actor) -> RedFlag:
    """`draft` → `in_review`."""
    return REVIEW.move(red_flag, "submit", "in_review", actor)


def approve_red_flag(
    red_flag: RedFlag, reviewer: User, actor: Actor, *, notes: str | None
) -> RedFlag:
    """`in_review` → `approved`, by a reviewer whose person holds a credential valid today."""
    person = REVIEW.sign(red_flag, reviewer)
    return REVIEW.move(red_flag, "approve", "approved", actor, reviewer=person.slug, notes=notes)


def request_red_flag_changes(red_flag: RedFlag, actor: Actor, *, notes: str | None) -> RedFlag:
    """`in_review` or `approved` → `draft`, with the reviewer's notes in the audit log."""
    return REVIEW.move(red_flag, "request-changes", "draft", actor, notes=notes)


def publish_red_flag(red_flag: RedFlag, actor: Actor) -> RedFlag:
    """`approved` → `published`: its guidance is rendered and stored, and matches from now."""
    REVIEW.check(red_flag, "publish")
    red_flag.published_at = red_flag.published_at or utcnow()
    REVIEW.move(red_flag, "publish", "published", actor)
    published.publish_documents([red_flag])
    return red_flag


def unpublish_red_flag(red_flag: RedFlag, actor: Actor) -> RedFlag:
    """`published` → `approved`: its guidance stops matching; publishing again needs no
    new review."""
    REVIEW.move(red_flag, "unpublish", "approved", actor)
    published.withdraw(red_flag, "unpublished")
    return red_flag


# -- lists ------------------------------------------------------------------------------


@dataclass(frozen=True)
class RedFlagFilters:
    status: str | None = None
    q: str | None = None
    trashed: bool = False


# Most recently changed first: (updated_at, id).
RED_FLAGS_KEYSET = Keyset("admin-red-flags", (aware_datetime, uuid_value))


def list_red_flags(filters: RedFlagFilters, *, limit: int, cursor: str | None) -> Page[RedFlag]:
    conditions: list[ColumnElement[bool]] = []
    if filters.status is not None:
        conditions.append(RedFlag.status == filters.status)
    if filters.q:
        pattern = like_pattern(filters.q)
        conditions.append(
            or_(
                RedFlag.name.ilike(pattern),
                RedFlag.title.ilike(pattern),
                RedFlag.slug.ilike(pattern),
            )
        )
    return recently_changed(
        RedFlag,
        conditions,
        trashed=filters.trashed,
        keyset=RED_FLAGS_KEYSET,
        cursor=cursor,
        limit=limit,
    )


def present(red_flag: RedFlag) -> dict[str, Any]:
    """The admin representation: the Markdown source, the review and whether it is live."""
    return {
        **{
            name: getattr(red_flag, name)
            for name in (
                "id",
                *FIELDS,
                "status",
                "reviewed_on",
                "published_at",
                "version",
                "created_at",
                "updated_at",
                "deleted_at",
            )
        },
        "triggers": list(red_flag.triggers),
        "action": {"label": red_flag.action_label, "url": red_flag.action_url},
        "reviewed_by": red_flag.reviewed_by.slug if red_flag.reviewed_by else None,
        "live": published.is_live(red_flag),
        "allowed_transitions": REVIEW.allowed(red_flag) if red_flag.deleted_at is None else [],
    }


RED_FLAGS = ContentType[RedFlag](
    kind=KIND,
    get=get_red_flag,
    update=update_red_flag,
    trash=trash_red_flag,
    restore=restore_red_flag,
    present=present,
    filters=RedFlagFilters,
    list=list_red_flags,
    create=create_red_flag,
)
