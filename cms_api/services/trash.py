"""The trash every versioned content type shares: a mark, never a deletion, and its audit."""

from __future__ import annotations

from typing import TypeVar

from cms_api.database import db
from cms_api.domain.clock import utcnow
from cms_api.domain.errors import Conflict
from cms_api.models import Article, Faq, Image, Person, RedFlag, RelatedLink, Topic
from cms_api.services.accounts import audit
from cms_api.services.accounts.audit import Actor

# The content types that have a version column and a trash.
Trashable = TypeVar("Trashable", Article, Faq, Image, Person, RedFlag, RelatedLink, Topic)


def move_to_trash(entity: Trashable, kind: str, actor: Actor) -> None:
    """Mark trashed (nothing is deleted) and audit it; the caller re-renders."""
    entity.deleted_at = utcnow()
    db.session.flush()
    audit.record(
        actor_id=actor.user_id,
        action=f"{kind}.trash",
        target_type=kind,
        target_id=entity.id,
        before={"deleted_at": None},
        after={"deleted_at": entity.deleted_at.isoformat()},
        request_id=actor.request_id,
    )


def take_out_of_trash(entity: Trashable, kind: str, actor: Actor) -> None:
    """Clear the trash mark and audit it; the caller re-renders."""
    if entity.deleted_at is None:
        raise Conflict(f"The {kind} is not in the trash.")
    trashed_at = entity.deleted_at
    entity.deleted_at = None
    db.session.flush()
    audit.record(
        actor_id=actor.user_id,
        action=f"{kind}.restore",
        target_type=kind,
        target_id=entity.id,
        before={"deleted_at": trashed_at.isoformat()},
        after={"deleted_at": None},
        request_id=actor.request_id,
    )
